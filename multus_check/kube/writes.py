"""Write verbs for the fixers: get, replace and create with server-side dry run and preconditions.

Built on the one `Gateway` (retries, error mapping, request counting) and nothing else, so the
fixers never import `kubernetes` themselves. Every change is a full-object PUT that carries the
`metadata.resourceVersion` the fixer read: the API server refuses it with 409 (`Conflict`) when
anyone changed the object in between, so a fix stops instead of overwriting a concurrent edit.
Deletes carry a `preconditions` body with the uid and resourceVersion for the same reason.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from multus_check.kube.resources import (
    CONFIGMAPS,
    CRDS,
    DAEMONSETS,
    NADS,
    Resource,
)

if TYPE_CHECKING:
    from multus_check.kube.gateway import Gateway  # a type only: importing this module loads no client

log = logging.getLogger(__name__)

DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment", namespaced=True)
STATEFULSETS = Resource("apps", "v1", "statefulsets", "StatefulSet", namespaced=True)
SERVICEACCOUNTS = Resource("", "v1", "serviceaccounts", "ServiceAccount", namespaced=True)
CLUSTERROLES = Resource("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False)
CLUSTERROLEBINDINGS = Resource("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False)

#: the kinds a fix may change, by kind name
WRITABLE: dict[str, Resource] = {r.kind: r for r in (CONFIGMAPS, DAEMONSETS, NADS, DEPLOYMENTS, STATEFULSETS, CRDS,
                                                     SERVICEACCOUNTS, CLUSTERROLES, CLUSTERROLEBINDINGS)}

_DRY_RUN = {"dryRun": "All"}


def resource_for(kind: str) -> Resource:
    try:
        return WRITABLE[kind]
    except KeyError:
        raise ValueError(f"multus-check does not write objects of kind {kind}") from None


class Writer:
    """The verbs a fix uses, each one request through the gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        res = resource_for(kind)
        obj = self.gateway.get(res, namespace, name)
        return {"apiVersion": res.api_version, "kind": res.kind, **obj}

    def replace(self, obj: dict[str, Any], resource_version: str, dry_run: bool = False) -> dict[str, Any]:
        """PUT `obj` only if the stored object still has `resource_version` (else `Conflict`)."""
        res, ns, name = _where(obj)
        body = _with_version(obj, resource_version)
        log.debug("replace %s %s/%s at resourceVersion %s (dry run: %s)", res.kind, ns, name, resource_version, dry_run)
        answer = self.gateway.request(
            "PUT", res.path(ns, name), body=body, query=_DRY_RUN if dry_run else None, verb="update",
            resource=res.rbac_name, namespace=ns, idempotent=True,
        )
        return answer if isinstance(answer, dict) else {}

    def create(self, obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        res, ns, _ = _where(obj)
        return {"apiVersion": res.api_version, "kind": res.kind, **self.gateway.create(res, ns, obj, dry_run=dry_run)}

    def delete(self, kind: str, namespace: str | None, name: str, uid: str, resource_version: str,
               dry_run: bool = False) -> None:
        """DELETE only the very object that was created (uid) and only unchanged (resourceVersion)."""
        res = resource_for(kind)
        body = {"propagationPolicy": "Background", "preconditions": {"uid": uid, "resourceVersion": resource_version}}
        self.gateway.request(
            "DELETE", res.path(namespace, name), body=body, query=_DRY_RUN if dry_run else None, verb="delete",
            resource=res.rbac_name, namespace=namespace, idempotent=False,
        )


def _where(obj: dict[str, Any]) -> tuple[Resource, str | None, str]:
    meta = obj.get("metadata") or {}
    res = resource_for(str(obj.get("kind", "")))
    return res, meta.get("namespace") if res.namespaced else None, str(meta.get("name", ""))


def _with_version(obj: dict[str, Any], resource_version: str) -> dict[str, Any]:
    """The body of a PUT: the object with the precondition, without `status` (a PUT of the main resource
    ignores it, and a collected status may be stale or partial, so it is not sent at all)."""
    meta = dict(obj.get("metadata") or {})
    meta["resourceVersion"] = resource_version
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}
