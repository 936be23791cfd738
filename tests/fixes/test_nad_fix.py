"""nad-repair against the emulator: repair, create, refuse; verify and undo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from multus_check.fixes.journal import Journal
from multus_check.fixes.plan import Action, same_object
from multus_check.fixes.undo import undo
from multus_check.model import Status
from multus_check.pipeline.fix_run import execute, statuses
from tests.api.scenario import FIXTURES
from tests.fixes.world import variant, world

NAD_KEY = ("k8s.cni.cncf.io/v1/network-attachment-definitions", "default", "macvlan-lan")


def test_invalid_nad_config_is_rewritten_verified_and_undone_byte_for_byte(tmp_path: Path) -> None:
    with world(FIXTURES / "nad-config-invalid", tmp_path) as w:
        snap, findings = w.diagnose()
        assert statuses(findings)["nad.config-valid"] is Status.FAIL
        original = w.stored(*NAD_KEY)
        plans = w.plans(snap, findings)
        assert [p.fix_id for p in plans] == ["nad-repair"]

        run = execute(plans, w.writer, snap, tmp_path / "report", "run-n1", w.collect)

        assert run.verified, run
        assert run.repaired == {"nad.config-valid": "pass", "nad.master": "pass"}
        config = json.loads(w.stored(*NAD_KEY)["spec"]["config"])
        macvlan, tuning = config["plugins"]
        assert macvlan["master"] == "eth0" and macvlan["ipam"] == {"type": "dhcp"} and tuning["type"] == "tuning"
        assert undo(Journal.load(run.journal.path), w.writer).ok
        assert w.stored(*NAD_KEY)["spec"]["config"] == original["spec"]["config"]
        assert same_object(w.stored(*NAD_KEY), original)


def _master(name: str) -> Any:
    def edit(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        for obj in items:
            if obj["kind"] == "NetworkAttachmentDefinition":
                conf = json.loads(obj["spec"]["config"])
                conf["plugins"][0]["master"] = name  # the seed NAD is a conflist: macvlan, then tuning
                obj["spec"]["config"] = json.dumps(conf)
    return edit


def test_a_master_no_node_has_is_replaced_by_the_common_wired_nic_keeping_the_rest(tmp_path: Path) -> None:
    with world(variant("healthy-k3s", tmp_path, _master("enp9s0")), tmp_path / "w") as w:
        snap, findings = w.diagnose()
        assert statuses(findings)["nad.master"] is Status.FAIL
        before = json.loads(w.stored(*NAD_KEY)["spec"]["config"])
        (plan,) = w.plans(snap, findings)
        assert "master 'enp9s0' -> 'eth0'" in plan.changes[0].why

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-n2", w.collect)

        assert run.verified, run
        after = json.loads(w.stored(*NAD_KEY)["spec"]["config"])
        before["plugins"][0]["master"] = "eth0"
        assert after == before


def _no_nads(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    items[:] = [o for o in items if o["kind"] != "NetworkAttachmentDefinition"]


def test_a_missing_nad_is_created_and_undo_deletes_it(tmp_path: Path) -> None:
    with world(variant("healthy-k3s", tmp_path, _no_nads), tmp_path / "w") as w:
        snap, findings = w.diagnose()
        assert statuses(findings)["nad.config-valid"] is Status.FAIL
        (plan,) = w.plans(snap, findings)
        assert [c.action for c in plan.changes] == [Action.CREATE]

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-n3", w.collect)

        assert run.verified, run
        assert json.loads(w.stored(*NAD_KEY)["spec"]["config"])["plugins"][0]["master"] == "eth0"
        assert [m for m, _, _ in w.fix_writes(dry_run=False)] == ["POST"]
        outcome = undo(Journal.load(run.journal.path), w.writer)
        assert outcome.ok and outcome.deleted == ["NetworkAttachmentDefinition default/macvlan-lan"]
        assert w.sc.harness.sync(lambda: w.emulator.live(NAD_KEY[0], "default")) == []


def test_nodes_without_a_common_safe_nic_make_the_fix_refuse_naming_each_node(tmp_path: Path) -> None:
    with world(FIXTURES / "nad-master-broken", tmp_path) as w:
        snap, findings = w.diagnose()
        plans = {p.fix_id: p for p in w.plans(snap, findings)}
        assert set(plans) == {"nad-repair", "lan-manual"}  # the Wi-Fi master of k3s-agent-2 is a manual step
        plan = plans["nad-repair"]
        assert plan.refused is not None and not plan.changes
        for node in ("k3s-agent-1", "k3s-agent-2", "k3s-server"):
            assert node in plan.refused
        assert plan.refused.count("usable NICs none") == 3 and "default route via eth0" in plan.refused
        assert w.fix_writes() == []


def test_undo_leaves_an_object_changed_after_the_fix_alone(tmp_path: Path) -> None:
    with world(FIXTURES / "nad-config-invalid", tmp_path) as w:
        snap, findings = w.diagnose()
        run = execute(w.plans(snap, findings), w.writer, snap, tmp_path / "report", "run-n4", w.collect)
        theirs = w.stored(*NAD_KEY)
        theirs["metadata"].setdefault("labels", {})["owner"] = "someone"
        w.writer.replace(theirs, theirs["metadata"]["resourceVersion"])

        outcome = undo(Journal.load(run.journal.path), w.writer)

        assert not outcome.ok and "changed after the fix" in outcome.problems[0]
        assert w.stored(*NAD_KEY)["metadata"]["labels"]["owner"] == "someone"
        assert undo(Journal.load(run.journal.path), w.writer, force=True).ok
        assert "owner" not in (w.stored(*NAD_KEY)["metadata"].get("labels") or {})


def test_repair_keeps_an_l2_only_macvlan_without_ipam_and_mends_an_ipam_that_is_no_object() -> None:
    from multus_check.domain.cluster import Nad
    from multus_check.fixes.nad import repaired_config

    l2 = Nad({"metadata": {"name": "l2"}}, {"cniVersion": "0.3.1", "type": "macvlan", "master": "enp9s0"}, None)
    conf, what = repaired_config(l2, "eth0")
    assert "ipam" not in conf and what == ["master 'enp9s0' -> 'eth0'"]
    bad = Nad({"metadata": {"name": "bad"}}, {"cniVersion": "0.3.1", "type": "macvlan", "master": "eth0", "ipam": "dhcp"},
              None)
    conf, what = repaired_config(bad, "eth0")
    assert conf["ipam"] == {"type": "dhcp"} and what == ["ipam 'dhcp' -> {\"type\": \"dhcp\"}"]
