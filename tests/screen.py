"""A tiny terminal for tests: the lines a screen shows after some output with cursor controls.

It understands what rich's live display writes: `\\r`, `\\n`, erase in line (ESC[K, ESC[2K), cursor
up (ESC[nA); colours and cursor show/hide change no text and are skipped.
"""

from __future__ import annotations

import re

_CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


def screen(output: str) -> list[str]:
    """The non-blank lines left on the screen, top to bottom."""
    rows: list[list[str]] = [[]]
    row = col = 0
    i = 0
    while i < len(output):
        control = _CSI.match(output, i)
        if control:
            arg, command = control.groups()
            if command == "K":
                rows[row] = [] if arg == "2" else rows[row][:col]
            elif command == "A":
                row = max(0, row - int(arg or 1))
            i = control.end()
            continue
        char = output[i]
        if char == "\r":
            col = 0
        elif char == "\n":
            row, col = row + 1, 0
            rows += [[] for _ in range(row + 1 - len(rows))]
        else:
            line = rows[row]
            line += [" "] * (col + 1 - len(line))
            line[col] = char
            col += 1
        i += 1
    return [text for text in ("".join(r).rstrip() for r in rows) if text]

