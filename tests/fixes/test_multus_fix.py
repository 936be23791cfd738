"""multus-nesting and multus-k3s-kubeconfig: Multus DaemonSet changes, applied and undone on the emulator."""

from __future__ import annotations

from pathlib import Path

from multus_check.fixes.journal import Journal
from multus_check.fixes.model import PlanContext, same_object
from multus_check.fixes.multus import MultusNesting
from multus_check.fixes.undo import undo
from multus_check.fixes.verify import execute, static_findings
from multus_check.snapshot import load_snapshot
from tests.api.scenario import FIXTURES
from tests.fixes.world import world

DS = ("apps/v1/daemonsets", "kube-system", "kube-multus-ds")


def test_nested_delegates_upgrade_multus_add_the_cleanup_init_container_and_undo(tmp_path: Path) -> None:
    with world(FIXTURES / "multus-nested-delegates", tmp_path) as w:
        snap, findings = w.diagnose()
        original = w.stored(*DS)
        plans = [p for p in w.plans(snap, findings) if p.fix_id == "multus-nesting"]

        run = execute(plans, w.writer, snap, tmp_path / "report", "run-m1", w.collect)

        assert run.outcome.ok and run.repaired == {"multus.nested-delegates": "pending"}
        pod = w.stored(*DS)["spec"]["template"]["spec"]
        assert {c["image"] for c in pod["containers"]} == {"ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.3"}
        cleanup = pod["initContainers"][0]
        assert cleanup["name"] == "remove-stale-multus-conf"
        assert cleanup["command"][2] == "rm -f /host/etc/cni/net.d/00-multus.conf /host/etc/cni/net.d/00-multus.conflist"
        assert undo(Journal.load(run.journal.path), w.writer).ok
        assert same_object(w.stored(*DS), original)


def test_the_nesting_workaround_keeps_the_version_and_only_adds_the_init_container() -> None:
    snap = load_snapshot(FIXTURES / "multus-nested-delegates")
    plan = MultusNesting().plan(snap, static_findings(snap), PlanContext(options={"multus-nesting": "workaround"}))
    (change,) = plan.changes
    pod = change.after["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"].endswith(":v4.0.2")
    assert [c["name"] for c in pod["initContainers"]] == ["remove-stale-multus-conf", "install-multus-binary"]


def test_a_missing_kubeconfig_adds_the_host_path_flag_and_a_second_plan_refuses_instead_of_repeating(tmp_path: Path) -> None:
    with world(FIXTURES / "multus-kubeconfig-missing", tmp_path) as w:
        snap, findings = w.diagnose()
        (plan,) = w.plans(snap, findings)
        run = execute([plan], w.writer, snap, tmp_path / "report", "run-m2", w.collect)
        assert run.outcome.ok and run.repaired == {"multus.kubeconfig": "pending"}
        args = w.stored(*DS)["spec"]["template"]["spec"]["containers"][0]["args"]
        assert args[-1] == "--multus-kubeconfig-file-host=/etc/cni/net.d/multus.d/multus.kubeconfig"
        snap2, findings2 = w.diagnose()
        (again,) = w.plans(snap2, findings2)
        assert again.refused is not None and not again.changes
