"""flannel-service-routes against the emulator: plan, dry run, journal, apply, verify, undo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from multus_check.fixes.fields import comparable
from multus_check.fixes.journal import Journal
from multus_check.fixes.plan import Action, same_object
from multus_check.fixes.render import render_plan
from multus_check.fixes.undo import undo
from multus_check.kube.writes import Writer
from multus_check.model import Status
from multus_check.pipeline.fix_run import execute, static_findings, statuses
from tests.api.scenario import FIXTURES
from tests.fixes.world import World, variant, world

CM = ("v1/configmaps", "kube-flannel", "kube-flannel-cfg")
FLANNEL_DS = ("apps/v1/daemonsets", "kube-flannel", "kube-flannel-ds")


def kubeadm_shaped(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """The broken fixture as kubeadm + kube-flannel.yml defaults: pods 10.244/16, Services 10.96/12."""
    meta["facts"]["serviceCIDR"]["cidrs"] = ["10.96.0.0/12"]
    for n, obj in enumerate(o for o in items if o["kind"] == "Node"):
        obj["spec"]["podCIDR"] = f"10.244.{n}.0/24"
        obj["spec"]["podCIDRs"] = [f"10.244.{n}.0/24"]
        for part in ("annotations", "labels"):
            obj["metadata"][part] = {k: v for k, v in (obj["metadata"].get(part) or {}).items() if "k3s" not in k}
    for obj in items:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == "kube-flannel-cfg":
            obj["data"]["net-conf.json"] = obj["data"]["net-conf.json"].replace("10.42.0.0/16", "10.244.0.0/16")
        if obj["kind"] == "Service" and obj["metadata"]["name"] == "kube-dns":
            obj["spec"]["clusterIP"] = "10.96.0.10"
            obj["spec"]["clusterIPs"] = ["10.96.0.10"]


def _status_of(w: World, check: str) -> Status:
    return statuses(static_findings(w.collect()))[check]


def test_k3s_cluster_widens_network_goes_from_fail_to_pass_and_undo_restores_exact_objects(tmp_path: Path) -> None:
    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        snap, findings = w.diagnose()
        assert statuses(findings)["cidr.service-routing"] is Status.FAIL
        assert w.fix_writes() == []  # diagnosis writes nothing
        original = {key: w.stored(*key) for key in (CM, FLANNEL_DS)}
        plans = w.plans(snap, findings)
        assert [p.fix_id for p in plans] == ["flannel-service-routes"]
        text = render_plan(plans)
        assert '-      "Network": "10.42.0.0/16",' in text and '+      "Network": "10.42.0.0/15",' in text
        assert "Only pods created after the restart get the new routes" in text
        assert w.fix_writes() == []  # planning writes nothing

        run = execute(plans, w.writer, snap, tmp_path / "report", "run-1", w.collect)

        assert run.verified, run
        assert run.repaired == {"cidr.service-routing": "pass"} and run.regressions == []
        assert json.loads(w.stored(*CM)["data"]["net-conf.json"])["Network"] == "10.42.0.0/15"
        template = w.stored(*FLANNEL_DS)["spec"]["template"]["metadata"]
        assert template["annotations"]["kubectl.kubernetes.io/restartedAt"] == "2026-11-28T05:00:00Z"
        assert [m for m, _, _ in w.fix_writes(dry_run=True)] == ["PUT", "PUT"]
        assert [m for m, _, _ in w.fix_writes(dry_run=False)] == ["PUT", "PUT"]
        assert [e.state for e in Journal.load(run.journal.path).entries] == ["applied", "applied"]

        # a second --fix changes nothing
        snap2, findings2 = w.diagnose()
        assert w.plans(snap2, findings2) == []
        writes_before_undo = len(w.fix_writes())

        outcome = undo(Journal.load(run.journal.path), w.writer)
        assert outcome.ok and sorted(outcome.restored) == ["ConfigMap kube-flannel/kube-flannel-cfg",
                                                            "DaemonSet kube-flannel/kube-flannel-ds"]
        for key, obj in original.items():  # as before, but for what the API server maintains (template generation)
            assert comparable(w.stored(*key)) == comparable(obj), key
        assert w.stored(*CM)["data"] == original[CM]["data"]  # byte for byte
        assert len(w.fix_writes()) == writes_before_undo + 2
        assert _status_of(w, "cidr.service-routing") is Status.FAIL
        assert [e.state for e in Journal.load(run.journal.path).entries] == ["undone", "undone"]


def test_kubeadm_cluster_gets_ipam_routes_instead_of_a_slash_8_and_multus_restarts(tmp_path: Path) -> None:
    with world(variant("cidr-service-routing", tmp_path, kubeadm_shaped), tmp_path / "w") as w:
        snap, findings = w.diagnose()
        assert statuses(findings)["cidr.service-routing"] is Status.FAIL
        plans = [p for p in w.plans(snap, findings) if p.fix_id == "flannel-service-routes"]
        (plan,) = plans
        assert [c.ref for c in plan.changes] == ["ConfigMap kube-flannel/kube-flannel-cfg",
                                                 "DaemonSet kube-flannel/kube-flannel-ds", "DaemonSet kube-system/kube-multus-ds"]
        assert "10.0.0.0/8" in plan.changes[0].why  # says why it did not widen

        run = execute(plans, w.writer, snap, tmp_path / "report", "run-2", w.collect)

        assert run.verified, run
        cm = w.stored(*CM)
        assert json.loads(cm["data"]["net-conf.json"])["Network"] == "10.244.0.0/16"
        flannel = next(p for p in json.loads(cm["data"]["cni-conf.json"])["plugins"] if p["type"] == "flannel")
        assert flannel["ipam"]["routes"] == [{"dst": "10.96.0.0/12"}]


def test_a_concurrent_edit_between_plan_and_apply_stops_the_fix_without_overwriting(tmp_path: Path) -> None:
    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        snap, findings = w.diagnose()
        plans = w.plans(snap, findings)
        theirs = w.stored(*CM)
        theirs["data"]["note"] = "edited by someone else"
        w.writer.replace(theirs, theirs["metadata"]["resourceVersion"])
        real_writes = len(w.fix_writes(dry_run=False))

        run = execute(plans, w.writer, snap, tmp_path / "report", "run-3", w.collect)

        assert not run.outcome.ok and "kube-flannel-cfg" in (run.outcome.stopped or "")
        assert len(w.fix_writes(dry_run=False)) == real_writes
        assert w.stored(*CM)["data"]["note"] == "edited by someone else"
        assert json.loads(w.stored(*CM)["data"]["net-conf.json"])["Network"] == "10.42.0.0/16"


class RacingWriter(Writer):
    """Someone edits the object right after the fixer read it for the real write (the dry run, which
    reads it first, passed)."""

    reads = 0

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        obj = super().get(kind, namespace, name)
        self.reads += kind == "ConfigMap"
        if kind == "ConfigMap" and self.reads == 2:
            edit = json.loads(json.dumps(obj))
            edit["data"]["note"] = "raced"
            super().replace(edit, obj["metadata"]["resourceVersion"])
        return obj


def test_an_edit_racing_the_write_is_refused_by_the_resource_version_precondition(tmp_path: Path) -> None:
    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        snap, findings = w.diagnose()
        run = execute(w.plans(snap, findings), RacingWriter(w.gateway), snap, tmp_path / "report", "run-4", w.collect)
        assert not run.outcome.ok and "conflict" in (run.outcome.stopped or "").lower()
        assert w.stored(*CM)["data"]["note"] == "raced"
        assert json.loads(w.stored(*CM)["data"]["net-conf.json"])["Network"] == "10.42.0.0/16"
        assert [e.state for e in Journal.load(run.journal.path).entries] == ["failed"]


def test_a_failure_in_step_two_of_three_rolls_back_step_one(tmp_path: Path) -> None:
    with world(variant("cidr-service-routing", tmp_path, kubeadm_shaped), tmp_path / "w") as w:
        snap, findings = w.diagnose()
        plans = [p for p in w.plans(snap, findings) if p.fix_id == "flannel-service-routes"]
        assert len(plans[0].changes) == 3 and all(c.action is Action.REPLACE for c in plans[0].changes)
        original = w.stored(*CM)
        w.emulator.fail_write("PUT", "daemonsets/kube-flannel-ds$")

        run = execute(plans, w.writer, snap, tmp_path / "report", "run-5", w.collect)

        assert (run.outcome.stopped or "").startswith("step 2 (DaemonSet kube-flannel/kube-flannel-ds) failed")
        assert run.outcome.rolled_back is not None and run.outcome.rolled_back.restored == ["ConfigMap kube-flannel/kube-flannel-cfg"]
        assert same_object(w.stored(*CM), original)
        assert [e.state for e in Journal.load(run.journal.path).entries] == ["rolled-back", "failed"]
        assert not any("kube-multus-ds" in p for _, p, _ in w.fix_writes(dry_run=False))
