"""Signals you can trust: SIGTERM (143) and Ctrl-C (130) mid-run clean up and say so in one line; a second
signal exits at once naming exactly what was left; a killed run is cleaned by `multus-check cleanup`.

The command line runs in a child process against the emulator (the fake kubelet never starts the
pods, so the run is caught mid-way with its objects in the cluster).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from multus_check.commands import cleanup
from tests.api.recording import recorded_world
from tests.api.scenario import FIXTURES, Scenario, scenario
from tests.api.test_collect_roundtrip import managed_objects

ROOT = Path(__file__).resolve().parents[2]
NODES = ("k3s-server", "k3s-agent-1", "k3s-agent-2")
NEVER = dict.fromkeys(NODES, "never")
# a background job may inherit SIGINT ignored; a terminal's Ctrl-C arrives with the default handler
CHILD = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)
from multus_check.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _start(sc: Scenario, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    argv = ["--kubeconfig", str(sc.harness.kubeconfig), "--timeout", "60", "--report-dir", str(tmp_path / "r"), *extra]
    return subprocess.Popen([sys.executable, "-c", CHILD, *argv], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "CI": "true"})


def _wait_for(sc: Scenario, what: str, count: int) -> list[str]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [o for o in managed_objects(sc) if o.startswith(what)]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"the run never created {count} {what}: {managed_objects(sc)}")


def _wait_for_calls(sc: Scenario, method: str, pattern: str) -> None:
    deadline = time.monotonic() + 20
    while sc.harness.emulator.count_calls(method, pattern) == 0 and time.monotonic() < deadline:
        time.sleep(0.02)


def _cleanup(sc: Scenario, namespace: str | None = None) -> int:
    return cleanup.run(argparse.Namespace(kubeconfig=str(sc.harness.kubeconfig), context=None, namespace=namespace))


def _final_lines(err: str, prefix: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(prefix)]


def test_sigterm_mid_run_exits_143_with_one_line_and_removes_everything(tmp_path: Path) -> None:
    with scenario(FIXTURES / "healthy-k3s", tmp_path, behaviour=NEVER) as sc:
        child = _start(sc, tmp_path, "--no-e2e")
        _wait_for(sc, "pods/", 3)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=20)
        left = managed_objects(sc)
    assert child.returncode == 143, err
    assert "Traceback" not in err
    assert _final_lines(err, "multus-check: terminated") == [
        "multus-check: terminated (SIGTERM); removed what this run had created: namespace multus-check, "
        "1 ConfigMap and 3 pods"], err
    assert err.rstrip().splitlines()[-1].startswith("multus-check: terminated")
    assert left == []


def test_ctrl_c_mid_run_exits_130_with_one_line_and_removes_everything(tmp_path: Path) -> None:
    with scenario(FIXTURES / "healthy-k3s", tmp_path, behaviour=NEVER) as sc:
        child = _start(sc, tmp_path, "--no-e2e")
        _wait_for(sc, "pods/", 3)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=20)
        left = managed_objects(sc)
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert _final_lines(err, "multus-check: interrupted") == [
        "multus-check: interrupted (Ctrl-C); removed what this run had created: namespace multus-check, "
        "1 ConfigMap and 3 pods"], err
    assert left == []


def test_sigterm_while_sample_pods_run_removes_them_too(tmp_path: Path) -> None:
    with recorded_world(FIXTURES / "healthy-k3s", tmp_path, samples="never") as sc:
        child = _start(sc, tmp_path, "--e2e-timeout", "60")
        _wait_for(sc, "pods/multus-check/multus-check-e2e-", 1)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=20)
        left = managed_objects(sc)
    assert child.returncode == 143, err
    assert "Traceback" not in err
    assert _final_lines(err, "multus-check: terminated") == [
        "multus-check: terminated (SIGTERM); removed what this run had created: namespace multus-check, "
        "1 ConfigMap and 1 pod"], err
    assert left == []


def test_a_second_ctrl_c_during_cleanup_exits_at_once_naming_exactly_what_was_left(tmp_path: Path) -> None:
    with scenario(FIXTURES / "healthy-k3s", tmp_path, behaviour=NEVER) as sc:
        # the cleanup's first delete is answered 503 + Retry-After: 4, so the cleanup is still waiting
        sc.harness.emulator.fail_next("DELETE", r"/namespaces/multus-check/pods$", 503, 503, retry_after="4")
        child = _start(sc, tmp_path, "--no-e2e")
        pods = sorted(p.rsplit("/", 1)[1] for p in _wait_for(sc, "pods/", 3))
        configmap = _wait_for(sc, "configmaps/", 1)[0].rsplit("/", 1)[1]
        t0 = time.monotonic()
        child.send_signal(signal.SIGINT)  # first Ctrl-C: stop collecting, clean up
        _wait_for_calls(sc, "DELETE", "/pods")
        child.send_signal(signal.SIGINT)  # second Ctrl-C: while the cleanup waits out the 503
        _, err = child.communicate(timeout=20)
        waited = time.monotonic() - t0
        left = managed_objects(sc)
        code = _cleanup(sc)
        after = managed_objects(sc)
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert err.rstrip().splitlines()[-1] == (
        "multus-check: cleanup interrupted (Ctrl-C); left behind: namespace multus-check (created by this run) "
        f"with 1 ConfigMap ({configmap}) and 3 pods ({', '.join(pods)}; deletion requested, not confirmed); "
        "remove with: multus-check cleanup --namespace multus-check --context emulator")
    assert waited < 4, "the second Ctrl-C did not wait for the retry"
    assert "namespace/multus-check" in left and code == 0 and after == []


def test_a_signal_during_cleanup_says_nothing_was_left_when_the_run_had_created_nothing(tmp_path: Path) -> None:
    with scenario(FIXTURES / "healthy-k3s", tmp_path, behaviour=NEVER) as sc:
        sc.emulator.namespaces["multus-check"] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multus-check"}}
        sc.emulator.fail_next("POST", r"/namespaces/multus-check/configmaps$", 422)  # the run creates nothing
        sc.emulator.fail_next("DELETE", r"/namespaces/multus-check/pods$", 503, 503, retry_after="4")
        child = _start(sc, tmp_path, "--no-e2e")
        _wait_for_calls(sc, "DELETE", "/pods")
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=20)
    assert child.returncode == 143, err
    assert "Traceback" not in err
    assert err.rstrip().splitlines()[-1] == "multus-check: cleanup interrupted (SIGTERM); nothing was left behind"


def test_a_killed_run_leaves_objects_that_cleanup_then_removes(tmp_path: Path) -> None:
    with scenario(FIXTURES / "healthy-k3s", tmp_path, behaviour=NEVER) as sc:
        child = _start(sc, tmp_path, "--no-e2e")
        _wait_for(sc, "pods/", 3)
        child.kill()  # SIGKILL: no chance to clean up
        child.communicate(timeout=20)
        left = managed_objects(sc)
        code = _cleanup(sc)
        after = managed_objects(sc)
        again = _cleanup(sc)
    assert child.returncode == -signal.SIGKILL
    assert "namespace/multus-check" in left and any(o.startswith("configmaps/") for o in left)
    assert code == 0 and after == [] and again == 0


def test_sigterm_during_a_fix_exits_143_naming_the_journal_and_the_undo(tmp_path: Path) -> None:
    with recorded_world(FIXTURES / "cidr-service-routing", tmp_path / "w") as sc:
        # the dry run of the first change waits out a 503 + Retry-After: 4
        sc.harness.emulator.fail_next("PUT", r"/configmaps/kube-flannel-cfg$", 503, 503, 503, retry_after="4")
        child = _start(sc, tmp_path, "--no-e2e", "--fix", "--yes", "--format", "json", "--output", str(tmp_path / "r.json"))
        _wait_for_calls(sc, "PUT", "/configmaps/kube-flannel-cfg")
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=20)
        undone = subprocess.run([sys.executable, "-m", "multus_check", "undo", str(tmp_path / "r"), "--kubeconfig",
                                 str(sc.harness.kubeconfig)], cwd=ROOT, text=True, capture_output=True, timeout=60)
    assert child.returncode == 143, err
    assert "Traceback" not in err
    assert err.rstrip().splitlines()[-1] == (  # stopped in the dry run: nothing was changed, and it says so
        f"multus-check: terminated (SIGTERM); the fix was interrupted before it changed anything "
        f"(journal: {tmp_path / 'r' / 'fix-journal.json'})")
    assert undone.returncode == 0 and "Nothing to undo" in undone.stdout
