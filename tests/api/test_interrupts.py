"""Cleanup you can trust: SIGTERM mid-run cleans up; a killed run is cleaned by `multus-check cleanup`.

The collection runs in a child process against the emulator (the fake kubelet never starts
the pods, so the run is caught mid-way with its objects in the cluster).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from multus_check.commands import cleanup
from tests.api.scenario import FIXTURES, Scenario, scenario
from tests.api.test_collect_roundtrip import managed_objects

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import sys
from multus_check.collect.live import collect
from multus_check.collect.live.options import LiveOptions
collect(LiveOptions(kubeconfig=sys.argv[1], timeout=60, progress=False))
"""


def _start(sc: Scenario) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, str(sc.harness.kubeconfig)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "CI": "true"})


def _wait_for_pods(sc: Scenario, count: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if len([o for o in managed_objects(sc) if o.startswith("pods/")]) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the run never created its pods: {managed_objects(sc)}")


def test_sigterm_mid_run_deletes_everything_the_run_created(tmp_path: Path) -> None:
    with scenario(FIXTURES / "healthy-k3s", tmp_path, behaviour={n: "never" for n in ("k3s-server", "k3s-agent-1", "k3s-agent-2")}) as sc:
        child = _start(sc)
        _wait_for_pods(sc, 3)
        child.send_signal(signal.SIGTERM)
        child.wait(20)
        assert managed_objects(sc) == []


def test_a_killed_run_leaves_objects_that_cleanup_then_removes(tmp_path: Path) -> None:
    with scenario(FIXTURES / "healthy-k3s", tmp_path, behaviour={n: "never" for n in ("k3s-server", "k3s-agent-1", "k3s-agent-2")}) as sc:
        child = _start(sc)
        _wait_for_pods(sc, 3)
        child.kill()  # SIGKILL: no chance to clean up
        child.wait(20)
        left = managed_objects(sc)
        import argparse

        code = cleanup.run(argparse.Namespace(kubeconfig=str(sc.harness.kubeconfig), context=None, namespace=None))
        after = managed_objects(sc)
        again = cleanup.run(argparse.Namespace(kubeconfig=str(sc.harness.kubeconfig), context=None, namespace=None))
    assert "namespace/multus-check" in left and any(o.startswith("configmaps/") for o in left)
    assert code == 0 and after == [] and again == 0
