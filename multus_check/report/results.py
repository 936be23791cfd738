"""The one canonical results document of a run; every report format renders from it.

Its JSON shape is a public contract (docs/RESULTS.md). Every format is written as UTF-8 (and
JUnit as XML 1.0), so a lone surrogate, which Python strings may carry (a `\\ud800` escape in a
snapshot's JSON, a file name that is not UTF-8) and no encoder accepts, is shown as U+FFFD, as Go
and kubectl show it (`printable`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from multus_check import __version__
from multus_check.model import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_OK, Finding, Severity, Status, new_run_id, now_iso

RESULTS_FORMAT = "multus-check/results/v1"

#: a surrogate code point: a Python string holds one only unpaired (json joins valid pairs)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Results:
    findings: list[Finding]
    run_id: str = field(default_factory=new_run_id)
    started_at: str = field(default_factory=now_iso)
    finished_at: str = field(default_factory=now_iso)
    source: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)  # id -> title, for every check run
    notes: list[str] = field(default_factory=list)
    #: how the run turns findings into its exit code (--fail-on, --exit-zero), set by the command
    fail_on: Severity = Severity.INFO
    exit_zero: bool = False
    #: set when the run itself failed after judging (an explicit --report-dir or --output could not be written)
    exit_override: int | None = None

    @classmethod
    def build(cls, findings: list[Finding], *, source: dict[str, Any] | None = None,
              checks: dict[str, str] | None = None, run_id: str | None = None,
              started_at: str | None = None, notes: list[str] | None = None) -> Results:
        ordered = sorted(findings, key=lambda f: (f.check, f.subject))
        res = cls(ordered, source=source or {}, checks=dict(checks or {}), notes=list(notes or []))
        if run_id:
            res.run_id = run_id
        if started_at:
            res.started_at = started_at
        for f in ordered:
            res.checks.setdefault(f.check, f.check)
        return res

    def printable(self) -> Results:
        """This document with every lone surrogate replaced by U+FFFD (itself when there is none)."""
        findings = [_printable_finding(f) for f in self.findings]
        source, notes = printable(self.source), printable(self.notes)
        if source is self.source and notes is self.notes and all(a is b for a, b in zip(findings, self.findings,
                                                                                          strict=True)):
            return self
        return dataclasses.replace(self, findings=findings, source=source, notes=notes)

    def by_check(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {cid: [] for cid in sorted(self.checks)}
        for f in self.findings:
            out.setdefault(f.check, []).append(f)
        return out

    def check_status(self, check_id: str) -> Status:
        return _worst(self.by_check().get(check_id) or [])

    def exit_code(self, fail_on: Severity | None = None) -> int:
        """The verdict's code: 1 for a failure at or above `fail_on` (default: the run's), 3 for an
        error, else 0. Without --exit-zero and --fail-on this is also what the process returns."""
        threshold = self.fail_on if fail_on is None else fail_on
        if any(f.status is Status.FAIL and f.severity.rank >= threshold.rank for f in self.findings):
            return EXIT_FAILED
        if any(f.status is Status.ERROR for f in self.findings):
            return EXIT_INCOMPLETE
        return EXIT_OK

    def process_exit_code(self) -> int:
        """The code the process returns, printed in every report and stored in summary.exit_code."""
        if self.exit_override is not None:
            return self.exit_override
        return EXIT_OK if self.exit_zero else self.exit_code()

    def summary(self) -> dict[str, Any]:
        statuses = Counter(f.status.value for f in self.findings)
        per_check = {cid: _worst(items).value for cid, items in self.by_check().items()}
        return {
            "checks": len(per_check),
            "findings": len(self.findings),
            "by_status": {s.value: statuses.get(s.value, 0) for s in Status},
            "checks_by_status": {s.value: sum(1 for v in per_check.values() if v == s.value) for s in Status},
            "by_check": per_check,
            "exit_code": self.process_exit_code(),
            "fail_on": self.fail_on.value,
            "exit_zero": self.exit_zero,
        }

    def to_dict(self) -> dict[str, Any]:
        if (clean := self.printable()) is not self:
            return clean.to_dict()
        return {
            "format": RESULTS_FORMAT,
            "tool": {"name": "multus-check", "version": __version__},
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "source": self.source,
            "checks": [{"id": cid, "title": title} for cid, title in sorted(self.checks.items())],
            "findings": [f.to_dict() for f in self.findings],
            "summary": self.summary(),
            "notes": self.notes,
        }

    def to_json(self) -> str:
        """The document, indented, with one finding per line: json's C encoder only runs without
        `indent`, and the findings are nearly all of a large run's document (10x faster at 1000 nodes)."""
        parts = []
        for key, value in self.to_dict().items():
            if key == "findings" and value:
                body = ",\n".join("    " + json.dumps(f) for f in value)
                parts.append(f'  "findings": [\n{body}\n  ]')
            else:
                parts.append(f"  {json.dumps(key)}: " + json.dumps(value, indent=2).replace("\n", "\n  "))
        return "{\n" + ",\n".join(parts) + "\n}\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Results:
        res = cls([Finding.from_dict(f) for f in data.get("findings", [])])
        res.run_id = str(data.get("run_id", res.run_id))
        res.source = dict(data.get("source") or {})
        res.checks = {c["id"]: c.get("title", c["id"]) for c in data.get("checks", [])}
        return res


def printable(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys too) replaced by U+FFFD; the same object
    when there is none, so a clean document costs one walk and no copy."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value) if _LONE_SURROGATE.search(value) else value
    if isinstance(value, dict):
        items = [(printable(k), printable(v)) for k, v in value.items()]
        same = all(a is k and b is v for (a, b), (k, v) in zip(items, value.items(), strict=True))
        return value if same else dict(items)
    if isinstance(value, list | tuple):
        cleaned = [printable(v) for v in value]
        return value if all(a is b for a, b in zip(cleaned, value, strict=True)) else type(value)(cleaned)
    return value


def _printable_finding(f: Finding) -> Finding:
    texts = (f.subject, f.message, f.remediation)
    clean = tuple(printable(t) for t in texts)
    evidence = printable(f.evidence)
    if evidence is f.evidence and all(a is b for a, b in zip(clean, texts, strict=True)):
        return f
    return dataclasses.replace(f, subject=clean[0], message=clean[1], remediation=clean[2], evidence=evidence)


def _worst(findings: list[Finding]) -> Status:
    """A check's status: its worst finding's; a check without findings could not look (error)."""
    return max((f.status for f in findings), key=lambda s: s.rank) if findings else Status.ERROR
