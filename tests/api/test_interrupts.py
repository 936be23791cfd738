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


SIGINT_CHILD = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job may inherit SIGINT ignored
from multus_check.collect.live import collect
from multus_check.collect.live.options import LiveOptions
collect(LiveOptions(kubeconfig=sys.argv[1], timeout=60, progress=False))
"""


def test_a_second_ctrl_c_during_cleanup_exits_at_once_and_says_what_was_left(tmp_path: Path) -> None:
    never = {n: "never" for n in ("k3s-server", "k3s-agent-1", "k3s-agent-2")}
    with scenario(FIXTURES / "healthy-k3s", tmp_path, behaviour=never) as sc:
        # the cleanup's first delete is answered 503 + Retry-After: 4, so the cleanup is still waiting
        sc.harness.emulator.fail_next("DELETE", r"/namespaces/multus-check/pods$", 503, 503, retry_after="4")
        child = subprocess.Popen([sys.executable, "-c", SIGINT_CHILD, str(sc.harness.kubeconfig)], cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "CI": "true"})
        _wait_for_pods(sc, 3)
        t0 = time.monotonic()
        child.send_signal(signal.SIGINT)  # first Ctrl-C: stop collecting, clean up
        deadline = time.monotonic() + 20
        while sc.harness.emulator.count_calls("DELETE", "/pods") == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        child.send_signal(signal.SIGINT)  # second Ctrl-C: while the cleanup waits out the 503
        _, err = child.communicate(timeout=20)
        waited = time.monotonic() - t0
        left = managed_objects(sc)
        import argparse

        cleanup.run(argparse.Namespace(kubeconfig=str(sc.harness.kubeconfig), context=None, namespace=None))
        after = managed_objects(sc)
    assert child.returncode == 130, err
    assert "cleanup interrupted; left behind: namespace multus-check" in err
    assert "remove with: multus-check cleanup --namespace multus-check" in err
    assert waited < 4, "the second Ctrl-C did not wait for the retry"
    assert "namespace/multus-check" in left and after == []
