"""nad-ipv6-ready against the emulator: a single macvlan becomes a conflist with tuning, an existing
tuning keeps its other sysctls, a dual-stack cluster also gets accept_ra_defrtr=0; verify and undo;
NADs the fix cannot judge are refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from multus_check.checks.engine import run_checks
from multus_check.fixes.journal import Journal
from multus_check.fixes.nad_ipv6 import NadIpv6Ready
from multus_check.fixes.plan import PlanContext
from multus_check.fixes.undo import undo
from multus_check.model import Finding, Severity, Status
from multus_check.pipeline.fix_run import execute, render_run, statuses
from multus_check.snapshot import Snapshot
from tests.api.scenario import FIXTURES
from tests.conftest import fixture_snapshot
from tests.fixes.world import variant, world

NAD_KEY = ("k8s.cni.cncf.io/v1/network-attachment-definitions", "default", "macvlan-lan")
MACVLAN = {"type": "macvlan", "master": "eth0", "mode": "bridge", "capabilities": {"mac": True}, "ipam": {"type": "dhcp"}}


def _config(conf: dict[str, Any]) -> Any:
    def edit(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        for obj in items:
            if obj["kind"] == "NetworkAttachmentDefinition":
                obj["spec"]["config"] = json.dumps(conf)
    return edit


def _dual_stack(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    for obj in items:
        if obj["kind"] == "Node" and obj["metadata"]["name"] == "k3s-server":
            args = json.loads(obj["metadata"]["annotations"]["k3s.io/node-args"])
            obj["metadata"]["annotations"]["k3s.io/node-args"] = json.dumps(
                [*args, "--service-cidr", "10.43.0.0/16,fd00:43::/112"])


def test_a_single_macvlan_nad_becomes_a_conflist_with_tuning_verified_and_undone_byte_for_byte(tmp_path: Path) -> None:
    with world(FIXTURES / "nad-ipv6-not-ready", tmp_path) as w:
        snap, findings = w.diagnose()
        assert statuses(findings)["nad.ipv6-ready"] is Status.WARN
        original = w.stored(*NAD_KEY)["spec"]["config"]
        (plan,) = [p for p in w.plans(snap, findings) if p.fix_id == "nad-ipv6-ready"]
        assert "default/home-assistant-0" in plan.notes[0] and "recreated" in plan.notes[0]

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-v1", w.collect)

        assert run.verified, run
        assert run.repaired == {"nad.ipv6-ready": "pass"}
        text = w.stored(*NAD_KEY)["spec"]["config"]
        assert json.loads(text) == {"cniVersion": "0.3.1", "name": "macvlan-lan", "plugins": [MACVLAN, {
            "type": "tuning", "sysctl": {"net.ipv6.conf.IFNAME.accept_ra": "1",
                                        "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"}}]}
        assert list(json.loads(text)["plugins"][0]) == list(MACVLAN), "the macvlan keys keep their order"
        shown = render_run(run, "run-v1")
        assert "next: Pods already using these NADs keep their old net1 until they are recreated: " \
               "default/home-assistant-0" in shown
        assert undo(Journal.load(run.journal.path), w.writer).ok
        assert w.stored(*NAD_KEY)["spec"]["config"] == original


def test_an_existing_tuning_plugin_keeps_its_other_sysctls_and_its_spelling_of_the_key(tmp_path: Path) -> None:
    conf = {"cniVersion": "0.4.0", "name": "macvlan-lan", "plugins": [
        {"type": "macvlan", "master": "eth0", "ipam": {"type": "dhcp"}},
        {"type": "tuning", "sysctl": {"net.core.somaxconn": "500", "net.ipv6.conf.net1.accept_ra_rt_info_max_plen": "0"},
         "promisc": False}]}
    with world(variant("healthy-k3s", tmp_path, _config(conf)), tmp_path / "w") as w:
        snap, findings = w.diagnose()
        assert statuses(findings)["nad.ipv6-ready"] is Status.WARN
        (plan,) = [p for p in w.plans(snap, findings) if p.fix_id == "nad-ipv6-ready"]

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-v2", w.collect)

        assert run.verified, run
        after = json.loads(w.stored(*NAD_KEY)["spec"]["config"])
        assert after["plugins"][0] == conf["plugins"][0] and after["plugins"][1]["promisc"] is False
        assert after["plugins"][1]["sysctl"] == {"net.core.somaxconn": "500",
                                                 "net.ipv6.conf.net1.accept_ra_rt_info_max_plen": "64",
                                                 "net.ipv6.conf.IFNAME.accept_ra": "1"}


def test_on_a_dual_stack_cluster_the_fix_also_keeps_ras_from_adding_a_net1_default_route(tmp_path: Path) -> None:
    def edit(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        _dual_stack(items, meta)
        _config({"cniVersion": "0.3.1", "name": "macvlan-lan", **MACVLAN})(items, meta)

    with world(variant("healthy-k3s", tmp_path, edit), tmp_path / "w") as w:
        snap, findings = w.diagnose()
        (plan,) = [p for p in w.plans(snap, findings) if p.fix_id == "nad-ipv6-ready"]
        assert "accept_ra_defrtr=0" in plan.changes[0].why and "IPv6 Services" in plan.notes[1]

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-v3", w.collect)

        assert run.verified, run
        sysctl = json.loads(w.stored(*NAD_KEY)["spec"]["config"])["plugins"][1]["sysctl"]
        assert sysctl["net.ipv6.conf.IFNAME.accept_ra_defrtr"] == "0"


def _finding(ref: str) -> Finding:
    return Finding("nad.ipv6-ready", Status.WARN, Severity.MEDIUM, f"nad/{ref}", "not ready", fix="nad-ipv6-ready")


def _snapshot(config: str) -> Snapshot:
    nad = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
           "metadata": {"name": "lan", "namespace": "home"}, "spec": {"config": config}}
    return Snapshot(objects=[nad])


def test_a_nad_with_invalid_json_gets_no_plan_and_the_reason() -> None:
    plan = NadIpv6Ready().plan(_snapshot('{"type": "macvlan" "master": "eth0"}'), [_finding("home/lan")], PlanContext())
    assert not plan.changes and plan.refused is not None
    assert "NAD home/lan: spec.config cannot be used" in plan.refused and "not valid JSON" in plan.refused


def test_a_nad_whose_main_plugin_the_fix_does_not_know_gets_no_plan_and_the_reason() -> None:
    config = json.dumps({"cniVersion": "0.3.1", "type": "sriov", "vlan": 5})
    plan = NadIpv6Ready().plan(_snapshot(config), [_finding("home/lan")], PlanContext())
    assert not plan.changes and plan.refused is not None
    assert "interface plugin 'sriov' is not one that puts net1 on the LAN" in plan.refused


def test_ready_nads_plan_nothing() -> None:
    config = json.dumps({"cniVersion": "0.3.1", "plugins": [MACVLAN, {"type": "tuning", "sysctl": {
        "net.ipv6.conf.IFNAME.accept_ra": "2", "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "128"}}]})
    plan = NadIpv6Ready().plan(_snapshot(config), [_finding("home/lan")], PlanContext())
    assert plan.empty and plan.refused is None


def test_a_capitalised_tuning_plugin_gets_the_sysctls_in_its_own_map_and_no_second_tuning(tmp_path: Path) -> None:
    conf = {"cniVersion": "0.4.0", "name": "macvlan-lan", "plugins": [
        {"Type": "macvlan", "master": "eth0", "ipam": {"type": "dhcp"}},
        {"Type": "tuning", "Sysctl": {"net.core.somaxconn": "500"}}]}
    with world(variant("healthy-k3s", tmp_path, _config(conf)), tmp_path / "w") as w:
        snap, findings = w.diagnose()
        assert statuses(findings)["nad.ipv6-ready"] is Status.WARN
        (plan,) = [p for p in w.plans(snap, findings) if p.fix_id == "nad-ipv6-ready"]

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-v4", w.collect)

        assert run.verified and run.repaired == {"nad.ipv6-ready": "pass"}, run
        after = json.loads(w.stored(*NAD_KEY)["spec"]["config"])
        assert [list(p) for p in after["plugins"]] == [["Type", "master", "ipam"], ["Type", "Sysctl"]]
        assert after["plugins"][1]["Sysctl"] == {"net.core.somaxconn": "500", "net.ipv6.conf.IFNAME.accept_ra": "1",
                                                 "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"}


def _without_tuning(snap: Snapshot, nodes: tuple[str, ...]) -> Snapshot:
    for name in nodes:
        facts = snap.nodes[name]
        facts.dirs = {d: [e for e in entries if e.name != "tuning"] if entries is not None else None
                      for d, entries in facts.dirs.items()}
    snap.invalidate()
    return snap


def _ipv6_plan(snap: Snapshot) -> Any:
    findings = run_checks(snap, include=["nad.ipv6-ready"])
    return NadIpv6Ready().plan(snap, findings, PlanContext())


def test_no_tuning_is_chained_in_while_a_node_that_hosts_pods_lacks_the_tuning_binary() -> None:
    """k3s bundles no tuning: adding it to the NAD would make every new pod on that node fail with
    `failed to find plugin "tuning"`, so the NAD is left alone with the install command."""
    plan = _ipv6_plan(_without_tuning(fixture_snapshot("nad-ipv6-not-ready"), ("k3s-agent-2",)))
    assert not plan.changes and plan.refused is not None
    assert "node(s) k3s-agent-2 lack the tuning plugin" in plan.refused
    assert "failed to find plugin \"tuning\"" in plan.refused and "sudo tar -xz -C /opt/cni/bin ./tuning" in plan.refused


def test_a_node_without_collected_listings_is_named_in_a_note_and_does_not_block_the_plan() -> None:
    snap = fixture_snapshot("nad-ipv6-not-ready")
    snap.nodes["k3s-agent-1"].dirs = {}
    snap.invalidate()
    plan = _ipv6_plan(snap)
    assert plan.changes and any("k3s-agent-1 have the tuning plugin was not collected" in n for n in plan.notes)


def test_a_nad_whose_chain_already_has_tuning_is_fixed_whatever_the_nodes_have() -> None:
    """Its tuning binary is already needed: plugins.present judges that, and the fix only adds sysctls."""
    snap = _without_tuning(fixture_snapshot("nad-ipv6-not-ready"), ("k3s-agent-2",))
    nad = next(o for o in snap.objects if o["kind"] == "NetworkAttachmentDefinition")
    nad["spec"]["config"] = json.dumps({"cniVersion": "0.3.1", "name": "macvlan-lan", "plugins": [
        MACVLAN, {"type": "tuning", "sysctl": {"net.core.somaxconn": "500"}}]})
    snap.invalidate()
    assert _ipv6_plan(snap).changes
