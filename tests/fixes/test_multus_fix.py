"""multus-nesting and multus-k3s-kubeconfig: Multus DaemonSet changes, applied and undone on the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multus_check.cli import main
from multus_check.fixes.fields import comparable
from multus_check.fixes.journal import Journal
from multus_check.fixes.multus import MultusNesting
from multus_check.fixes.plan import PlanContext
from multus_check.fixes.undo import undo
from multus_check.pipeline.fix_run import execute, static_findings
from multus_check.snapshot import load_snapshot
from tests.api.scenario import FIXTURES
from tests.fixes.world import World, comparable_plans, variant, world

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
        restored = w.stored(*DS)  # as before, but for what the API server maintains (template generation)
        assert comparable(restored) == comparable(original) and restored["spec"] == original["spec"]


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


def _cli(w: World, report: Path, *extra: str) -> int:
    return main(["--no-e2e", "--kubeconfig", str(w.sc.harness.kubeconfig), "--report-dir", str(report), "--format", "json",
                 "--output", str(report.parent / f"{report.name}.json"), *extra])


def _undo(w: World, report: Path) -> int:
    return main(["undo", str(report), "--kubeconfig", str(w.sc.harness.kubeconfig)])


def test_a_second_fix_while_the_nesting_rollout_is_pending_plans_nothing_and_undo_needs_no_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with world(FIXTURES / "multus-nested-delegates", tmp_path) as w:
        original = w.stored(*DS)
        assert _cli(w, tmp_path / "r1", "--fix", "--yes") == 0
        writes = len(w.fix_writes())
        capsys.readouterr()

        assert _cli(w, tmp_path / "r2", "--fix", "--yes") == 1  # still nested on the nodes: the diagnosis fails

        out = capsys.readouterr().out
        assert "refused: the DaemonSet already carries this fix" in out and "No change to apply." in out
        assert len(w.fix_writes()) == writes and not (tmp_path / "r2" / "fix-journal.json").exists()
        assert _undo(w, tmp_path / "r1") == 0
        assert comparable(w.stored(*DS)) == comparable(original)


def _nested_and_kubeconfig_missing(tmp: Path) -> Path:
    target = variant("multus-nested-delegates", tmp, lambda items, meta: None)
    for node in (target / "nodes").iterdir():
        (node / "files/etc/cni/net.d/multus.d/multus.kubeconfig").unlink()
        dirs = json.loads((node / "dirs.json").read_text())
        dirs["/etc/cni/net.d/multus.d"] = None
        dirs["/etc/cni/net.d"] = [e for e in dirs["/etc/cni/net.d"] if e["name"] != "multus.d"]
        (node / "dirs.json").write_text(json.dumps(dirs))
    return target


def test_two_runs_on_the_same_daemonset_undone_newest_first_restore_it_exactly_without_force(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot_dir = _nested_and_kubeconfig_missing(tmp_path)
    with world(snapshot_dir, tmp_path / "w") as w:
        original = w.stored(*DS)
        assert comparable_plans(w.collect()) == comparable_plans(load_snapshot(snapshot_dir))
        assert _cli(w, tmp_path / "r1", "--fix", "--yes", "--fix-only", "multus-nesting") == 0
        assert _cli(w, tmp_path / "r2", "--fix", "--yes") == 0
        out = capsys.readouterr().out
        assert "applied: DaemonSet kube-system/kube-multus-ds" in out
        args = w.stored(*DS)["spec"]["template"]["spec"]["containers"][0]["args"]
        assert args[-1] == "--multus-kubeconfig-file-host=/etc/cni/net.d/multus.d/multus.kubeconfig"
        assert w.stored(*DS)["spec"]["template"]["spec"]["initContainers"][0]["name"] == "remove-stale-multus-conf"

        assert _undo(w, tmp_path / "r2") == 0
        assert _undo(w, tmp_path / "r1") == 0, capsys.readouterr().err

        restored = w.stored(*DS)
        assert comparable(restored) == comparable(original)
        assert json.dumps(restored["spec"], sort_keys=True) == json.dumps(original["spec"], sort_keys=True)


def test_undoing_the_older_run_first_is_refused_because_the_newer_run_changed_the_object(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with world(_nested_and_kubeconfig_missing(tmp_path), tmp_path / "w") as w:
        assert _cli(w, tmp_path / "r1", "--fix", "--yes", "--fix-only", "multus-nesting") == 0
        assert _cli(w, tmp_path / "r2", "--fix", "--yes") == 0
        capsys.readouterr()
        assert _undo(w, tmp_path / "r1") == 1
        assert "was changed after the fix" in capsys.readouterr().err


def test_two_fixes_of_one_daemonset_in_one_run_chain_and_undo_restores_it(tmp_path: Path) -> None:
    with world(_nested_and_kubeconfig_missing(tmp_path), tmp_path / "w") as w:
        snap, findings = w.diagnose()
        original = w.stored(*DS)
        plans = w.plans(snap, findings)
        assert sorted(p.fix_id for p in plans if p.changes) == ["multus-k3s-kubeconfig", "multus-nesting"]

        run = execute(plans, w.writer, snap, tmp_path / "report", "run-m3", w.collect)

        assert run.outcome.ok, run.outcome.stopped
        pod = w.stored(*DS)["spec"]["template"]["spec"]
        assert pod["initContainers"][0]["name"] == "remove-stale-multus-conf"
        assert pod["containers"][0]["args"][-1].startswith("--multus-kubeconfig-file-host=")
        assert undo(Journal.load(run.journal.path), w.writer).ok
        assert comparable(w.stored(*DS)) == comparable(original)
