"""Planning is pure: snapshot and findings in, plan out, with the remedy flannel-k3s.md §3.4/§6 prescribes."""

from __future__ import annotations

import copy

from multus_check.fixes.flannel import routed_cni_conf, widened_net_conf
from multus_check.fixes.plan import PlanContext
from multus_check.fixes.registry import FIXES, plan_all
from multus_check.fixes.render import render_plan
from multus_check.pipeline.fix_run import static_findings
from multus_check.snapshot import Snapshot, load_snapshot
from tests.api.scenario import FIXTURES

CTX = PlanContext(now="2026-11-28T05:00:00Z")


def _snap(name: str) -> Snapshot:
    return load_snapshot(FIXTURES / name)


def test_a_healthy_cluster_plans_nothing() -> None:
    snap = _snap("healthy-k3s")
    assert plan_all(snap, static_findings(snap), CTX) == []
    assert "Nothing to fix" in render_plan([])


def test_a_lan_subnet_inside_the_supernet_makes_the_fix_add_routes_instead_of_widening() -> None:
    snap = _snap("cidr-service-routing")
    node = sorted(snap.nodes)[0]
    facts = snap.nodes[node]
    assert facts.ip_addr is not None
    link = next(link for link in facts.ip_addr if link.get("ifname") == "eth0")
    link["addr_info"].append({"family": "inet", "local": "10.43.7.5", "prefixlen": 24, "scope": "global"})
    snap.invalidate()
    (plan,) = plan_all(snap, static_findings(snap), CTX)
    assert plan.summary.startswith("add the Service CIDR to flannel's CNI ipam.routes")
    assert f"node {node}: 10.43.7.0/24" in plan.changes[0].why


def test_k3s_embedded_flannel_gets_a_manual_step_with_exact_commands_and_no_change() -> None:
    snap = _snap("cidr-service-routing")
    snap.objects = [o for o in snap.objects if not (o["kind"] == "ConfigMap" and o["metadata"]["name"] == "kube-flannel-cfg")]
    snap.invalidate()
    findings = static_findings(snap)
    plan = FIXES["flannel-service-routes"].plan(snap, findings, CTX)
    assert not plan.changes and plan.manual
    commands = "\n".join(plan.manual[0].commands)
    assert "flannel-cni-conf: /etc/rancher/k3s/flannel-cni.conflist" in commands
    assert '"routes":[{"dst": "10.43.0.0/16"}]' in commands and "systemctl restart k3s" in commands


def test_planning_does_not_mutate_the_snapshot() -> None:
    snap = _snap("cidr-service-routing")
    before = copy.deepcopy(snap.objects)
    plans = plan_all(snap, static_findings(snap), CTX)
    assert plans and snap.objects == before


def test_widening_keeps_every_other_byte_of_net_conf() -> None:
    from ipaddress import ip_network

    text = '{\n  "Network": "10.42.0.0/16",\n  "EnableIPv6": false,\n  "Backend": {"Type": "vxlan"}\n}\n'
    assert widened_net_conf(text, ip_network("10.42.0.0/16"), ip_network("10.42.0.0/15")) == text.replace("/16", "/15")


def test_routes_are_added_once_and_existing_routes_kept() -> None:
    from ipaddress import ip_network

    conf = {"plugins": [{"type": "flannel", "ipam": {"routes": [{"dst": "192.0.2.0/24"}, {"dst": "10.96.0.0/12"}]}},
                        {"type": "portmap"}]}
    out = routed_cni_conf(conf, [ip_network("10.96.0.0/12")])
    assert out is not None and out["plugins"][0]["ipam"]["routes"] == [{"dst": "192.0.2.0/24"}, {"dst": "10.96.0.0/12"}]
    assert routed_cni_conf({"plugins": [{"type": "bridge"}]}, [ip_network("10.96.0.0/12")]) is None


def test_a_flannel_fix_restarts_every_per_architecture_flannel_daemonset() -> None:
    snap = _snap("cidr-service-routing")
    ds = next(o for o in snap.objects if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "kube-flannel-ds")
    for arch in ("amd64", "arm64"):
        twin = copy.deepcopy(ds)
        twin["metadata"]["name"] = f"kube-flannel-ds-{arch}"
        snap.objects.append(twin)
    snap.objects.remove(ds)
    snap.invalidate()
    (plan,) = plan_all(snap, static_findings(snap), CTX)
    restarted = {c.after["metadata"]["name"] for c in plan.changes if c.after.get("kind") == "DaemonSet"}
    assert {"kube-flannel-ds-amd64", "kube-flannel-ds-arm64"} <= restarted
