"""Progress for people and for CI logs.

On a terminal one status line is redrawn in place (what is being read, nodes done of total);
elsewhere (CI=true, output piped) plain lines appear only at milestones, so logs stay short.
Writes to stderr only, never to the report on stdout.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, interactive: bool | None = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        if interactive is None:
            interactive = self.stream.isatty() and not os.environ.get("CI")
        self.interactive = interactive
        self.enabled = enabled
        self._lock = threading.Lock()
        self._last_line = 0.0
        self._last_done = -1
        self._width = 0

    def step(self, text: str) -> None:
        """A phase begins: `reading API objects`, `starting collector pods`, ..."""
        self._write(text, final=not self.interactive)

    def nodes(self, done: int, total: int, failed: int) -> None:
        text = f"node facts: {done}/{total} nodes done" + (f", {failed} failed" if failed else "")
        if self.interactive:
            self._write(text, final=False)
            return
        now = time.monotonic()
        milestone = done == total or (total and done * 10 // total != self._last_done * 10 // max(total, 1))
        if done != self._last_done and (milestone or now - self._last_line >= 10):
            self._last_done, self._last_line = done, now
            self._write(text, final=True)

    def done(self, text: str = "") -> None:
        if self.interactive and self._width:
            self._write(text, final=True) if text else self._clear()
        elif text:
            self._write(text, final=True)

    def _clear(self) -> None:
        with self._lock:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def _write(self, text: str, final: bool) -> None:
        if not self.enabled:
            return
        with self._lock:
            line = f"multus-check: {text}"
            if self.interactive:
                pad = max(0, self._width - len(line))
                self.stream.write("\r" + line + " " * pad + ("\n" if final else ""))
                self._width = 0 if final else len(line)
            else:
                self.stream.write(line + "\n")
            self.stream.flush()
