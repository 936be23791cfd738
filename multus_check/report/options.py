"""How a run reports, typed: the formats and the options of the command line's report flags.

Kept apart from output.py so that the command line can declare and build them without importing the
writers. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass

from multus_check.model import Severity

FORMATS = ("table", "json", "junit", "markdown")


@dataclass(frozen=True)
class ReportOptions:
    """How a run reports (--format, --output, --report-dir, -v) and turns findings into its exit code
    (--fail-on, --exit-zero)."""

    format: str = "table"
    output: str | None = None
    report_dir: str | None = None
    verbose: int = 0
    fail_on: Severity = Severity.INFO
    exit_zero: bool = False
