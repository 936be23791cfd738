"""The fix journal holds live objects, credentials included: 0600 inside a 0700 directory."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from multus_check.fixes.journal import JOURNAL_NAME, Entry, Journal


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_report_directory_is_0700_and_the_journal_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        journal = Journal.create(tmp_path / "reports" / "run-1", "run-1")
        journal.add(Entry(1, "multus-nesting", "replace", "DaemonSet", "kube-system", "m",
                          {"env": [{"name": "MULTUS_TOKEN", "value": "REAL"}]}, {}))
    finally:
        os.umask(old)
    assert _mode(tmp_path / "reports" / "run-1") == 0o700
    assert _mode(journal.path) == 0o600
    assert not (tmp_path / "reports" / "run-1" / "fix-journal.tmp").exists()
    assert Journal.load(journal.path).entries[0].before == {"env": [{"name": "MULTUS_TOKEN", "value": "REAL"}]}


def test_the_runs_own_report_directory_is_tightened_but_a_shared_one_is_left_alone(tmp_path: Path) -> None:
    own = tmp_path / "own"
    own.mkdir(mode=0o755)
    own.chmod(0o755)
    (own / "results.json").write_text("{}")
    (own / "junit.xml").write_text("<x/>")
    Journal.create(own, "run-2")
    assert _mode(own) == 0o700 and _mode(own / JOURNAL_NAME) == 0o600

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    (shared / "notes.txt").write_text("the user's file")
    Journal.create(shared, "run-3")
    assert _mode(shared) == 0o755 and _mode(shared / JOURNAL_NAME) == 0o600


def test_an_existing_journal_file_with_loose_permissions_is_rewritten_private(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path / "r", "run-4")
    journal.path.chmod(0o644)
    (tmp_path / "r" / "fix-journal.tmp").write_text("stale")
    (tmp_path / "r" / "fix-journal.tmp").chmod(0o644)
    journal.save()
    assert _mode(journal.path) == 0o600


def test_fix_yes_leaves_the_journal_private_in_a_private_report_directory_beside_its_output_file(tmp_path: Path) -> None:
    from multus_check.cli import main
    from tests.api.scenario import FIXTURES
    from tests.fixes.world import world

    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        report = tmp_path / "r"
        code = main(["--no-e2e", "--kubeconfig", str(w.sc.harness.kubeconfig), "--report-dir", str(report), "--format", "json",
                     "--output", str(report / "report.json"), "--fix", "--yes"])
    assert code == 0
    assert _mode(report) == 0o700 and _mode(report / JOURNAL_NAME) == 0o600
