"""Evaluate requests against the shipped RBAC manifests the way the API server's RBAC authorizer does.

Used to run every documented mode under exactly the permissions of fixtures/rbac/ (the emulator
authorizes each request, SelfSubjectAccessReviews included, from these rules) and to replay the
recorded requests afterwards, so the manifests cannot drift from what the tool does: a missing
rule is a 403 in a test, and a rule no request uses is an unused grant.

What it models (kubernetes `plugin/pkg/auth/authorizer/rbac` and `pkg/registry/rbac`):
- bindings: a ClusterRoleBinding grants its ClusterRole's rules everywhere; a RoleBinding grants
  the rules of its Role (same namespace) or ClusterRole in its own namespace only;
- rules: verbs, apiGroups, resources with subresources (`pods/log`, `*/status`, `*`) and
  resourceNames (a request without a name, such as create or a plain list, never matches a rule
  with resourceNames; a list with `fieldSelector=metadata.name=X` is authorized as name X);
- escalation prevention: creating a ClusterRole needs `escalate` on clusterroles or holding every
  permission it grants, cluster-wide; creating a ClusterRoleBinding needs `bind` on the referenced
  ClusterRole (by name) or holding all its rules, and without `bind` a binding to a role that
  does not exist yet is refused (404), as the API server does.
Non-resource requests (`/version`) and SelfSubjectAccessReviews are allowed to every
authenticated user by Kubernetes' default roles and are not evaluated here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RBAC_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "rbac"
RBAC_GROUP = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class Request:
    """The RBAC attributes of one resource request (resource may carry `/subresource`)."""

    verb: str
    group: str
    resource: str
    namespace: str | None = None
    name: str | None = None

    @property
    def subresource(self) -> str:
        return self.resource.partition("/")[2]


@dataclass(frozen=True)
class Atom:
    """The smallest thing a manifest grants: in one scope (a namespace, or None: cluster-wide), one verb
    on one group/resource, on one name (or None: any name). A rule expands into the product of its lists."""

    file: str
    binding: str
    scope: str | None
    group: str
    resource: str
    verb: str
    name: str | None

    def __str__(self) -> str:
        where = f"in namespace {self.scope}" if self.scope else "cluster-wide"
        named = f" {self.name!r}" if self.name else ""
        return f"{self.file}: {self.binding} grants {self.verb} {self.resource}{named} (group {self.group!r}) {where}"

    def matches(self, req: Request) -> bool:
        if self.scope is not None and self.scope != req.namespace:
            return False
        if self.verb not in ("*", req.verb) or self.group not in ("*", req.group):
            return False
        sub = req.subresource
        if self.resource not in ("*", req.resource) and not (sub and self.resource == f"*/{sub}"):
            return False
        return self.name is None or self.name == req.name


@dataclass(frozen=True)
class Decision:
    allowed: bool
    used: frozenset[Atom]
    status: int = 200  # what the API server answers when not allowed: 403, or 404 for a binding to a missing role
    reason: str = ""


class Rbac:
    """The grants of a set of manifests of fixtures/rbac/, for one subject (every binding names the same one)."""

    def __init__(self, files: Iterable[str], docs: dict[str, list[dict[str, Any]]] | None = None) -> None:
        """`files` of fixtures/rbac/ (or absolute paths); `docs` adds manifests given as objects, by a file label."""
        self.files = tuple(files) + tuple(docs or {})
        self.atoms: list[Atom] = []
        for file in files:
            self.atoms += _atoms(file, [d for d in yaml.safe_load_all((RBAC_DIR / file).read_text()) if d])
        for label, objects in (docs or {}).items():
            self.atoms += _atoms(label, objects)

    def matching(self, req: Request) -> frozenset[Atom]:
        return frozenset(a for a in self.atoms if a.matches(req))

    def allows(self, verb: str, group: str, resource: str, namespace: str | None, name: str | None) -> bool:
        return bool(self.matching(Request(verb, group, resource, namespace, name)))

    def decide(self, req: Request, body: Any = None,
               role_rules: Callable[[str], list[dict[str, Any]] | None] = lambda name: None) -> Decision:
        """Authorize `req`, plus the escalation checks of RBAC object creates (`body` is the object)."""
        used = self.matching(req)
        if not used:
            return Decision(False, frozenset(), 403, f"no rule grants {req}")
        if req.group == RBAC_GROUP and req.verb == "create" and isinstance(body, dict):
            if req.resource == "clusterroles":
                return self._role_create(req, body, used)
            if req.resource == "clusterrolebindings":
                return self._binding_create(body, used, role_rules)
        return Decision(True, used)

    def covering(self, rules: list[dict[str, Any]]) -> tuple[bool, frozenset[Atom]]:
        """Does the subject hold every permission of `rules` cluster-wide (RBAC `Covers`)? And with what."""
        used: set[Atom] = set()
        for wanted in _expand(rules):
            found = [a for a in self.atoms if a.scope is None and a.matches(wanted)]
            if not found:
                return False, frozenset(used)
            used.update(found)
        return True, frozenset(used)

    def _role_create(self, req: Request, body: dict[str, Any], used: frozenset[Atom]) -> Decision:
        escalate = self.matching(Request("escalate", RBAC_GROUP, "clusterroles", None, req.name))
        if escalate:
            return Decision(True, used | escalate)
        covered, holding = self.covering(body.get("rules") or [])
        if covered:
            return Decision(True, used | holding)
        name = (body.get("metadata") or {}).get("name")
        return Decision(False, used, 403, f"clusterroles {name!r} is forbidden: user attempting to grant RBAC "
                                          "permissions not currently held (no escalate on clusterroles)")

    def _binding_create(self, body: dict[str, Any], used: frozenset[Atom],
                        role_rules: Callable[[str], list[dict[str, Any]] | None]) -> Decision:
        ref = body.get("roleRef") or {}
        bind = self.matching(Request("bind", RBAC_GROUP, "clusterroles", None, ref.get("name")))
        if bind:
            return Decision(True, used | bind)
        rules = role_rules(str(ref.get("name")))
        if rules is None:
            return Decision(False, used, 404, f'clusterroles.rbac.authorization.k8s.io "{ref.get("name")}" not found')
        covered, holding = self.covering(rules)
        if covered:
            return Decision(True, used | holding)
        return Decision(False, used, 403, "user attempting to grant RBAC permissions not currently held (no bind)")


def _atoms(file: str, docs: list[dict[str, Any]]) -> list[Atom]:
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs
             if d["kind"] in ("ClusterRole", "Role")}
    out: list[Atom] = []
    for b in (d for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")):
        ref, meta = b["roleRef"], b["metadata"]
        scope = meta.get("namespace") if b["kind"] == "RoleBinding" else None
        if b["kind"] == "ClusterRoleBinding" and ref["kind"] != "ClusterRole":
            raise ValueError(f"{file}: ClusterRoleBinding {meta['name']} must reference a ClusterRole")
        role = roles.get((ref["kind"], scope if ref["kind"] == "Role" else None, ref["name"]))
        if role is None:
            raise ValueError(f"{file}: {b['kind']} {meta['name']} references {ref['kind']} {ref['name']}, not in the file")
        label = f"{b['kind']} {scope + '/' if scope else ''}{meta['name']} -> {ref['kind']} {ref['name']}"
        out += [Atom(file, label, scope, w.group, w.resource, w.verb, w.name) for w in _expand(role.get("rules") or [])]
    return out


def _expand(rules: list[dict[str, Any]]) -> list[Request]:
    """Every (verb, group, resource, name) a list of rules names; `*` stays a literal `*`."""
    return [Request(verb, group, resource, None, name)
            for rule in rules
            for group in rule.get("apiGroups") or []
            for resource in rule.get("resources") or []
            for verb in rule.get("verbs") or []
            for name in (rule.get("resourceNames") or [None])]
