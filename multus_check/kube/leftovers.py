"""`multus-check cleanup`: remove what earlier runs left, and say exactly what could not be checked.

Everything a run creates carries `app.kubernetes.io/managed-by=multus-check`: namespaces the
runs created are deleted whole, labelled pods and ConfigMaps elsewhere by label. Each list and
delete is asked for first by SelfSubjectAccessReview, so a missing permission is named, never
met as a 403: what could not be looked at or removed goes into `CleanupReport.unchecked`, and
the command does not exit 0 then. Without `--namespace` it needs the cluster-wide lists that
fixtures/rbac/cleanup.yaml grants; `--namespace NS` needs only what node-facts.yaml grants in NS.

May touch: namespaces, pods and ConfigMaps that carry the label; nothing unlabelled.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from multus_check.errors import ClusterAccessError, Forbidden, NotFound
from multus_check.kube.access import Permission
from multus_check.kube.connect import DEFAULT_NAMESPACE
from multus_check.kube.podrun import MANAGED_BY, MANAGED_SELECTOR, MANAGER, delete_run_objects
from multus_check.kube.resources import CONFIGMAPS, NAMESPACES, PODS, Resource

if TYPE_CHECKING:
    from multus_check.kube.gateway import Gateway

CLEANUP_RBAC = "fixtures/rbac/cleanup.yaml"
T = TypeVar("T")


@dataclass
class CleanupReport:
    namespaces: list[str] = field(default_factory=list)
    objects: dict[str, int] = field(default_factory=dict)  # namespace -> pods+configmaps removed
    unchecked: list[str] = field(default_factory=list)  # what could not be looked at or removed, and why

    @property
    def empty(self) -> bool:
        return not self.namespaces and not self.objects


def cleanup_leftovers(gw: Gateway, namespace: str | None = None) -> CleanupReport:
    """Remove what any multus-check run left (in `namespace` only, if given)."""
    report = CleanupReport()
    for name in (_run_namespaces(gw, report) if namespace is None else _run_namespace(gw, namespace, report)):
        _delete_namespace(gw, name, report)
    found: dict[str, Counter[str]] = {}
    for resource in (PODS, CONFIGMAPS):
        for obj in _labelled(gw, resource, namespace, report):
            where = str(obj["metadata"].get("namespace", ""))
            if where not in report.namespaces:
                found.setdefault(where, Counter())[resource.plural] += 1
    for where, counts in sorted(found.items()):
        for resource in (PODS, CONFIGMAPS):
            if counts[resource.plural]:
                _delete_objects(gw, resource, where, counts[resource.plural], report)
    return report


def _run_namespaces(gw: Gateway, report: CleanupReport) -> list[str]:
    """Every namespace a run created (cluster-wide list); without that permission, the default one if it is."""
    if not _may(gw, Permission("list", NAMESPACES), report, f"namespaces created by earlier runs, other than {DEFAULT_NAMESPACE}"):
        return _run_namespace(gw, DEFAULT_NAMESPACE, report)
    listed = _guarded(report, "namespaces created by earlier runs",
                      lambda: gw.list(NAMESPACES, label_selector=MANAGED_SELECTOR))
    return [str(ns["metadata"]["name"]) for ns in listed or []]


def _run_namespace(gw: Gateway, name: str, report: CleanupReport) -> list[str]:
    """[name] if that namespace exists and a run created it (it carries the label), else []."""
    what = f"whether namespace {name} was created by a run"
    if not _may(gw, Permission("get", NAMESPACES, name=name), report, what):
        return []
    try:
        obj = _guarded(report, what, lambda: gw.get(NAMESPACES, None, name))
    except NotFound:
        return []
    labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return [name] if labels.get(MANAGED_BY) == MANAGER else []


def _delete_namespace(gw: Gateway, name: str, report: CleanupReport) -> None:
    what = f"namespace {name}, created by an earlier run"
    if _may(gw, Permission("delete", NAMESPACES, name=name), report, what) and _guarded(
            report, what, lambda: _gone_is_fine(lambda: gw.delete(NAMESPACES, None, name))):
        report.namespaces.append(name)


def _labelled(gw: Gateway, resource: Resource, namespace: str | None, report: CleanupReport) -> list[dict[str, Any]]:
    """Labelled objects of `resource` in `namespace`, or cluster-wide (failing that: in the default namespace)."""
    if namespace is None:
        if _may(gw, Permission("list", resource), report, f"labelled {resource.plural} outside namespace {DEFAULT_NAMESPACE}"):
            return _guarded(report, f"labelled {resource.plural}",
                            lambda: gw.list(resource, label_selector=MANAGED_SELECTOR)) or []
        namespace = DEFAULT_NAMESPACE
    what = f"labelled {resource.plural} in namespace {namespace}"
    if not _may(gw, Permission("list", resource, namespace), report, what):
        return []
    return _guarded(report, what, lambda: gw.list(resource, namespace=namespace, label_selector=MANAGED_SELECTOR)) or []


def _delete_objects(gw: Gateway, resource: Resource, where: str, count: int, report: CleanupReport) -> None:
    what = f"{count} labelled {resource.plural} in namespace {where}"
    if _may(gw, Permission("deletecollection", resource, where), report, what) and _guarded(
            report, what, lambda: _gone_is_fine(lambda: delete_run_objects(gw, where, MANAGED_SELECTOR, (resource,)))):
        report.objects[where] = report.objects.get(where, 0) + count


def _may(gw: Gateway, permission: Permission, report: CleanupReport, what: str) -> bool:
    """Ask first; a denial is recorded as not checked (if the review itself cannot be asked, just try)."""
    try:
        ok = gw.can_i(permission.verb, permission.resource, permission.namespace, permission.name)
    except ClusterAccessError:
        return True
    if not ok:
        report.unchecked.append(f"{what}: RBAC forbids {permission} ({CLEANUP_RBAC} grants it)")
    return ok


def _gone_is_fine(call: Callable[[], object]) -> bool:
    with contextlib.suppress(NotFound):
        call()
    return True


def _guarded(report: CleanupReport, what: str, call: Callable[[], T]) -> T | None:
    """The call's result, or None with the refusal recorded (a 403 despite the review: RBAC changed since)."""
    try:
        return call()
    except Forbidden as exc:
        report.unchecked.append(f"{what}: {exc}")
        return None
