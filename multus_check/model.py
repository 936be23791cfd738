"""The vocabulary every layer shares: statuses, severities, findings, exit codes and run ids.

The lowest floor of the package (docs/ARCHITECTURE.md): every other module may import it, it
imports nothing of the project. Pure data and clock reads; nothing here touches a cluster, a host
or the file system.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: the process exit codes (README "Exit codes", a public contract)
EXIT_OK = 0  # no check failed (warnings allowed)
EXIT_FAILED = 1  # a check failed at or above --fail-on
EXIT_USAGE = 2  # unusable invocation or input
EXIT_INCOMPLETE = 3  # nothing failed, but some checks could not be evaluated
EXIT_INTERRUPTED = 128 + 2  # 130: Ctrl-C (SIGINT), after removing what the run created
EXIT_TERMINATED = 128 + 15  # 143: SIGTERM, likewise
#: what a shell reports for a process ended by SIGPIPE; only for output cut short outside the reports,
#: whose own writer ends quietly with the run's real exit code
EXIT_BROKEN_PIPE = 128 + 13  # 141


def new_run_id() -> str:
    """The id of one run: in its report directory, its results, its journal, and on every object it creates.

    The only generator: `20261201-094713-0a1502` (UTC time + 6 hex digits), valid in object names and labels.
    """
    import secrets  # here: the command line's start-up does not pay for it

    return dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Status(enum.Enum):
    """The verdict of one check on one subject."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    SKIP = "skip"
    ERROR = "error"  # could not be evaluated: data missing, forbidden or unreadable

    @property
    def rank(self) -> int:
        """Order used to pick the worst status of a check (higher is worse)."""
        return _STATUS_RANK[self]


_STATUS_RANK = {Status.PASS: 0, Status.SKIP: 1, Status.WARN: 2, Status.ERROR: 3, Status.FAIL: 4}


class Severity(enum.Enum):
    """How much a failure of a check hurts the setup."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    """The result of one check on one subject (a node, an object, the cluster)."""

    check: str
    status: Status
    severity: Severity
    subject: str
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    remediation: str = ""
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape of a finding (see docs/RESULTS.md)."""
        return {
            "check": self.check,
            "status": self.status.value,
            "severity": self.severity.value,
            "subject": self.subject,
            "message": self.message,
            "evidence": dict(self.evidence),
            "remediation": self.remediation,
            "fix": self.fix,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            check=str(data["check"]),
            status=Status(data["status"]),
            severity=Severity(data["severity"]),
            subject=str(data["subject"]),
            message=str(data["message"]),
            evidence=dict(data.get("evidence") or {}),
            remediation=str(data.get("remediation") or ""),
            fix=data.get("fix"),
        )


def worst_status(findings: list[Finding]) -> Status:
    """The worst status among findings; an empty list counts as ERROR (nothing was judged)."""
    if not findings:
        return Status.ERROR
    return max((f.status for f in findings), key=lambda s: s.rank)
