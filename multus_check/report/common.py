"""Wording shared by the human-readable renderers."""

from __future__ import annotations

from collections import Counter

from multus_check.model import Finding, Status

SYMBOL = {Status.PASS: "✔", Status.FAIL: "✘", Status.WARN: "!", Status.SKIP: "-", Status.ERROR: "?"}
LABEL = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.WARN: "WARN", Status.SKIP: "SKIP", Status.ERROR: "ERROR"}


def check_line(findings: list[Finding]) -> str:
    """`pass on 3 of 3 subjects` style summary of one check's findings."""
    counts = Counter(f.status for f in findings)
    if len(findings) == 1:
        return findings[0].message
    parts = [f"{counts[s]} {s.value}" for s in (Status.FAIL, Status.ERROR, Status.WARN, Status.PASS, Status.SKIP) if counts[s]]
    return f"{len(findings)} subjects: " + ", ".join(parts)


def totals_line(results_summary: dict[str, object], exit_code: int) -> str:
    by = results_summary["checks_by_status"]
    assert isinstance(by, dict)
    parts = [f"{by[s.value]} {s.value}" for s in Status if by.get(s.value)]
    return f"{results_summary['checks']} checks: " + ", ".join(parts) + f" (exit code {exit_code})"
