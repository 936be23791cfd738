"""Ctrl-C and SIGTERM while the checks run (pytest in-process, which catches both itself): 130 and 143,
one line, no INTERNALERROR and no traceback, no report pretending the run finished."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# a check that receives the signal while pytest runs it
CHILD = """
import os, signal, sys
from multus_check.checks import registry
spec = registry.get("events.known-failures")
original = spec.fn
def judged_while_signalled(snap):
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    return original(snap)
object.__setattr__(spec, "fn", judged_while_signalled)
signal.signal(signal.SIGINT, signal.default_int_handler)
from multus_check.cli import main
sys.exit(main(["--snapshot", sys.argv[2], "--report-dir", sys.argv[3]]))
"""


@pytest.mark.parametrize(("name", "code", "line"), [
    ("SIGTERM", 143, "multus-check: terminated (SIGTERM)"),
    ("SIGINT", 130, "multus-check: interrupted (Ctrl-C)"),
])
def test_a_signal_while_the_checks_run_exits_with_its_code_and_one_line(name: str, code: int, line: str, tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", CHILD, name, str(ROOT / "fixtures" / "snapshots" / "healthy-k3s"),
                            str(tmp_path / "r")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert child.returncode == code, child.stderr
    assert child.stderr.splitlines() == [line]
    assert child.stdout == ""
    assert not (tmp_path / "r" / "results.json").exists()


# `multus-check node` receives the signal while it probes (the probe is replaced; root is not needed)
NODE_CHILD = """
import os, signal, sys, time
from multus_check.pipeline import node_run
def probing(opts, notes=None):
    os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    time.sleep(5)
    raise AssertionError("the signal did not stop the run")
node_run.node_results = probing
os.geteuid = lambda: 0
signal.signal(signal.SIGINT, signal.default_int_handler)
from multus_check.cli import main
sys.exit(main(["node", "--nad-config", sys.argv[2], "--no-static", "--report-dir", sys.argv[3]]))
"""


@pytest.mark.parametrize(("name", "code", "line"), [
    ("SIGTERM", 143, "multus-check: terminated (SIGTERM)"),
    ("SIGINT", 130, "multus-check: interrupted (Ctrl-C)"),
])
def test_node_and_lab_exit_143_on_sigterm_like_every_command(name: str, code: int, line: str, tmp_path: Path) -> None:
    """The node run has no SIGTERM handler of its own (it used to turn SIGTERM into 130): signals.py's 143."""
    conf = tmp_path / "nad.json"
    conf.write_text('{"cniVersion": "0.3.1", "name": "lan", "type": "macvlan", "master": "eth1", "ipam": {"type": "dhcp"}}')
    child = subprocess.run([sys.executable, "-c", NODE_CHILD, name, str(conf), str(tmp_path / "r")], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == code, child.stderr
    assert child.stderr.splitlines() == [line]
