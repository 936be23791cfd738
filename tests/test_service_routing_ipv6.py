"""cidr.service-routing's IPv6 twin: on a cluster that serves IPv6, a NAD whose chain accepts RAs
without accept_ra_defrtr=0 gives net1 a second IPv6 default route; the fixes split the work."""

from __future__ import annotations

import json
from typing import Any

from multus_check.checks.engine import run_checks
from multus_check.fixes.plan import PlanContext
from multus_check.fixes.registry import FIXES
from multus_check.model import Finding, Status
from multus_check.snapshot import Snapshot
from tests.conftest import fixture_snapshot

SR = "cidr.service-routing"
MACVLAN = {"type": "macvlan", "master": "eth0", "mode": "bridge", "ipam": {"type": "dhcp", "priority": 100}}


def _obj(snap: Snapshot, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in snap.objects if o["kind"] == kind and o["metadata"]["name"] == name)


def _snap(service_cidr: str | None = "10.43.0.0/16,fd00:43::/112", sysctl: dict[str, str] | None = None,
          nad: bool = True) -> Snapshot:
    """healthy-k3s, dual stack through k3s's --service-cidr, the NAD's tuning sysctls replaced (DHCP with a
    route priority, so the IPv4 side holds by S3 and only IPv6 is judged)."""
    snap = fixture_snapshot("healthy-k3s")
    snap.facts.pop("serviceCIDR", None)
    if service_cidr:
        node = _obj(snap, "Node", "k3s-server")
        args = json.loads(node["metadata"]["annotations"]["k3s.io/node-args"])
        node["metadata"]["annotations"]["k3s.io/node-args"] = json.dumps([*args, "--service-cidr", service_cidr])
    conf = {"cniVersion": "0.3.1", "name": "macvlan-lan", "plugins": [MACVLAN, {"type": "tuning", "sysctl": sysctl or {
        "net.ipv6.conf.IFNAME.accept_ra": "1", "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"}}]}
    _obj(snap, "NetworkAttachmentDefinition", "macvlan-lan")["spec"]["config"] = json.dumps(conf)
    pod = _obj(snap, "Pod", "home-assistant-0")
    status = json.loads(pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/network-status"])
    status[1].pop("gateway")  # DHCP with priority: no default gateway on net1
    pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/network-status"] = json.dumps(status)
    if not nad:
        snap.objects = [o for o in snap.objects if o["kind"] not in ("NetworkAttachmentDefinition", "Pod")]
    snap.invalidate()
    return snap


def _routing(snap: Snapshot) -> Finding:
    (f,) = run_checks(snap, include=[SR])
    return f


def test_an_ipv4_only_cluster_is_not_judged_for_ipv6() -> None:
    f = _routing(_snap(service_cidr=None))
    assert f.status is Status.PASS and "IPv6" not in f.message and f.evidence["ipv6_evidence"] == []


def test_a_dual_stack_cluster_fails_a_nad_that_takes_the_lan_routers_ipv6_default_route() -> None:
    f = _routing(_snap())
    assert f.status is Status.FAIL
    assert "fd00:43::/112" in f.message and "default via fe80::... dev net1 proto ra metric 1024" in f.message
    assert "NAD default/macvlan-lan accepts Router Advertisements" in f.message
    assert '"net.ipv6.conf.IFNAME.accept_ra_defrtr\\": \\"0\\"' in json.dumps(f.remediation)
    assert f.evidence["ipv4_held"] is True and f.evidence["ipv6_ra_nads"] == ["default/macvlan-lan"]


def test_the_kernel_default_accept_ra_counts_as_accepting_ras() -> None:
    f = _routing(_snap(sysctl={"net.core.somaxconn": "500"}))
    assert f.status is Status.FAIL and "accept_ra at the kernel default 1" in f.message


def test_accept_ra_defrtr_0_or_ras_off_or_ipv6_off_keep_net1_without_a_default_route() -> None:
    for sysctl in ({"net.ipv6.conf.IFNAME.accept_ra": "1", "net.ipv6.conf.IFNAME.accept_ra_defrtr": "0"},
                   {"net.ipv6.conf.net1.accept_ra": "0"},
                   {"net.ipv6.conf.all.disable_ipv6": "1"}):
        f = _routing(_snap(sysctl=sysctl))
        assert f.status is Status.PASS, (sysctl, f.message)
        assert "IPv6 (k3s server node-args --service-cidr: fd00:43::/112): S3" in f.message


def test_an_ipv6_service_cidr_inside_flannels_ipv6_network_holds_by_s1() -> None:
    snap = _snap(service_cidr="10.43.0.0/16,fd00:42:0:ffff::/112")
    cm = _obj(snap, "ConfigMap", "kube-flannel-cfg")
    cm["data"]["net-conf.json"] = json.dumps({"Network": "10.42.0.0/15", "EnableIPv6": True,
                                              "IPv6Network": "fd00:42::/48", "Backend": {"Type": "vxlan"}})
    snap.invalidate()
    f = _routing(snap)
    assert f.status is Status.PASS and "S1 (IPv6 Service CIDR inside flannel IPv6Network fd00:42::/48)" in f.message


def test_an_ipv6_cluster_ip_or_the_apiserver_flag_shows_ipv6_without_a_k3s_flag() -> None:
    snap = _snap(service_cidr=None)
    svc = _obj(snap, "Service", "kube-dns")
    svc["spec"]["clusterIPs"] = [svc["spec"]["clusterIP"], "fd00:43::a"]
    snap.invalidate()
    f = _routing(snap)
    assert f.status is Status.FAIL and "Services with an IPv6 clusterIP: fd00:43::a" in f.message
    snap = _snap(service_cidr=None)
    snap.objects.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "kube-apiserver-cp", "namespace": "kube-system"},
                         "spec": {"containers": [{"name": "kube-apiserver", "command": [
                             "kube-apiserver", "--service-cluster-ip-range=10.96.0.0/12,fd00:96::/108"]}]}})
    snap.invalidate()
    f = _routing(snap)
    assert f.status is Status.FAIL and "kube-system/kube-apiserver-cp --service-cluster-ip-range: fd00:96::/108" in f.message


