"""Check permissions up front with SelfSubjectAccessReviews, and say in one message what is missing.

Two tiers. Without what node facts need (create the namespace, ConfigMap and pods, read pod
logs, delete them) the run cannot work: it stops before creating anything, naming every
missing verb/resource and the manifest that grants them, or `--no-node-facts`. Missing read
permissions do not stop the run: they are reported together in one warning, and those
sections are marked forbidden so the checks that need them report `error`.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from multus_check.errors import ClusterAccessError, Forbidden, NotFound
from multus_check.kube import Gateway
from multus_check.kube.resources import (
    CONFIGMAPS,
    CRDS,
    DAEMONSETS,
    EVENTS,
    NAD_CRD_NAME,
    NADS,
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    Resource,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Permission:
    verb: str
    resource: Resource | str
    namespace: str | None = None
    name: str = ""

    def __str__(self) -> str:
        res = self.resource.rbac_name if isinstance(self.resource, Resource) else self.resource
        where = f" in namespace {self.namespace}" if self.namespace else " cluster-wide"
        named = f" {self.name!r}" if self.name else ""
        return f"{self.verb} {res}{named}{where}"


READS = (
    Permission("list", NODES),
    Permission("list", DAEMONSETS),
    Permission("list", PODS),
    Permission("list", EVENTS),
    Permission("list", NADS),
    Permission("get", CRDS, name=NAD_CRD_NAME),
    Permission("list", CONFIGMAPS, "kube-system"),
    Permission("list", CONFIGMAPS, "kube-flannel"),
    Permission("list", SERVICES, "default"),
    Permission("list", SERVICES, "kube-system"),
)


def node_fact_permissions(namespace: str, create_namespace: bool) -> tuple[Permission, ...]:
    needed = [
        Permission("create", CONFIGMAPS, namespace),
        Permission("deletecollection", CONFIGMAPS, namespace),
        Permission("create", PODS, namespace),
        Permission("list", PODS, namespace),
        Permission("deletecollection", PODS, namespace),
        Permission("get", "pods/log", namespace),
    ]
    if create_namespace:
        needed += [Permission("create", NAMESPACES), Permission("delete", NAMESPACES, name=namespace)]
    return tuple(needed)


@dataclass(frozen=True)
class PreflightResult:
    checked: bool
    missing_reads: tuple[Permission, ...] = ()
    namespace_exists: bool | None = None


def preflight(gw: Gateway, node_facts: bool, namespace: str) -> PreflightResult:
    """Raise Forbidden naming every missing permission node facts need; return missing reads."""
    exists = _namespace_exists(gw, namespace) if node_facts else None
    wanted = list(READS)
    if node_facts:
        wanted += node_fact_permissions(namespace, create_namespace=exists is False)
    try:
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="preflight") as pool:
            answers = list(pool.map(lambda p: gw.can_i(p.verb, p.resource, p.namespace, p.name), wanted))
    except Forbidden as exc:
        log.warning("cannot check permissions up front (%s); continuing, forbidden reads will be reported", exc)
        return PreflightResult(False, namespace_exists=exists)
    missing = [p for p, ok in zip(wanted, answers, strict=True) if not ok]
    fatal = [p for p in missing if p not in READS]
    if fatal:
        raise Forbidden(
            "missing permissions for node facts: " + "; ".join(map(str, fatal))
            + ". Apply fixtures/rbac/node-facts.yaml, or run with --no-node-facts for an API-only diagnosis.",
            verb=fatal[0].verb, resource=_resource_name(fatal[0]),
        )
    reads = tuple(p for p in missing if p in READS)
    if reads:
        log.warning(
            "RBAC forbids: %s. Those parts are marked forbidden and the checks that need them report error "
            "(fixtures/rbac/readonly.yaml grants them).", "; ".join(map(str, reads)),
        )
    return PreflightResult(True, reads, exists)


def _resource_name(p: Permission) -> str:
    return p.resource if isinstance(p.resource, str) else p.resource.rbac_name


def _namespace_exists(gw: Gateway, namespace: str) -> bool | None:
    try:
        gw.get(NAMESPACES, None, namespace)
    except NotFound:
        return False
    except ClusterAccessError:
        return None  # cannot tell (e.g. no `get namespaces`): assume it may need creating
    return True
