"""flannel.installed per DaemonSet and per node, node placement, and the dual-stack podCIDR rules.

The DaemonSet shapes are those of public flannel manifests: v0.10 (`nodeSelector
beta.kubernetes.io/arch`), v0.11-v0.13 (required node affinity on kubernetes.io/os + arch),
and the current single multi-arch DaemonSet; net-conf.json as flannel and k3s write it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from multus_check.checks.engine import run_checks
from multus_check.domain import placement
from multus_check.model import Finding, Status
from multus_check.snapshot import Snapshot
from tests.conftest import fixture_snapshot


def arch_node(name: str, arch: str, beta: bool = True) -> dict[str, Any]:
    labels = {"kubernetes.io/arch": arch, "kubernetes.io/os": "linux", "kubernetes.io/hostname": name}
    if beta:
        labels |= {"beta.kubernetes.io/arch": arch, "beta.kubernetes.io/os": "linux"}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}


def flannel_ds(name: str, *, selector: dict[str, str] | None = None, affinity_arch: str | None = None,
               ready: int = 1, desired: int = 1, ns: str = "kube-system") -> dict[str, Any]:
    spec: dict[str, Any] = {"hostNetwork": True, "containers": [{"name": "kube-flannel",
                                                                 "image": "quay.io/coreos/flannel:v0.11.0"}]}
    if selector:
        spec["nodeSelector"] = selector
    if affinity_arch:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "beta.kubernetes.io/os", "operator": "In", "values": ["linux"]},
                                  {"key": "beta.kubernetes.io/arch", "operator": "In", "values": [affinity_arch]}]}]}}}
    return {"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": "flannel", "tier": "node"}},
            "spec": {"template": {"metadata": {"labels": {"app": "flannel"}}, "spec": spec}},
            "status": {"desiredNumberScheduled": desired, "numberReady": ready}}


def test_placement_follows_node_selector_and_required_affinity_like_the_scheduler() -> None:
    amd, pi = arch_node("n1", "amd64"), arch_node("pi", "arm64")
    assert placement.selects(flannel_ds("a", selector={"beta.kubernetes.io/arch": "amd64"}), amd)
    assert not placement.selects(flannel_ds("a", selector={"beta.kubernetes.io/arch": "amd64"}), pi)
    assert placement.selects(flannel_ds("b", affinity_arch="arm64"), pi)
    assert not placement.selects(flannel_ds("b", affinity_arch="arm64"), arch_node("new", "arm64", beta=False))
    assert placement.selects(flannel_ds("c"), pi), "no constraint selects every node"


@pytest.mark.parametrize(("expr", "labels", "selected"), [
    ({"key": "zone", "operator": "NotIn", "values": ["a"]}, {}, True),  # NotIn also matches a missing label
    ({"key": "zone", "operator": "NotIn", "values": ["a"]}, {"zone": "a"}, False),
    ({"key": "gpu", "operator": "Exists"}, {"gpu": ""}, True),
    ({"key": "gpu", "operator": "DoesNotExist"}, {"gpu": "1"}, False),
    ({"key": "cores", "operator": "Gt", "values": ["4"]}, {"cores": "8"}, True),
    ({"key": "cores", "operator": "Lt", "values": ["4"]}, {"cores": "eight"}, False),
])
def test_placement_operators_match_the_kubernetes_semantics(expr: dict[str, Any], labels: dict[str, str],
                                                             selected: bool) -> None:
    ds = flannel_ds("x")
    ds["spec"]["template"]["spec"]["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [expr]}]}}}
    node = {"kind": "Node", "metadata": {"name": "n", "labels": labels}}
    assert placement.selects(ds, node) is selected


def test_placement_terms_are_ored_and_an_empty_term_list_selects_nothing() -> None:
    ds = flannel_ds("x")
    terms: list[dict[str, Any]] = [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["pi"]}]},
                                   {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}]
    ds["spec"]["template"]["spec"]["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": terms}}}
    assert placement.selects(ds, arch_node("pi", "arm64")) and placement.selects(ds, arch_node("n1", "amd64"))
    assert not placement.selects(ds, arch_node("pi2", "arm64"))
    terms.clear()
    assert not placement.selects(ds, arch_node("n1", "amd64"))


def with_flannel(daemonsets: list[dict[str, Any]], nodes: list[dict[str, Any]]) -> Snapshot:
    snap = fixture_snapshot("healthy-k3s")
    snap.objects = [o for o in snap.objects if o["kind"] not in ("DaemonSet", "Node")] + daemonsets + nodes
    return snap


def by_subject(snap: Snapshot, check: str) -> dict[str, Finding]:
    return {f.subject: f for f in run_checks(snap, include=[check])}


def test_each_per_arch_daemonset_is_judged_and_each_node_by_the_one_that_selects_it() -> None:
    nodes = [arch_node("n1", "amd64"), arch_node("n2", "amd64"), arch_node("pi", "arm64")]
    sets = [flannel_ds("kube-flannel-ds-amd64", selector={"beta.kubernetes.io/arch": "amd64"}, ready=2, desired=2),
            flannel_ds("kube-flannel-ds-arm64", selector={"beta.kubernetes.io/arch": "arm64"}, ready=0, desired=1),
            flannel_ds("kube-flannel-ds-s390x", selector={"beta.kubernetes.io/arch": "s390x"}, ready=0, desired=0)]
    got = by_subject(with_flannel(sets, nodes), "flannel.installed")
    assert set(got) == {"daemonset/kube-system/kube-flannel-ds-amd64", "daemonset/kube-system/kube-flannel-ds-arm64",
                        "daemonset/kube-system/kube-flannel-ds-s390x"}
    amd, arm, s390 = (got[f"daemonset/kube-system/kube-flannel-ds-{a}"] for a in ("amd64", "arm64", "s390x"))
    assert amd.status is Status.PASS and amd.evidence["selected_nodes"] == ["n1", "n2"]
    assert arm.status is Status.FAIL and "0 of 1 pods ready" in arm.message and "pi" in arm.message
    assert s390.status is Status.SKIP and "selects none of the 3 nodes" in s390.message


def test_a_node_that_no_flannel_daemonset_selects_fails_by_name() -> None:
    nodes = [arch_node("n1", "amd64"), arch_node("pi", "arm64")]
    got = by_subject(with_flannel([flannel_ds("kube-flannel-ds-amd64", affinity_arch="amd64")], nodes),
                     "flannel.installed")
    assert got["daemonset/kube-system/kube-flannel-ds-amd64"].status is Status.PASS
    pi = got["node/pi"]
    assert pi.status is Status.FAIL and "arch=arm64" in pi.message and "beta.kubernetes.io/arch In [amd64]" in pi.message
    assert "multi-arch" in pi.remediation and "n1" not in {s.removeprefix("node/") for s in got}


def test_a_node_selected_by_two_flannel_daemonsets_warns() -> None:
    nodes = [arch_node("n1", "amd64")]
    sets = [flannel_ds("kube-flannel-ds"), flannel_ds("kube-flannel-ds", ns="kube-flannel")]
    got = by_subject(with_flannel(sets, nodes), "flannel.installed")
    assert got["node/n1"].status is Status.WARN and "kube-system/kube-flannel-ds" in got["node/n1"].message


def test_one_multi_arch_daemonset_passes_naming_the_nodes_it_runs_on() -> None:
    (f,) = run_checks(fixture_snapshot("healthy-k3s"), include=["flannel.installed"])
    assert f.status is Status.PASS and "ready on 3 of the 3 nodes it selects" in f.message
    assert f.evidence["selected_nodes"] == ["k3s-server", "k3s-agent-1", "k3s-agent-2"]


def dual_stack(net_conf: dict[str, Any], v6: dict[str, str]) -> Snapshot:
    snap = fixture_snapshot("healthy-k3s")
    for obj in snap.objects:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == "kube-flannel-cfg":
            obj["data"]["net-conf.json"] = json.dumps(net_conf)
        if obj["kind"] == "Node" and obj["metadata"]["name"] in v6:
            obj["spec"]["podCIDRs"] = [obj["spec"]["podCIDR"], v6[obj["metadata"]["name"]]]
    return snap


NET = {"Network": "10.42.0.0/15", "Backend": {"Type": "vxlan"}}


def test_an_ipv6_podcidr_is_judged_against_ipv6network_never_against_the_ipv4_network() -> None:
    got = by_subject(dual_stack({**NET, "EnableIPv6": True, "IPv6Network": "fd00:42::/56"},
                                {"k3s-server": "fd00:42::/64", "k3s-agent-1": "fd00:43::/64"}),
                     "flannel.network-contains-pod-cidrs")
    ok, bad = got["node/k3s-server"], got["node/k3s-agent-1"]
    assert ok.status is Status.PASS
    assert "podCIDR 10.42.0.0/24 lies inside flannel Network 10.42.0.0/15" in ok.message
    assert "IPv6 podCIDR fd00:42::/64 inside IPv6Network fd00:42::/56" in ok.message
    assert "fd00:42::/64 lies inside flannel Network" not in ok.message
    assert bad.status is Status.FAIL and 'doesn\'t contain "fd00:43::/64" IPv6 PodCIDR of the "k3s-agent-1" node' in bad.message


def test_ipv6_enabled_without_ipv6network_fails_and_k3s_style_catch_all_passes() -> None:
    got = by_subject(dual_stack({**NET, "EnableIPv6": True}, {"k3s-server": "fd00:42::/64"}),
                     "flannel.network-contains-pod-cidrs")
    assert got["node/k3s-server"].status is Status.FAIL and "no IPv6Network" in got["node/k3s-server"].message
    k3s = {"Network": "10.42.0.0/15", "EnableIPv6": False, "EnableIPv4": True, "IPv6Network": "::/0",
           "Backend": {"Type": "vxlan"}}
    got = by_subject(dual_stack(k3s, {"k3s-server": "fd00:42::/64"}), "flannel.network-contains-pod-cidrs")
    assert got["node/k3s-server"].status is Status.PASS and "EnableIPv6 is false" in got["node/k3s-server"].message


def test_an_ipv6_podcidr_without_ipv6network_and_ipv6_off_warns_naming_both_flannel_behaviours() -> None:
    got = by_subject(dual_stack(NET, {"k3s-agent-2": "fd00:42:0:2::/64"}), "flannel.network-contains-pod-cidrs")
    f = got["node/k3s-agent-2"]
    assert f.status is Status.WARN and "but doesn't exist in the flannel net config" in f.message
    assert "current flannel ignores it" in f.message and got["node/k3s-server"].status is Status.PASS


def test_an_unparsable_ipv6network_fails_as_flanneld_refuses_the_whole_config() -> None:
    (f,) = run_checks(dual_stack({**NET, "IPv6Network": "fd00:42::/999"}, {}),
                      include=["flannel.network-contains-pod-cidrs"])
    assert f.status is Status.FAIL and "is not an IPv6 CIDR" in f.message


def ipv6_only(net_conf: dict[str, Any], v6: dict[str, str]) -> Snapshot:
    snap = dual_stack(net_conf, {})
    for obj in snap.kind("Node"):
        obj["spec"]["podCIDR"] = v6.get(obj["metadata"]["name"], "")
        obj["spec"]["podCIDRs"] = [v6[obj["metadata"]["name"]]] if obj["metadata"]["name"] in v6 else []
    snap.invalidate()
    return snap


V6_ONLY = {"EnableIPv4": False, "EnableIPv6": True, "IPv6Network": "fd42::/56", "Backend": {"Type": "vxlan"}}


def test_an_ipv6_only_flannel_needs_no_network_and_judges_the_ipv6_podcidrs() -> None:
    cidrs = {"k3s-server": "fd42::/64", "k3s-agent-1": "fd42:0:0:1::/64", "k3s-agent-2": "fd43::/64"}
    got = by_subject(ipv6_only(V6_ONLY, cidrs), "flannel.network-contains-pod-cidrs")
    assert got["node/k3s-server"].status is Status.PASS and "flannel runs IPv6 only" in got["node/k3s-server"].message
    assert got["node/k3s-agent-2"].status is Status.FAIL and "IPv6 podCIDR fd43::/64 lies outside" in got["node/k3s-agent-2"].message
    got = by_subject(ipv6_only(V6_ONLY, {"k3s-server": "fd42::/64"}), "flannel.network-contains-pod-cidrs")
    assert got["node/k3s-agent-1"].status is Status.FAIL and "no IPv6 podCIDR" in got["node/k3s-agent-1"].message


def test_an_ipv6_only_flannel_is_not_taken_for_a_broken_ipv4_config_by_the_cidr_checks() -> None:
    snap = ipv6_only(V6_ONLY, {"k3s-server": "fd42::/64", "k3s-agent-1": "fd42:0:0:1::/64", "k3s-agent-2": "fd42:0:0:2::/64"})
    found = {f.check: f for f in run_checks(snap, include=["cidr.*"])}
    assert found["cidr.supernet-safety"].status is Status.SKIP
    routing = found["cidr.service-routing"]
    assert routing.status is Status.ERROR and "IPv6 only" in routing.message and "unknown" not in routing.message


@pytest.mark.parametrize(("conf", "says"), [({**V6_ONLY, "EnableIPv6": False}, "without EnableIPv6"),
                                            ({**V6_ONLY, "IPv6Network": "10.0.0.0/8"}, "is not an IPv6 CIDR")])
def test_ipv4_disabled_without_a_usable_ipv6_network_fails(conf: dict[str, Any], says: str) -> None:
    (f,) = run_checks(ipv6_only(conf, {"k3s-server": "fd42::/64"}), include=["flannel.network-contains-pod-cidrs"])
    assert f.status is Status.FAIL and says in f.message
