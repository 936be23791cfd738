"""Ctrl-C and SIGTERM: unwind so that cleanup runs, then one line and 130/143; a second signal exits at once.

A live run creates objects in the cluster (collector and sample pods, a ConfigMap, perhaps a
namespace). The first SIGINT or SIGTERM raises KeyboardInterrupt or `Terminated` in the main
thread, so the `finally` blocks remove them; what the cleanup did is kept (`report`) for the
one line the command line prints at the end (`final_line`). Once a signal arrived, and during
any cleanup, another signal does not wait: it exits at once with 128 + its number, naming
exactly what the tracked runs left behind (`tracking`), or saying that nothing was left.

May touch: the process's SIGINT and SIGTERM handlers (main thread only, restored on the way
out) and stderr (the message of an immediate exit). Standard library only, so `--help` stays fast.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from multus_check.errors import Terminated
from multus_check.model import EXIT_INTERRUPTED, EXIT_TERMINATED


@dataclass
class _State:
    depth: int = 0
    pid: int = 0  # the process that installed the handlers (a forked helper inherits them)
    first: int | None = None  # the first signal of this invocation
    seen: int = 0
    cleaning: int = 0
    trackers: list[Callable[[], str]] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    previous: dict[int, Any] = field(default_factory=dict)


_state = _State()


def _name(signum: int) -> str:
    return "SIGTERM" if signum == signal.SIGTERM else "Ctrl-C"


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """While active, the first SIGINT/SIGTERM raises, later ones exit at once (re-entrant; main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    if _state.depth == 0:
        _reset()
        for signum in (signal.SIGINT, signal.SIGTERM):
            current = signal.getsignal(signum)
            if signum == signal.SIGINT and current is signal.SIG_IGN:
                continue  # a background job ignores Ctrl-C on purpose
            _state.previous[signum] = current
            signal.signal(signum, _handler)
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1
        if _state.depth == 0:
            for number, previous in _state.previous.items():
                signal.signal(number, previous)
            _state.previous.clear()


def _reset() -> None:
    _state.pid, _state.first, _state.seen, _state.cleaning = os.getpid(), None, 0, 0
    _state.trackers.clear()
    _state.reports.clear()


def _handler(signum: int, frame: FrameType | None) -> None:
    if os.getpid() != _state.pid:  # a forked helper (pyroute2, a probe): the defaults, no messages of ours
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        os._exit(128 + signum)
    _state.seen += 1
    if _state.first is not None or _state.cleaning:
        _exit_now(signum)
    _state.first = signum
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated


def _exit_now(signum: int) -> None:
    when = "cleanup interrupted" if _state.cleaning else "interrupted again"
    if _state.trackers:
        left = left_behind()
        tail = f"left behind: {left}" if left else "nothing was left behind"
    else:
        tail = "exiting at once"
    sys.stderr.write(f"\nmultus-check: {when} ({_name(signum)}); {tail}\n")
    sys.stderr.flush()
    os._exit(128 + signum)


@contextlib.contextmanager
def tracking(describe: Callable[[], str]) -> Iterator[None]:
    """While active, `describe()` says what is left in the cluster ("" when nothing), for an immediate exit."""
    _state.trackers.append(describe)
    try:
        yield
    finally:
        _state.trackers.remove(describe)


@contextlib.contextmanager
def cleaning() -> Iterator[None]:
    """While active, any signal exits at once, naming what is left (cleanup already runs)."""
    _state.cleaning += 1
    try:
        yield
    finally:
        _state.cleaning -= 1


def left_behind() -> str:
    return "; ".join(text for text in (describe() for describe in list(_state.trackers)) if text)


def interrupted() -> bool:
    """A signal arrived and the run is unwinding."""
    return _state.first is not None


def report(text: str) -> None:
    """What a cleanup did while unwinding: it goes into the final line instead of a line of its own."""
    _state.reports.append(text)


def final_line(exc: BaseException) -> tuple[int, str]:
    """The exit code and the one line for an interrupted invocation."""
    term = isinstance(exc, Terminated)
    what = "terminated (SIGTERM)" if term else "interrupted (Ctrl-C)"
    reports = "".join(f"; {r}" for r in _state.reports)
    return (EXIT_TERMINATED if term else EXIT_INTERRUPTED), f"multus-check: {what}{reports}"


def mark() -> int:
    """How many signals arrived so far (see `raise_if_signalled_since`)."""
    return _state.seen


def raise_if_signalled_since(count: int) -> None:
    """Re-raise a signal that code in between swallowed (pytest catches KeyboardInterrupt and more)."""
    if _state.seen > count and _state.first is not None:
        if _state.first == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated
