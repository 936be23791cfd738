"""Start, find and stop the lab's daemons, each inside one lab namespace, by recorded PID.

Why it exists: a lab outlives the command that started it (`lab up`), so each daemon's PID and
kernel start time go into the lab state; `lab down` then ends exactly those processes (the
start time guards against a recycled PID) and whatever else runs inside the lab's own
namespaces. Nothing else is ever signalled.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from multus_check.errors import HostError
from multus_check.lab.config import LabState
from multus_check.probes import netns

log = logging.getLogger(__name__)


def start_time(pid: int) -> int | None:
    """The kernel start time of a process (field 22 of /proc/PID/stat), None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(record: dict[str, int]) -> bool:
    st = start_time(record["pid"])
    return st is not None and st == record["starttime"] and not _zombie(record["pid"])


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def start(state: LabState, role: str, ns_name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Start `argv` inside `ns_name` (ip netns exec execs it, so the PID is the daemon's own)."""
    logfile = state.dir / f"{role}.log"
    with open(logfile, "wb") as out:
        proc = subprocess.Popen(["ip", "netns", "exec", ns_name, *argv], stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)
    st = start_time(proc.pid)
    if st is None:
        raise HostError(f"{role} exited at once: {logfile.read_text(errors='replace')[-500:]}")
    state.pids[role] = {"pid": proc.pid, "starttime": st}
    state.save()
    log.debug("started %s (pid %d) in %s: %s", role, proc.pid, ns_name, " ".join(argv))
    return proc.pid


def wait_for(what: str, ready: Callable[[], bool], timeout: float, record: dict[str, int] | None = None,
             logfile: Path | None = None) -> float:
    """Poll `ready` every 20 ms; returns the seconds it took. Fails early when the daemon died."""
    t0 = time.monotonic()
    while not ready():
        dead = record is not None and not alive(record)
        if dead or time.monotonic() - t0 > timeout:
            tail = logfile.read_text(errors="replace")[-800:] if logfile and logfile.exists() else ""
            why = "exited" if dead else f"was not ready within {timeout:.0f} s"
            raise HostError(f"{what} {why}. Log tail:\n{tail}")
        time.sleep(0.02)
    return time.monotonic() - t0


def stop(state: LabState, role: str, grace: float = 3.0) -> bool:
    """SIGTERM (then SIGKILL) the recorded process of `role`; False when it was not running."""
    record = state.pids.pop(role, None)
    state.save()
    if record is None or not alive(record):
        _reap(record)
        return False
    _terminate(record["pid"], grace, lambda: alive(record))
    return True


def _terminate(pid: int, grace: float, running: Callable[[], bool]) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while running() and time.monotonic() < deadline:
        _reap({"pid": pid})
        time.sleep(0.02)
    if running():
        log.warning("pid %d ignored SIGTERM for %.0f s; sending SIGKILL", pid, grace)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _reap({"pid": pid})


def _reap(record: dict[str, int] | None) -> None:
    """Collect the exit status if the daemon is our own child (lab run), so no zombie remains."""
    if record is None:
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(record["pid"], os.WNOHANG)


def stop_all(state: LabState) -> list[str]:
    """Stop every recorded process, then anything still inside the lab's namespaces."""
    stopped = [role for role in list(state.pids) if stop(state, role)]
    for ns_name in (*state.namespaces, *netns.listed(state.pod_ns_prefix)):
        for pid in netns.pids_in(ns_name):
            if pid == os.getpid():
                continue
            log.info("stopping pid %d left inside namespace %s", pid, ns_name)
            st = start_time(pid)
            _terminate(pid, 2.0, lambda p=pid, s=st: start_time(p) == s and not _zombie(p))  # type: ignore[misc]
            stopped.append(f"pid {pid} in {ns_name}")
    return stopped
