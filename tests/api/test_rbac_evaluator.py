"""The RBAC evaluator the mode tests rely on decides like the API server's RBAC authorizer.

If it were lax, a mode test could pass with a manifest the API server would refuse; each case here
is a rule of kubernetes `plugin/pkg/auth/authorizer/rbac` or `pkg/registry/rbac` (escalation).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.rbac import RBAC_GROUP, Rbac, Request

SUBJECT = [{"kind": "User", "name": "u", "apiGroup": RBAC_GROUP}]


def _role(kind: str, name: str, rules: list[dict[str, Any]], namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name} | ({"namespace": namespace} if namespace else {})
    return {"apiVersion": f"{RBAC_GROUP}/v1", "kind": kind, "metadata": meta, "rules": rules}


def _binding(kind: str, role_kind: str, role: str, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"b-{role}"} | ({"namespace": namespace} if namespace else {})
    return {"apiVersion": f"{RBAC_GROUP}/v1", "kind": kind, "metadata": meta, "subjects": SUBJECT,
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": role}}


def _rbac(*docs: dict[str, Any]) -> Rbac:
    return Rbac((), {"inline": list(docs)})


def _rule(verbs: list[str], resources: list[str], groups: list[str] | None = None, names: list[str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"apiGroups": groups or [""], "resources": resources, "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    return rule


def test_a_role_binding_to_a_cluster_role_grants_only_in_the_binding_namespace() -> None:
    rbac = _rbac(_role("ClusterRole", "read", [_rule(["list"], ["configmaps"])]),
                 _binding("RoleBinding", "ClusterRole", "read", "kube-system"))
    assert rbac.allows("list", "", "configmaps", "kube-system", None)
    assert not rbac.allows("list", "", "configmaps", "default", None)
    assert not rbac.allows("list", "", "configmaps", None, None)  # not cluster-wide either


def test_a_role_grants_only_in_its_namespace_and_a_cluster_role_binding_everywhere() -> None:
    rbac = _rbac(_role("Role", "r", [_rule(["get"], ["pods"])], "a"), _binding("RoleBinding", "Role", "r", "a"),
                 _role("ClusterRole", "c", [_rule(["list"], ["nodes", "pods"])]), _binding("ClusterRoleBinding", "ClusterRole", "c"))
    assert rbac.allows("get", "", "pods", "a", "p") and not rbac.allows("get", "", "pods", "b", "p")
    assert rbac.allows("list", "", "nodes", None, None) and rbac.allows("list", "", "pods", "b", None)


def test_a_binding_to_a_role_of_another_namespace_or_a_missing_role_is_rejected() -> None:
    with pytest.raises(ValueError, match="not in the file"):
        _rbac(_role("Role", "r", [_rule(["get"], ["pods"])], "a"), _binding("RoleBinding", "Role", "r", "b"))


def test_subresources_are_granted_only_by_name_or_wildcard() -> None:
    pods = _rbac(_role("ClusterRole", "p", [_rule(["get"], ["pods"])]), _binding("ClusterRoleBinding", "ClusterRole", "p"))
    logs = _rbac(_role("ClusterRole", "l", [_rule(["get"], ["pods/log"])]), _binding("ClusterRoleBinding", "ClusterRole", "l"))
    star = _rbac(_role("ClusterRole", "s", [_rule(["get"], ["*/log"])]), _binding("ClusterRoleBinding", "ClusterRole", "s"))
    everything = _rbac(_role("ClusterRole", "e", [_rule(["*"], ["*"], ["*"])]), _binding("ClusterRoleBinding", "ClusterRole", "e"))
    assert not pods.allows("get", "", "pods/log", "ns", "p")
    assert logs.allows("get", "", "pods/log", "ns", "p") and not logs.allows("get", "", "pods", "ns", "p")
    assert star.allows("get", "", "pods/log", "ns", "p") and not star.allows("get", "", "pods/status", "ns", "p")
    assert everything.allows("escalate", RBAC_GROUP, "clusterroles", None, None)


def test_resource_names_never_match_a_request_without_a_name() -> None:
    rbac = _rbac(_role("ClusterRole", "n", [_rule(["get", "list", "create"], ["namespaces"], names=["multus-check"])]),
                 _binding("ClusterRoleBinding", "ClusterRole", "n"))
    assert rbac.allows("get", "", "namespaces", None, "multus-check")
    assert not rbac.allows("get", "", "namespaces", None, "other")
    assert not rbac.allows("list", "", "namespaces", None, None)  # a plain list has no name
    assert rbac.allows("list", "", "namespaces", None, "multus-check")  # fieldSelector=metadata.name=multus-check
    assert not rbac.allows("create", "", "namespaces", None, None)  # a create is authorized without a name


def test_wildcard_questions_are_answered_only_by_wildcard_rules() -> None:
    some = _rbac(_role("ClusterRole", "s", [_rule(["get", "list"], ["network-attachment-definitions"], ["k8s.cni.cncf.io"])]),
                 _binding("ClusterRoleBinding", "ClusterRole", "s"))
    assert not some.allows("*", "k8s.cni.cncf.io", "*", None, None)
    assert not some.allows("*", "k8s.cni.cncf.io", "network-attachment-definitions", None, None)


MULTUS_RULES = [_rule(["*"], ["*"], ["k8s.cni.cncf.io"]), _rule(["get", "update"], ["pods", "pods/status"])]
CREATE_ROLE = Request("create", RBAC_GROUP, "clusterroles")
CREATE_BINDING = Request("create", RBAC_GROUP, "clusterrolebindings")
NEW_ROLE = {"kind": "ClusterRole", "metadata": {"name": "multus"}, "rules": MULTUS_RULES}
NEW_BINDING = {"kind": "ClusterRoleBinding", "metadata": {"name": "multus"}, "roleRef": {"kind": "ClusterRole", "name": "multus"}}


def _creator(*extra: dict[str, Any]) -> Rbac:
    rules = [_rule(["create"], ["clusterroles", "clusterrolebindings"], [RBAC_GROUP]), *extra]
    return _rbac(_role("ClusterRole", "creator", rules), _binding("ClusterRoleBinding", "ClusterRole", "creator"))


def test_creating_a_cluster_role_needs_escalate_or_holding_what_it_grants() -> None:
    assert _creator().decide(CREATE_ROLE, NEW_ROLE).status == 403
    assert not _creator(_rule(["get"], ["pods", "pods/status"]), MULTUS_RULES[0]).decide(CREATE_ROLE, NEW_ROLE).allowed  # no update
    holding = _creator(*MULTUS_RULES).decide(CREATE_ROLE, NEW_ROLE)
    assert holding.allowed and any(a.verb == "update" and a.resource == "pods/status" for a in holding.used)
    assert _creator(_rule(["escalate"], ["clusterroles"], [RBAC_GROUP])).decide(CREATE_ROLE, NEW_ROLE).allowed


def test_holding_counts_only_cluster_wide_grants() -> None:
    rbac = _rbac(_role("ClusterRole", "creator", [_rule(["create"], ["clusterroles"], [RBAC_GROUP])]),
                 _binding("ClusterRoleBinding", "ClusterRole", "creator"),
                 _role("ClusterRole", "multus-like", MULTUS_RULES), _binding("RoleBinding", "ClusterRole", "multus-like", "kube-system"))
    assert not rbac.decide(CREATE_ROLE, NEW_ROLE).allowed


def test_binding_a_cluster_role_needs_bind_on_it_or_holding_it_and_a_missing_role_is_not_found() -> None:
    bind = _creator(_rule(["bind"], ["clusterroles"], [RBAC_GROUP], ["multus"]))
    assert bind.decide(CREATE_BINDING, NEW_BINDING, lambda name: None).allowed  # even before the role exists
    holding = _creator(*MULTUS_RULES)
    assert holding.decide(CREATE_BINDING, NEW_BINDING, lambda name: MULTUS_RULES).allowed
    assert holding.decide(CREATE_BINDING, NEW_BINDING, lambda name: None).status == 404
    other = _creator(_rule(["bind"], ["clusterroles"], [RBAC_GROUP], ["other"]))
    assert other.decide(CREATE_BINDING, NEW_BINDING, lambda name: MULTUS_RULES).status == 403


def test_a_request_no_rule_grants_is_refused_with_no_grant_used() -> None:
    decision = _creator().decide(Request("delete", RBAC_GROUP, "clusterroles", None, "multus"))
    assert (decision.allowed, decision.status, decision.used) == (False, 403, frozenset())
