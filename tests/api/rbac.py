"""Evaluate the shipped RBAC manifests the way the API server's RBAC authorizer does.

Used to run whole collections under exactly the permissions of fixtures/rbac/, so the
manifests cannot drift from what the tool does: a missing rule fails a test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RBAC_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "rbac"


@dataclass(frozen=True)
class Grant:
    rule: dict[str, Any]
    namespace: str | None  # None: cluster-wide (ClusterRoleBinding)


def load_grants(files: Iterable[str]) -> list[Grant]:
    docs = [d for f in files for d in yaml.safe_load_all((RBAC_DIR / f).read_text()) if d]
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs
             if d["kind"] in ("ClusterRole", "Role")}
    grants = []
    for b in (d for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")):
        ref = b["roleRef"]
        ns = b["metadata"].get("namespace") if b["kind"] == "RoleBinding" else None
        role = roles[(ref["kind"], ns if ref["kind"] == "Role" else None, ref["name"])]
        grants += [Grant(rule, ns) for rule in role.get("rules") or []]
    return grants


def allowed(grants: list[Grant], verb: str, group: str, resource: str, namespace: str | None, name: str | None) -> bool:
    for g in grants:
        if g.namespace is not None and g.namespace != namespace:
            continue
        r = g.rule
        if verb not in r.get("verbs", []) and "*" not in r.get("verbs", []):
            continue
        if group not in r.get("apiGroups", []) and "*" not in r.get("apiGroups", []):
            continue
        if resource not in r.get("resources", []) and "*" not in r.get("resources", []):
            continue
        if r.get("resourceNames") and name not in r["resourceNames"]:
            continue
        return True
    return False
