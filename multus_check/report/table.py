"""Terminal report: one line per check, details for what needs attention."""

from __future__ import annotations

from multus_check.model import Finding, Status
from multus_check.report.common import LABEL, SYMBOL, check_line, totals_line
from multus_check.report.results import Results

_COLOR = {Status.PASS: "32", Status.FAIL: "31", Status.WARN: "33", Status.SKIP: "90", Status.ERROR: "35"}
_QUIET = (Status.PASS, Status.SKIP)


def render_table(results: Results, *, verbose: bool = False, color: bool = False) -> str:
    def paint(status: Status, text: str) -> str:
        return f"\x1b[{_COLOR[status]}m{text}\x1b[0m" if color else text

    source = results.source.get("description") or results.source.get("path") or ""
    lines = [f"multus-check · run {results.run_id}" + (f" · {source}" if source else ""), ""]
    for cid, findings in results.by_check().items():
        status = results.check_status(cid)
        lines.append(f"{paint(status, SYMBOL[status] + ' ' + LABEL[status].ljust(5))} {cid.ljust(36)} {check_line(findings)}")
        lines += _details(findings, verbose, paint)
    lines.append("")
    lines += [f"note: {note}" for note in results.notes]
    lines.append(totals_line(results.summary(), results.process_exit_code()))
    return "\n".join(lines) + "\n"


def _details(findings: list[Finding], verbose: bool, paint: object) -> list[str]:
    assert callable(paint)
    out: list[str] = []
    shown_fixes: set[str] = set()
    for f in findings:
        if len(findings) > 1 and (verbose or f.status not in _QUIET):
            out.append(f"      {paint(f.status, SYMBOL[f.status])} {f.subject}: {f.message}")
        if f.remediation and f.status not in _QUIET and f.remediation not in shown_fixes:
            shown_fixes.add(f.remediation)
            text = f.remediation.splitlines()
            out += ["      → " + text[0]] + ["        " + t for t in text[1:]]
    return out