def test_without_a_nad_a_dual_stack_cluster_only_warns() -> None:
    f = _routing(_snap(nad=False))
    assert f.status is Status.WARN and f.message.startswith("No NAD exists yet")


def test_only_nad_ipv6_ready_plans_for_the_ipv6_side_and_sets_accept_ra_defrtr() -> None:
    snap = _snap()
    findings = run_checks(snap)
    flannel = FIXES["flannel-service-routes"].plan(snap, findings, PlanContext())
    assert not flannel.changes and "IPv4 Service routing holds" in flannel.summary
    plan = FIXES["nad-ipv6-ready"].plan(snap, findings, PlanContext())
    (change,) = plan.changes
    tuning = json.loads(change.after["spec"]["config"])["plugins"][1]
    assert tuning["sysctl"]["net.ipv6.conf.IFNAME.accept_ra_defrtr"] == "0"
    assert tuning["sysctl"]["net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen"] == "64"


def _confdir_nad(snap: Snapshot, conf: dict[str, Any] | None) -> Snapshot:
    """The NAD without spec.config; `conf` (when given) in every node's Multus confDir, else none collected."""
    nad = _obj(snap, "NetworkAttachmentDefinition", "macvlan-lan")
    nad["spec"] = {}
    for facts in snap.nodes.values():
        facts.dirs.pop("/etc/cni/multus/net.d", None)
        if conf is not None:
            facts.files["/etc/cni/multus/net.d/macvlan-lan.conflist"] = json.dumps(conf)
    snap.invalidate()
    return snap


def test_a_nad_read_from_the_confdir_is_judged_from_the_nodes_file_and_never_passes_unseen() -> None:
    """A NAD without spec.config was counted as "sets accept_ra_defrtr=0 or takes no RAs" unseen."""
    f = _routing(_confdir_nad(_snap(), None))
    assert f.status is Status.ERROR and f.message.startswith("Could not evaluate IPv6:")
    assert "default/macvlan-lan have no spec.config" in f.message and "without --no-node-facts" in f.remediation
    assert f.evidence["ipv6_unjudged_nads"] == ["default/macvlan-lan"]
    conf = {"cniVersion": "0.3.1", "name": "macvlan-lan", "plugins": [MACVLAN]}
    f = _routing(_confdir_nad(_snap(), conf))
    assert f.status is Status.FAIL and "NAD default/macvlan-lan accepts Router Advertisements" in f.message
    conf["plugins"] = [MACVLAN, {"type": "tuning", "sysctl": {"net.ipv6.conf.IFNAME.accept_ra_defrtr": "0"}}]
    f = _routing(_confdir_nad(_snap(), conf))
    assert f.status is Status.PASS and "IPv6 (k3s server node-args --service-cidr: fd00:43::/112): S3" in f.message


def test_a_literal_interface_name_in_the_tuning_keys_passes_ipv6_ready_and_says_where_it_is_right() -> None:
    literal = _snap(service_cidr=None, sysctl={"net.ipv6.conf.net1.accept_ra": "1",
                                               "net.ipv6.conf.net1.accept_ra_rt_info_max_plen": "64"})
    (f,) = run_checks(literal, include=["nad.ipv6-ready"])
    assert f.status == Status.PASS and ("Key(s) net.ipv6.conf.net1.accept_ra, net.ipv6.conf.net1.accept_ra_rt_info_max_plen "
                                        "name the interface literally") in f.message
    (g,) = run_checks(_snap(service_cidr=None), include=["nad.ipv6-ready"])
    assert g.status == Status.PASS and "literally" not in g.message
