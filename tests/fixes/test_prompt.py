"""The confirmation prompt of `multus-check --fix` on a real terminal, against the emulator.

Each test runs the command line in a child process whose stdin, stdout and stderr are a pseudo
terminal it controls (so `isatty()` is true, Ctrl-D is end of input and Ctrl-C is a real SIGINT
from the line discipline), waits for the question, answers, and counts the emulator's write
requests: anything but "y" must leave the cluster untouched and exit without a traceback.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.api.scenario import FIXTURES
from tests.conftest import ROOT
from tests.fixes.world import world

PROMPT = b"Apply these changes? [y/N] "
#: run in the child: take the pty on stdin as the controlling terminal and start with Ctrl-C's default action,
#: as a shell starts a foreground command (pytest itself may run with SIGINT ignored, e.g. as a background
#: job of a non-interactive shell, and an ignored signal stays ignored across exec), then run the CLI
CHILD = ("import fcntl, signal, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
         "signal.signal(signal.SIGINT, signal.default_int_handler); "
         "from multus_check.cli import main; sys.exit(main(sys.argv[1:]))")
CM = ("v1/configmaps", "kube-flannel", "kube-flannel-cfg")


def _read_until(fd: int, wanted: bytes | None, deadline: float) -> bytes:
    """Read the terminal until `wanted` shows (None: until the child closes it)."""
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every process closed the terminal
            return seen
        if not chunk:
            return seen
        seen += chunk
        if wanted is not None and wanted in seen:
            return seen
    raise AssertionError(f"timed out waiting for {wanted!r}; the terminal showed:\n{seen.decode(errors='replace')}")


def fix_on_a_terminal(kubeconfig: Path, report: Path, keys: bytes) -> tuple[int, str]:
    """`multus-check --fix` on a pty; `keys` are typed at the prompt. Returns (exit code, terminal text)."""
    master, slave = os.openpty()
    argv = ["--no-e2e", "--kubeconfig", str(kubeconfig), "--report-dir", str(report), "--format", "json",
            "--output", str(report / "report.json"), "--fix"]
    proc = subprocess.Popen([sys.executable, "-c", CHILD, *argv], stdin=slave, stdout=slave, stderr=slave,
                            cwd=ROOT, start_new_session=True, close_fds=True)
    os.close(slave)
    try:
        deadline = time.monotonic() + 120
        shown = _read_until(master, PROMPT, deadline)
        os.write(master, keys)
        shown += _read_until(master, None, deadline)
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, shown.decode(errors="replace").replace("\r\n", "\n")


def test_answering_n_applies_nothing(tmp_path: Path) -> None:
    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        original = w.stored(*CM)

        code, text = fix_on_a_terminal(w.sc.harness.kubeconfig, tmp_path / "r", b"n\n")

        assert code == 1, text  # the diagnosis's failure stands
        assert "== fix flannel-service-routes" in text and "Not confirmed: nothing was applied." in text
        assert w.fix_writes() == []  # not even a dry run
        assert w.stored(*CM) == original
        assert not (tmp_path / "r" / "fix-journal.json").exists()
        assert "Traceback" not in text


def test_answering_y_applies_and_verifies(tmp_path: Path) -> None:
    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        code, text = fix_on_a_terminal(w.sc.harness.kubeconfig, tmp_path / "r", b"y\n")

        assert code == 0, text
        assert "verified cidr.service-routing: pass" in text and "undo with: multus-check undo" in text
        assert [m for m, _, _ in w.fix_writes(dry_run=False)][:1] == ["PUT"]
        assert '"Network": "10.42.0.0/15"' in w.stored(*CM)["data"]["net-conf.json"]
        assert (tmp_path / "r" / "fix-journal.json").exists()


def test_end_of_input_at_the_prompt_applies_nothing_and_says_so(tmp_path: Path) -> None:
    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        code, text = fix_on_a_terminal(w.sc.harness.kubeconfig, tmp_path / "r", b"\x04")  # Ctrl-D

        assert code == 1, text
        assert "No answer (end of input): nothing was applied." in text
        assert "Traceback" not in text
        assert w.fix_writes() == []


def test_ctrl_c_at_the_prompt_applies_nothing_and_exits_130_without_a_traceback(tmp_path: Path) -> None:
    with world(FIXTURES / "cidr-service-routing", tmp_path) as w:
        code, text = fix_on_a_terminal(w.sc.harness.kubeconfig, tmp_path / "r", b"\x03")  # SIGINT from the terminal

        assert code == 130, text
        assert "Interrupted at the prompt: nothing was applied." in text
        assert "Traceback" not in text and "KeyboardInterrupt" not in text
        assert w.fix_writes() == []
        assert not (tmp_path / "r" / "fix-journal.json").exists()
