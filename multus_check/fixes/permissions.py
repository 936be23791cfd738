"""What a fix, an undo or an attach will send, as RBAC permissions, checked by review before any dry run.

A user without the rights learns it in one line naming the missing verbs before anything is sent,
not from a 403 half-way through. The verbs mirror what apply.py and undo.py send: a replace reads
the live object (get) and PUTs it (update, the dry run too); a create POSTs (create, which RBAC
cannot limit by name; an `if_absent` create first looks the object up: get), and since the rollback
of a later failing step (and undo) reads it and deletes it, a create needs get and delete by name
too; undo reads (get) and restores (update) or deletes (delete). On top, the API server's escalation checks: creating a
ClusterRole needs `escalate` on clusterroles or holding every permission it grants, cluster-wide;
creating a ClusterRoleBinding needs `bind` on its ClusterRole (fixtures/rbac/fix.yaml grants
`bind` on `multus`). tests/api/test_rbac_modes.py holds these lists to the requests really sent.

May touch: the cluster, with SelfSubjectAccessReviews only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from multus_check.errors import Forbidden
from multus_check.fixes.journal import Entry
from multus_check.fixes.plan import Action, Change, Plan
from multus_check.kube import ClusterTarget, connect
from multus_check.kube.access import Permission, allowed
from multus_check.kube.writes import CLUSTERROLES, Writer, resource_for

if TYPE_CHECKING:
    from multus_check.kube import Gateway

FIX_RBAC = "fixtures/rbac/fix.yaml grants them (docs/FIX.md)"
RBAC_GROUP = CLUSTERROLES.group


@dataclass(frozen=True)
class Requirement:
    """Met when every permission of one of `options` is granted; `label` names it when it is not."""

    label: str
    options: tuple[tuple[Permission, ...], ...]

    @staticmethod
    def of(permission: Permission) -> Requirement:
        return Requirement(str(permission), ((permission,),))


def for_changes(changes: Iterable[Change]) -> list[Requirement]:
    """What applying these changes (dry run, live read, write) needs."""
    out: list[Requirement] = []
    for change in changes:
        res, ns, name = resource_for(change.kind), change.namespace, change.name
        if change.action is Action.REPLACE:
            out += [Requirement.of(Permission(v, res, ns, name)) for v in ("get", "update")]
            continue
        out.append(Requirement.of(Permission("create", res, ns)))
        # an `if_absent` create looks first (get); any create is taken back by reading it and deleting it by
        # uid, when a later step fails (the rollback) or on undo: a fix that could not be taken back stops here
        out += [Requirement.of(Permission(v, res, ns, name)) for v in ("get", "delete")]
        out += _escalation(change.after)
    return out


def for_undo(entries: Iterable[Entry]) -> list[Requirement]:
    """What reverting these journal entries needs (read the current object, then restore or delete it)."""
    out: list[Requirement] = []
    for e in entries:
        res = resource_for(e.kind)
        out += [Requirement.of(Permission(v, res, e.namespace, e.name)) for v in ("get", "delete" if e.action == "create" else "update")]
    return out


def _escalation(obj: dict[str, Any]) -> list[Requirement]:
    name = str((obj.get("metadata") or {}).get("name", ""))
    if obj.get("kind") == "ClusterRole":
        held = tuple(Permission(verb, resource, None, rule_name or "", group)
                     for rule in obj.get("rules") or [] for group in rule.get("apiGroups") or []
                     for resource in rule.get("resources") or [] for verb in rule.get("verbs") or []
                     for rule_name in rule.get("resourceNames") or [None])
        escalate = Permission("escalate", "clusterroles", group=RBAC_GROUP)
        return [Requirement(f"creating ClusterRole {name} needs `escalate` on clusterroles or holding every "
                            "permission it grants", ((escalate,), held))]
    if obj.get("kind") == "ClusterRoleBinding":
        role = str((obj.get("roleRef") or {}).get("name", ""))
        return [Requirement.of(Permission("bind", "clusterroles", None, role, RBAC_GROUP))]
    return []


def unmet(gw: Gateway, requirements: list[Requirement]) -> list[str]:
    """One text per requirement that the current user does not meet (reviews in parallel)."""
    wanted = list(dict.fromkeys(p for r in requirements for option in r.options for p in option))
    answer = dict(zip(wanted, allowed(gw, wanted), strict=True))
    out = []
    for r in dict.fromkeys(requirements):
        if any(all(answer[p] for p in option) for option in r.options):
            continue
        if len(r.options) == 1:
            out.append(r.label)
        else:
            lacking = [str(p) for option in r.options for p in option if not answer[p]]
            out.append(f"{r.label} (missing: {', '.join(lacking)})")
    return out


def require(gw: Gateway, requirements: list[Requirement], what: str) -> None:
    """Raise Forbidden (exit 2) naming every unmet requirement, before anything is sent."""
    missing = unmet(gw, requirements)
    if missing:
        raise Forbidden(f"missing permissions to {what}, so nothing was sent: {'; '.join(missing)}. {FIX_RBAC}",
                        verb="", resource="")


def require_for_plans(target: ClusterTarget, plans: list[Plan], writer: Writer | None) -> None:
    """The --fix check: what the planned changes need (with the run's gateway, or one made for `target`)."""
    requirements = for_changes(c for p in plans if p.refused is None for c in p.changes)
    if writer is not None:
        require(writer.gateway, requirements, "apply this plan")
        return
    gateway = connect(target)
    try:
        require(gateway, requirements, "apply this plan")
    finally:
        gateway.close()
