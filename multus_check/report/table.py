"""Terminal report: one line per check, details for what needs attention.

rich decides and draws what depends on the terminal: whether to colour (a terminal, unless
NO_COLOR is set or TERM is dumb; anywhere when FORCE_COLOR asks: `terminal_style`), the colours
themselves, and wrapping long lines at the terminal's width, by display cells, each under its own
column. Anywhere else (CI logs, pipes, --output files) the text is plain and nothing is wrapped:
one line per item, for grep. The columns are laid out here rather than by `rich.table.Table`,
which costs about half a millisecond per row and would make a 5000-node report take seconds
(bench/bench_snapshot.py prints the table's time). rich is imported by this module only, and this
module only when a table is rendered, so `--help` and `--version` stay fast. Touches nothing:
returns text.
"""

from __future__ import annotations

from typing import TextIO

from rich.cells import cell_len
from rich.color import ColorSystem
from rich.console import Console
from rich.style import Style
from rich.text import Text

from multus_check.model import Finding, Status
from multus_check.report.common import LABEL, SYMBOL, check_line, totals_line
from multus_check.report.results import Results

_STYLE = {Status.PASS: "green", Status.FAIL: "red", Status.WARN: "yellow", Status.SKIP: "bright_black",
          Status.ERROR: "magenta"}
_QUIET = (Status.PASS, Status.SKIP)
#: the status column holds a symbol and the longest label ("✘ ERROR"); the id column at least this
_STATUS_WIDTH = 2 + max(len(label) for label in LABEL.values())
_ID_WIDTH = 36
#: details sit under the check: `      ✘ subject: message`, `      → remediation`
_DETAIL_INDENT = 6
#: narrower than this, wrapping would make a column of single words; the terminal wraps instead
_MIN_WRAP = 20

Piece = tuple[str, Status | None]


def terminal_style(stream: TextIO) -> tuple[bool, int | None]:
    """(colour, width to wrap at) for a table written to `stream`, decided as rich decides.

    Colour where rich would colour (a terminal, or FORCE_COLOR set), never with NO_COLOR or TERM=dumb;
    wrapping only on a real terminal, at its width (COLUMNS wins, as in rich).
    """
    console = Console(file=stream)
    color = console.color_system is not None and not console.no_color
    try:
        tty = stream.isatty()
    except ValueError:  # closed
        tty = False
    return color, console.width if tty else None


def render_table(results: Results, *, verbose: bool = False, color: bool = False, width: int | None = None) -> str:
    out = _Lines(color, width)
    source = results.source.get("description") or results.source.get("path") or ""
    out.add([], f"multus-check · run {results.run_id}" + (f" · {source}" if source else ""))
    out.add([], "")
    by_check = results.by_check()
    id_width = max([_ID_WIDTH, *(len(cid) for cid in by_check)])
    for cid, findings in by_check.items():
        status = results.check_status(cid)
        label = f"{SYMBOL[status]} {LABEL[status]}".ljust(_STATUS_WIDTH)
        out.add([(label, status), (" " + cid.ljust(id_width) + " ", None)], check_line(findings))
        _details(out, findings, verbose)
    out.add([], "")
    for note in results.notes:
        out.add([], f"note: {note}")
    out.add([], totals_line(results.summary(), results.process_exit_code()))
    return "".join(line + "\n" for line in out.lines)


def _details(out: _Lines, findings: list[Finding], verbose: bool) -> None:
    """A line per subject (when there are several) that needs attention, then each distinct remediation once."""
    shown_fixes: set[str] = set()
    indent = " " * _DETAIL_INDENT
    for f in findings:
        if len(findings) > 1 and (verbose or f.status not in _QUIET):
            out.add([(indent, None), (SYMBOL[f.status], f.status), (" ", None)], f"{f.subject}: {f.message}")
        if f.remediation and f.status not in _QUIET and f.remediation not in shown_fixes:
            shown_fixes.add(f.remediation)
            out.add([(indent + "→ ", None)], f.remediation)


class _Lines:
    """The report's lines: a prefix (the columns before the text, coloured by status) and the text,
    whose own lines and, on a terminal, whose wrapped lines continue under its first character."""

    def __init__(self, color: bool, width: int | None) -> None:
        self.lines: list[str] = []
        self._color = color
        self._width = width
        # explicit settings only: the environment (COLUMNS, TERM, NO_COLOR) was heard once, in terminal_style
        self._console = Console(width=width, height=25, color_system=None, legacy_windows=False) if width else None

    def add(self, prefix: list[Piece], text: str) -> None:
        indent = sum(len(piece) for piece, _ in prefix)
        first, *rest = self._wrap(text, indent)
        self.lines.append("".join(self._paint(piece, status) for piece, status in prefix) + first)
        self.lines += [" " * indent + line for line in rest]

    def _paint(self, piece: str, status: Status | None) -> str:
        if not self._color or status is None:
            return piece
        return Style.parse(_STYLE[status]).render(piece, color_system=ColorSystem.STANDARD)

    def _wrap(self, text: str, indent: int) -> list[str]:
        lines = text.split("\n")
        if self._console is None or self._width is None or self._width - indent < _MIN_WRAP:
            return lines
        room, out = self._width - indent, []
        for line in lines:
            if cell_len(line) <= room:  # most lines fit: skip the (slower) word wrapping
                out.append(line)
            else:
                out += [part.plain.rstrip(" ") for part in Text(line).wrap(self._console, room, overflow="fold")]
        return out
