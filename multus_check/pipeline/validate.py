"""Refuse unusable input before any work: one line naming the cause and the next step, exit 2.

A --check/--skip pattern that names no check (a typo, or a check of another build), a selection
that leaves nothing, an unknown --fix-only fix or --fix-option variant, and an explicit --report-dir
or --output that cannot be written are found here, before a snapshot is read or a cluster is asked.
Reads the check and fix registries and looks at (never creates) the report destinations.
"""

from __future__ import annotations

from multus_check.checks import registry
from multus_check.checks.spec import Selection
from multus_check.errors import UsageError
from multus_check.report.options import ReportOptions
from multus_check.report.output import check_destinations


def check_selection(selection: Selection) -> None:
    for flag, patterns in (("--check", selection.include), ("--skip", selection.exclude)):
        unknown = registry.unknown_patterns(patterns)
        if unknown:
            raise UsageError(f"no check matches {flag} {', '.join(unknown)}{registry.suggestion(unknown)}; "
                             "`multus-check --list` shows the ids")
    if not registry.select(selection.include, selection.exclude):
        raise UsageError(f"no check matches --check {list(selection.include)} --skip {list(selection.exclude)}; "
                         "`multus-check --list` shows the ids")


def check_fix_choices(only: tuple[str, ...], variants: tuple[str, ...]) -> None:
    if only or variants:
        from multus_check.fixes.registry import check_fix_arguments

        check_fix_arguments(list(only), list(variants))


def before_any_work(selection: Selection, report: ReportOptions, fix_only: tuple[str, ...] = (),
                    fix_variants: tuple[str, ...] = ()) -> None:
    """UsageError for anything that makes the run pointless, in the order the user gave it."""
    check_selection(selection)
    check_fix_choices(fix_only, fix_variants)
    check_destinations(report)
