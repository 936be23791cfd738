"""Which nodes a workload's pods may be placed on: its `nodeSelector` and its required node
affinity, matched against a Node's labels and name as the scheduler does.

Why it exists: older flannel manifests run one DaemonSet per architecture
(`kube-flannel-ds-amd64`, `-arm64`, ...), selecting nodes by `beta.kubernetes.io/arch` or
`kubernetes.io/arch` in a nodeSelector (v0.10) or in a required node affinity (v0.11-v0.13), so a
node is judged by the DaemonSet that selects it. Taints are not considered here. Pure: reads the
plain objects it is given.
"""

from __future__ import annotations

from typing import Any

from multus_check.domain import k8s


def selects(workload: dict[str, Any], node: dict[str, Any]) -> bool:
    """True when the workload's pod template may be placed on the node."""
    spec = k8s.pod_spec(workload)
    selector = spec.get("nodeSelector") or {}
    labels = k8s.labels(node)
    if isinstance(selector, dict) and any(labels.get(str(k)) != str(v) for k, v in selector.items()):
        return False
    required = _required_terms(spec)
    return required is None or any(_term_matches(t, labels, k8s.name(node)) for t in required)


def describe(workload: dict[str, Any]) -> str:
    """The workload's node constraints as one line (`kubernetes.io/arch=amd64`, `... In [arm64]`), or ''."""
    spec = k8s.pod_spec(workload)
    parts = [f"{k}={v}" for k, v in (spec.get("nodeSelector") or {}).items()]
    terms = [" and ".join(_expr_text(e) for e in (t.get("matchExpressions") or []) + (t.get("matchFields") or []))
             for t in _required_terms(spec) or []]
    if terms:
        parts.append("affinity " + " or ".join(f"({t})" if len(terms) > 1 else t for t in terms))
    return ", ".join(parts)


def _required_terms(spec: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The required node selector terms (ORed), or None when the pod template has none."""
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {})
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if not isinstance(required, dict):
        return None
    terms = required.get("nodeSelectorTerms")
    # the API requires the list; an empty one (or empty terms) selects no node
    return [t for t in terms if isinstance(t, dict)] if isinstance(terms, list) else []


def _term_matches(term: dict[str, Any], labels: dict[str, str], name: str) -> bool:
    exprs = [e for e in term.get("matchExpressions") or [] if isinstance(e, dict)]
    fields = [e for e in term.get("matchFields") or [] if isinstance(e, dict)]
    if not exprs and not fields:
        return False
    return (all(_expr_matches(e, labels.get(str(e.get("key")))) for e in exprs)
            and all(_expr_matches(f, name if f.get("key") == "metadata.name" else None) for f in fields))


def _expr_matches(expr: dict[str, Any], value: str | None) -> bool:
    op, values = str(expr.get("operator", "")), [str(v) for v in expr.get("values") or []]
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            number, bound = int(value), int(values[0])
        except ValueError:
            return False
        return number > bound if op == "Gt" else number < bound
    return False


def _expr_text(expr: dict[str, Any]) -> str:
    op, values = str(expr.get("operator", "")), [str(v) for v in expr.get("values") or []]
    if op in ("Exists", "DoesNotExist"):
        return f"{expr.get('key')} {op}"
    return f"{expr.get('key')} {op} [{', '.join(values)}]"
