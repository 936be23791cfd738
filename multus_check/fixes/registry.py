"""The fixes this build ships, by id, and planning all of them from one diagnosis.

Importing this module imports no Kubernetes client: planning is pure.
"""

from __future__ import annotations

from multus_check.errors import UsageError
from multus_check.fixes.flannel import FlannelServiceRoutes
from multus_check.fixes.install_multus import InstallMultus
from multus_check.fixes.lan import LanManualSteps
from multus_check.fixes.multus import MultusK3sKubeconfig, MultusNesting
from multus_check.fixes.nad import NadRepair
from multus_check.fixes.plan import Fix, Plan, PlanContext
from multus_check.fixes.plugins import InstallCniPlugins
from multus_check.model import Finding, Status
from multus_check.snapshot.data import Snapshot

FIXES: dict[str, Fix] = {f.id: f for f in (FlannelServiceRoutes(), NadRepair(), InstallCniPlugins(), MultusNesting(), MultusK3sKubeconfig(),
                                          InstallMultus(), LanManualSteps())}


def fix_ids() -> frozenset[str]:
    return frozenset(FIXES)


def check_fix_arguments(fix_only: list[str], fix_options: list[str]) -> None:
    """UsageError listing the valid choices for an unknown --fix-only id, --fix-option fix or value."""
    known = ", ".join(sorted(FIXES))
    unknown = sorted(set(fix_only) - set(FIXES))
    if unknown:
        raise UsageError(f"unknown fix {', '.join(unknown)} in --fix-only; the fixes are: {known}")
    with_variants = "; ".join(f"{i}={'|'.join(f.variants)}" for i, f in sorted(FIXES.items()) if f.variants)
    for option in fix_options:
        fix_id, sep, value = option.partition("=")
        if not sep or not fix_id:
            raise UsageError(f"--fix-option {option!r}: expected FIX=VALUE; the options are: {with_variants}")
        fix = FIXES.get(fix_id)
        if fix is None or not fix.variants:
            what = "no fix of this build" if fix is None else "a fix without variants"
            raise UsageError(f"--fix-option {option}: {fix_id} is {what}; the options are: {with_variants}")
        if value not in fix.variants:
            raise UsageError(f"--fix-option {option}: {value!r} is not a variant of {fix_id}; "
                             f"choose one of: {', '.join(fix.variants)}")


def plan_all(snap: Snapshot, findings: list[Finding], ctx: PlanContext, only: frozenset[str] | None = None) -> list[Plan]:
    """Plans of every fix named by a failing finding or advising on one (or in `only`), empty plans dropped."""
    if only is None:
        failing = {f.check for f in findings if f.status in (Status.FAIL, Status.WARN)}
        wanted = {f.fix for f in findings if f.fix} | {i for i, fix in FIXES.items() if fix.advises & failing}
    else:
        wanted = set(only)
    plans = [FIXES[i].plan(snap, findings, ctx) for i in sorted(wanted) if i in FIXES]
    return sorted((p for p in plans if not p.empty), key=lambda p: p.manual_only)  # automatic fixes first
