"""Progress for people and for CI logs.

On a terminal (stderr is a tty, CI unset, TERM not dumb) a rich live display shows the phase
under way: a spinner with what is being done, and a bar with the count on the phases that count
(nodes done in the collection, sample pods done in e2e). It is transient: nothing of it stays on
the screen once the phase ends, only the lines said with `say` or `done(text)`. Log records and
prints to stderr during the display appear above it. Elsewhere (CI=true, output piped) plain
lines appear only at milestones, so logs stay short; `spin` phases say nothing there.
Writes to stderr only, never to the report on stdout. rich is imported only when a display is
drawn, so commands that never draw one (`--help`, `--version`, CI runs) do not pay for it.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

PREFIX = "multus-check: "


def on_terminal(stream: TextIO) -> bool:
    """Whether `stream` is someone's terminal, where a display may redraw itself in place."""
    try:
        tty = stream.isatty()
    except ValueError:  # closed
        return False
    return tty and not os.environ.get("CI") and os.environ.get("TERM", "").lower() not in ("dumb", "unknown")


class Progress:
    """What a long command is doing, on stderr: thread-safe, a no-op when not `enabled`."""

    def __init__(self, stream: TextIO | None = None, interactive: bool | None = None, enabled: bool = True,
                 console: Any = None) -> None:
        """`console`: a rich Console to draw on (tests); by default one on `stream`."""
        self.stream = stream or sys.stderr
        if interactive is None:
            interactive = on_terminal(self.stream)
        self.interactive = interactive
        self.enabled = enabled
        self._console = console
        self._lock = threading.Lock()
        self._last_line = 0.0
        self._last_done = -1
        self._view: _LiveView | None = None

    def step(self, text: str) -> None:
        """A phase begins: `reading API objects`, `starting collector pods`, ..."""
        if self.interactive:
            self._live(lambda view: view.phase(text))
        else:
            self._write(text)

    def spin(self, text: str) -> None:
        """A long wait shown only on a terminal (the caller reports its outcome): `lab demo: coming up`."""
        if self.interactive:
            self._live(lambda view: view.phase(text))

    def nodes(self, done: int, total: int, failed: int) -> None:
        """Node facts collected so far: a bar on a terminal, a line per tenth (or per 10 s) elsewhere."""
        if self.interactive:
            self._live(lambda view: view.count("node facts", "nodes", done, total, failed))
            return
        text = f"node facts: {done}/{total} nodes done" + (f", {failed} failed" if failed else "")
        now = time.monotonic()
        milestone = done == total or (total and done * 10 // total != self._last_done * 10 // max(total, 1))
        if done != self._last_done and (milestone or now - self._last_line >= 10):
            self._last_done, self._last_line = done, now
            self._write(text)

    def pods(self, done: int, total: int) -> None:
        """Sample pods finished so far: a bar on a terminal, a line per change elsewhere."""
        if self.interactive:
            self._live(lambda view: view.count("e2e: sample pods", "pods", done, total, 0))
        else:
            self._write(f"e2e: {done}/{total} sample pods done")

    def say(self, text: str) -> None:
        """A line that stays (above the display on a terminal): advice, what was kept, ..."""
        if self.interactive and self._view is not None:
            self._view.say(PREFIX + text)
        else:
            self._write(text)

    def done(self, text: str = "") -> None:
        """The display (if any) goes away; `text`, if given, stays as a line."""
        with self._lock:
            view, self._view = self._view, None
        if view is not None:
            view.stop()
        if text:
            self._write(text)

    def _live(self, act: Any) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self._view is None:
                self._view = _LiveView(self.stream, self._console)
            act(self._view)

    def _write(self, text: str) -> None:
        if not self.enabled:
            return
        with self._lock:
            self.stream.write(PREFIX + text + "\n")
            self.stream.flush()


@contextlib.contextmanager
def spinning(text: str) -> Iterator[None]:
    """A spinner with `text` on a terminal while the block runs; nothing elsewhere."""
    progress = Progress()
    progress.spin(text)
    try:
        yield
    finally:
        progress.done()


class _LiveView:
    """The rich display of one Progress: one visible task at a time (the current phase)."""

    def __init__(self, stream: TextIO, console: Any) -> None:
        from rich.console import Console
        from rich.file_proxy import FileProxy
        from rich.progress import Progress as RichProgress

        console = console or Console(file=stream, highlight=False, force_terminal=True)
        self._progress = RichProgress(*_columns(), console=console, transient=True, redirect_stdout=False,
                                      redirect_stderr=stream is sys.stderr)
        self._task: Any = None
        self._key = ""
        self._stopped = False
        self._handlers = _route_logging(stream, FileProxy(console, stream))
        self._progress.start()
        atexit.register(self.stop)  # an error on the way out must not leave a half-drawn display

    def phase(self, text: str) -> None:
        self._show(text, PREFIX + text, total=None)

    def count(self, key: str, unit: str, done: int, total: int, failed: int) -> None:
        if self._key != key:
            self._show(key, PREFIX + key, total=total)
        count = f"{done}/{total} {unit}" + (f", {failed} failed" if failed else "")
        self._progress.update(self._task, completed=done, total=total, count=count)

    def say(self, line: str) -> None:
        from rich.text import Text

        self._progress.console.print(Text(line), soft_wrap=True)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        self._progress.stop()
        for handler, stream in self._handlers:
            handler.setStream(stream)

    def _show(self, key: str, description: str, total: int | None) -> None:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._key = key
        self._task = self._progress.add_task(description, total=total, count="")


def _columns() -> list[Any]:
    """Spinner, what is under way, a bar and its count (only for phases that count), time spent."""
    from rich.progress import BarColumn, ProgressColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    bar = BarColumn()

    class CountBar(ProgressColumn):
        def render(self, task: Any) -> Any:
            return bar.render(task) if task.total is not None else Text("")

    return [SpinnerColumn(), TextColumn("{task.description}"), CountBar(), TextColumn("{task.fields[count]}"),
            TimeElapsedColumn()]


def _route_logging(stream: TextIO, proxy: Any) -> list[tuple[logging.StreamHandler[Any], Any]]:
    """Point the root logger's handlers that write to `stream` at the display, so that a warning
    appears above it instead of inside it; returns what to restore."""
    routed = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is stream:
            routed.append((handler, handler.setStream(proxy)))
    return routed
