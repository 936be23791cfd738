"""`multus-check --fix` and `multus-check undo` through the command line, against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multus_check.cli import main
from tests.api.scenario import FIXTURES
from tests.fixes.world import world

CM = ("v1/configmaps", "kube-flannel", "kube-flannel-cfg")


def _args(kubeconfig: Path, report: Path, *extra: str) -> list[str]:
    return ["--no-e2e", "--kubeconfig", str(kubeconfig), "--report-dir", str(report), "--format", "json",
            "--output", str(report / "report.json"), *extra]


def test_fix_without_a_terminal_and_without_yes_only_prints_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        code = main(_args(w.sc.harness.kubeconfig, tmp_path / "r", "--fix"))
        out = capsys.readouterr().out
        assert code == 1  # the diagnosis's failure stands: nothing was fixed
        assert "== fix flannel-service-routes" in out and "Not a terminal: plan only" in out
        assert w.fix_writes() == []
        assert not (tmp_path / "r" / "fix-journal.json").exists()


def test_fix_yes_repairs_verifies_and_undo_restores_then_a_second_fix_is_a_no_op(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        kc = w.sc.harness.kubeconfig
        original = w.stored(*CM)

        code = main(_args(kc, tmp_path / "r1", "--fix", "--yes"))

        out = capsys.readouterr().out
        assert code == 0, out
        assert "verified cidr.service-routing: pass" in out and "undo with: multus-check undo" in out
        assert json.loads(w.stored(*CM)["data"]["net-conf.json"])["Network"] == "10.42.0.0/15"
        writes_after_fix = len(w.fix_writes())

        assert main(_args(kc, tmp_path / "r2", "--fix", "--yes")) == 0
        assert "No change to apply." in capsys.readouterr().out
        assert len(w.fix_writes()) == writes_after_fix

        assert main(["undo", str(tmp_path / "r1"), "--kubeconfig", str(kc)]) == 0
        assert "restored ConfigMap kube-flannel/kube-flannel-cfg" in capsys.readouterr().out
        assert w.stored(*CM)["data"] == original["data"]
        assert main(["undo", str(tmp_path / "r1"), "--kubeconfig", str(kc)]) == 0
        assert "Nothing to undo" in capsys.readouterr().out


def test_a_snapshot_directory_is_planned_against_but_never_fixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--snapshot", str(FIXTURES / "cidr-service-routing"), "--report-dir", str(tmp_path), "--format", "json",
                 "--output", str(tmp_path / "r.json"), "--fix", "--yes"])
    out = capsys.readouterr().out
    assert code == 1
    assert "widen flannel Network 10.42.0.0/16 -> 10.42.0.0/15" in out and "Plan only: a snapshot directory" in out


def test_undo_of_an_unknown_run_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["undo", "no-such-run", "--reports-root", str(tmp_path)]) == 2
    assert "no fix journal for 'no-such-run'" in capsys.readouterr().err
