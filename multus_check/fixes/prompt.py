"""Asking before a change: `--fix` and `attach` apply only after a `y` on a terminal (or `--yes`).

Without a terminal only the plan is printed. On a terminal the answer is read from standard input:
only `y`/`yes` applies; `n`, an empty line, end of input (Ctrl-D) and Ctrl-C apply nothing, each
with a message (the caller exits 130 for Ctrl-C, like an interrupt anywhere else). Touches only the
two streams it is given.
"""

from __future__ import annotations

import enum
import sys
from typing import TextIO


class Answer(enum.Enum):
    YES = "yes"
    NO = "no"
    NOT_A_TERMINAL = "not a terminal"
    END_OF_INPUT = "end of input"
    INTERRUPTED = "interrupted"


def ask(out: TextIO, stdin: TextIO | None = None, question: str = "Apply these changes?") -> Answer:
    """Ask on a terminal; anything but y/yes, including Ctrl-D and Ctrl-C, applies nothing."""
    stdin = stdin or sys.stdin
    if not stdin.isatty():
        out.write("Not a terminal: plan only. Re-run with --fix --yes to apply it.\n")
        return Answer.NOT_A_TERMINAL
    try:
        out.write(f"{question} [y/N] ")
        out.flush()
        line = stdin.readline()
    except KeyboardInterrupt:
        out.write("\nInterrupted at the prompt: nothing was applied.\n")
        return Answer.INTERRUPTED
    if not line:
        out.write("\nNo answer (end of input): nothing was applied.\n")
        return Answer.END_OF_INPUT
    if line.strip().lower() in ("y", "yes"):
        return Answer.YES
    out.write("Not confirmed: nothing was applied.\n")
    return Answer.NO
