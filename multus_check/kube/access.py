"""Ask before acting: what the current user may do, by SelfSubjectAccessReview, named the way RBAC names it.

Every mode checks the permissions it will use before its first request that needs them (live
collection, cleanup, --fix, undo, attach), so a missing permission becomes one message naming
it, never a 403 half-way. A review is itself allowed to every authenticated user (Kubernetes'
`system:basic-user`). Touches the cluster only through the gateway, with review requests only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from multus_check.kube.resources import Resource

if TYPE_CHECKING:
    from multus_check.kube.gateway import Gateway  # a type only: importing this module loads no client


@dataclass(frozen=True)
class Permission:
    """One verb on one resource (`plural` or `plural/subresource`), cluster-wide or in one namespace,
    optionally on one object name. `group` is the API group of a resource given as a string."""

    verb: str
    resource: Resource | str
    namespace: str | None = None
    name: str = ""
    group: str = ""

    @property
    def api_group(self) -> str:
        return self.resource.group if isinstance(self.resource, Resource) else self.group

    @property
    def plural(self) -> str:
        """`pods`, `pods/log`, `*`: what a Role's `resources` lists."""
        return self.resource.plural if isinstance(self.resource, Resource) else self.resource

    @property
    def rbac_resource(self) -> str:
        """How RBAC error messages and `kubectl auth can-i` name it: `pods/log`, `daemonsets.apps`."""
        if isinstance(self.resource, Resource):
            return self.resource.rbac_name
        plural, _, sub = self.resource.partition("/")
        return (f"{plural}.{self.group}" if self.group else plural) + (f"/{sub}" if sub else "")

    def __str__(self) -> str:
        where = f" in namespace {self.namespace}" if self.namespace else " cluster-wide"
        named = f" {self.name!r}" if self.name else ""
        return f"{self.verb} {self.rbac_resource}{named}{where}"


def allowed(gw: Gateway, permissions: Sequence[Permission], workers: int = 8) -> list[bool]:
    """One review per permission, in parallel; raises the gateway's errors (e.g. Forbidden) if reviews fail."""
    if not permissions:
        return []
    from concurrent.futures import ThreadPoolExecutor  # here: an offline run that imports kube.podrun does not pay

    with ThreadPoolExecutor(max_workers=min(workers, len(permissions)), thread_name_prefix="access-review") as pool:
        return list(pool.map(lambda p: gw.can_i(p.verb, p.resource, p.namespace, p.name, p.group), permissions))


def missing(gw: Gateway, permissions: Sequence[Permission]) -> list[Permission]:
    """The permissions of `permissions` the current user lacks, in order, without duplicates."""
    unique = list(dict.fromkeys(permissions))
    return [p for p, ok in zip(unique, allowed(gw, unique), strict=True) if not ok]
