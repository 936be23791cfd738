"""The fixes this build ships, by id, and planning all of them from one diagnosis.

Importing this module imports no Kubernetes client: planning is pure.
"""

from __future__ import annotations

from multus_check.fixes.flannel import FlannelServiceRoutes
from multus_check.fixes.install_multus import InstallMultus
from multus_check.fixes.lan import LanManualSteps
from multus_check.fixes.model import Fix, Plan, PlanContext
from multus_check.fixes.multus import MultusK3sKubeconfig, MultusNesting
from multus_check.fixes.nad import NadRepair
from multus_check.fixes.plugins import InstallCniPlugins
from multus_check.model import Finding, Status
from multus_check.snapshot.model import Snapshot

FIXES: dict[str, Fix] = {f.id: f for f in (FlannelServiceRoutes(), NadRepair(), InstallCniPlugins(), MultusNesting(), MultusK3sKubeconfig(),
                                          InstallMultus(), LanManualSteps())}


def fix_ids() -> frozenset[str]:
    return frozenset(FIXES)


def plan_all(snap: Snapshot, findings: list[Finding], ctx: PlanContext, only: frozenset[str] | None = None) -> list[Plan]:
    """Plans of every fix named by a failing finding or advising on one (or in `only`), empty plans dropped."""
    if only is None:
        failing = {f.check for f in findings if f.status in (Status.FAIL, Status.WARN)}
        wanted = {f.fix for f in findings if f.fix} | {i for i, fix in FIXES.items() if fix.advises & failing}
    else:
        wanted = set(only)
    plans = [FIXES[i].plan(snap, findings, ctx) for i in sorted(wanted) if i in FIXES]
    return sorted((p for p in plans if not p.empty), key=lambda p: p.manual_only)  # automatic fixes first
