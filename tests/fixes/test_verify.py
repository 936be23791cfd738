"""Verification is honest: "could not look" after a fix is never reported as verified (or as pending)."""

from __future__ import annotations

import io
from pathlib import Path

from multus_check.fixes.journal import Journal
from multus_check.model import EXIT_INCOMPLETE
from multus_check.pipeline.fix_run import execute, run_fix
from multus_check.pipeline.options import AnalysisOptions, FixOptions
from multus_check.pipeline.suites import analyse
from multus_check.report.options import ReportOptions
from multus_check.snapshot import Snapshot
from tests.api.scenario import FIXTURES
from tests.fixes.world import world


def test_a_repaired_check_that_cannot_be_evaluated_after_the_fix_is_an_error_not_pending(tmp_path: Path) -> None:
    with world(FIXTURES / "multus-missing", tmp_path) as w:
        snap, findings = w.diagnose()
        (plan,) = [p for p in w.plans(snap, findings) if p.fix_id == "install-multus"]
        assert plan.pending  # a DaemonSet that has not rolled out yet may still fail: that is `pending`

        def recollect_without_daemonsets() -> Snapshot:
            w.emulator.deny("list", "daemonsets.apps")  # the re-collection cannot see the DaemonSet it created
            return w.collect()

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-v1", recollect_without_daemonsets)

        assert run.outcome.ok and run.checked
        assert run.repaired["multus.installed"] == "error" and "multus.installed" not in run.pending
        assert not run.verified


def _args(report: Path) -> AnalysisOptions:
    return AnalysisOptions(report=ReportOptions(report_dir=str(report)), fix=FixOptions(enabled=True, yes=True))


def test_a_failed_recollection_is_reported_not_verified_with_exit_code_3_and_the_undo_hint(tmp_path: Path) -> None:
    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        snap = w.collect()
        results = analyse(snap, run_id="run-v2")

        def recollect_rejected() -> Snapshot:
            w.emulator.fail_next("GET", "/api/v1/nodes$", *([401] * 20))  # the token expired meanwhile
            return w.collect()

        out = io.StringIO()
        code = run_fix(_args(tmp_path / "r"), snap, results, out=out, recollect=recollect_rejected, writer=w.writer)

        text = out.getvalue()
        assert code == EXIT_INCOMPLETE, text
        assert "applied: ConfigMap kube-flannel/kube-flannel-cfg" in text
        assert "NOT VERIFIED: collecting again after the fix failed, so nothing is verified" in text and "(401)" in text
        assert "verified cidr.service-routing" not in text
        assert "undo with: multus-check undo run-v2" in text
        journal = Journal.load(tmp_path / "r" / "fix-journal.json")
        assert "collecting again after the fix failed" in journal.verified["problem"]
        assert {e.state for e in journal.entries} == {"applied"}
