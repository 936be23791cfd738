"""The fixes this build ships, by id, and planning all of them from one diagnosis.

Importing this module imports no Kubernetes client: planning is pure.
"""

from __future__ import annotations

from multus_check.fixes.flannel import FlannelServiceRoutes
from multus_check.fixes.install_multus import InstallMultus
from multus_check.fixes.model import Fix, Plan, PlanContext
from multus_check.fixes.multus import MultusK3sKubeconfig, MultusNesting
from multus_check.fixes.nad import NadRepair
from multus_check.fixes.plugins import InstallCniPlugins
from multus_check.model import Finding
from multus_check.snapshot.model import Snapshot

FIXES: dict[str, Fix] = {f.id: f for f in (FlannelServiceRoutes(), NadRepair(), InstallCniPlugins(), MultusNesting(), MultusK3sKubeconfig(),
                                          InstallMultus())}


def fix_ids() -> frozenset[str]:
    return frozenset(FIXES)


def plan_all(snap: Snapshot, findings: list[Finding], ctx: PlanContext, only: frozenset[str] | None = None) -> list[Plan]:
    """Plans of every fix named by a failing finding (or in `only`), empty plans dropped."""
    wanted = {f.fix for f in findings if f.fix} if only is None else set(only)
    plans = [FIXES[i].plan(snap, findings, ctx) for i in sorted(wanted) if i in FIXES]
    return [p for p in plans if not p.empty]
