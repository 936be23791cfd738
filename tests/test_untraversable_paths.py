"""Paths below a directory this user may not enter (audit 10 item 7): every command-line path is one
line naming the directory that blocks it and exit 2, never a PermissionError traceback, and never
"does not exist" for a path that may well exist. Run as `nobody` (tests/unprivileged.py)."""

from __future__ import annotations

# `nobody` may not read this checkout's venv: what the commands import lazily is imported here, before the fork
import concurrent.futures.thread  # noqa: F401
import multiprocessing.pool  # noqa: F401
import os
import shutil
from pathlib import Path

import pytest

import multus_check.collect.live
import multus_check.commands.snapshot
import multus_check.commands.undo
import multus_check.fixes.journal
import multus_check.kube.gateway  # noqa: F401
from tests.conftest import SNAPSHOTS
from tests.test_snapshot_hostile import run_cli
from tests.unprivileged import as_unprivileged, shared_dir

CASES = {
    "--report-dir": lambda d: ["--snapshot", str(d / "ok"), "--report-dir", str(d / "p" / "rep")],
    "--output": lambda d: ["--snapshot", str(d / "ok"), "--output", str(d / "p" / "out.txt"), "--report-dir",
                           str(d / "r")],
    "snapshot DIR": lambda d: ["snapshot", str(d / "p" / "new"), "--kubeconfig", str(d / "ok" / "nonexistent")],
    "undo --reports-root": lambda d: ["undo", "abc", "--reports-root", str(d / "p")],
    "undo JOURNAL": lambda d: ["undo", str(d / "p" / "fix-journal.json")],
    "--snapshot": lambda d: ["--snapshot", str(d / "p" / "snap"), "--report-dir", str(d / "r")],
    "--kubeconfig": lambda d: ["--kubeconfig", str(d / "p" / "kc"), "--no-e2e", "--report-dir", str(d / "r")],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_path_below_a_directory_this_user_may_not_enter_is_one_line_naming_it(case: str) -> None:
    with shared_dir() as d:
        shutil.copytree(SNAPSHOTS / "healthy-k3s", d / "ok")
        (d / "r").mkdir()
        shutil.copytree(SNAPSHOTS / "healthy-k3s", d / "p" / "snap")
        (d / "p" / "kc").write_text("apiVersion: v1\nkind: Config\n")
        for p in [d, *d.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(d / "r", 0o777)
        os.chmod(d / "p", 0o000)  # nobody may enter it: `nobody` when root runs the suite, and its owner otherwise
        argv = CASES[case](d)
        code, out, err = as_unprivileged(run_cli, argv)
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert f"permission denied: this user may not enter {d / 'p'}" in err, err
    assert "does not exist" not in err
    assert code == 2, (code, err)
    assert case not in ("--output", "--report-dir") or out == ""


@pytest.mark.parametrize(("data", "says"), [
    (b"\xff\xfe{}", "is not UTF-8 text (invalid start byte at byte 0)"),
    (b'{"type": "macvlan"\x00}', "is binary data, not text"),
    (b"BIG", "is larger than 1048576 bytes; it should be a small text file"),
], ids=["not-utf8", "binary", "huge"])
def test_a_nad_config_file_that_is_not_small_utf8_text_is_one_line_and_exit_2(
        tmp_path: Path, data: bytes, says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from multus_check.pipeline import node_run as node

    conf = tmp_path / "nad.json"
    conf.write_bytes(b"{" + b" " * (1 << 20) + b"}" if data == b"BIG" else data)
    monkeypatch.setattr(node.os, "geteuid", lambda: 0)  # the root check comes first; nothing here needs root
    code, _, err = run_cli(["node", "--nad-config", str(conf), "--no-static", "--no-probe", "--report-dir",
                            str(tmp_path / "r")])
    assert code == 2 and err.splitlines() == [f"multus-check: error: --nad-config {conf} {says}"]
