"""Small accessors for Kubernetes objects held as plain dicts (kubectl -o yaml shape)."""

from __future__ import annotations

import json
from typing import Any

NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
NETWORK_STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
NAD_CRD_NAME = "network-attachment-definitions.k8s.cni.cncf.io"


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def name(obj: dict[str, Any]) -> str:
    return str(meta(obj).get("name", ""))


def namespace(obj: dict[str, Any]) -> str:
    return str(meta(obj).get("namespace", ""))


def ref(obj: dict[str, Any]) -> str:
    """`namespace/name`, or `name` for cluster-scoped objects."""
    ns = namespace(obj)
    return f"{ns}/{name(obj)}" if ns else name(obj)


def labels(obj: dict[str, Any]) -> dict[str, str]:
    lab = meta(obj).get("labels")
    return {str(k): str(v) for k, v in lab.items()} if isinstance(lab, dict) else {}


def annotations_of(obj: dict[str, Any]) -> dict[str, str]:
    ann = meta(obj).get("annotations")
    return {str(k): str(v) for k, v in ann.items()} if isinstance(ann, dict) else {}


def spec(obj: dict[str, Any]) -> dict[str, Any]:
    s = obj.get("spec")
    return s if isinstance(s, dict) else {}


def status(obj: dict[str, Any]) -> dict[str, Any]:
    s = obj.get("status")
    return s if isinstance(s, dict) else {}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    template = spec(workload).get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        return dict(template["spec"])
    return {}


def containers(workload: dict[str, Any], init: bool = False) -> list[dict[str, Any]]:
    ps = pod_spec(workload) if workload.get("kind") != "Pod" else spec(workload)
    items = ps.get("initContainers" if init else "containers")
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def node_internal_ip(node: dict[str, Any]) -> str | None:
    for addr in status(node).get("addresses") or []:
        if isinstance(addr, dict) and addr.get("type") == "InternalIP":
            return str(addr.get("address"))
    return None


def pod_cidrs(node: dict[str, Any]) -> list[str]:
    s = spec(node)
    cidrs = s.get("podCIDRs")
    if isinstance(cidrs, list) and cidrs:
        return [str(c) for c in cidrs]
    return [str(s["podCIDR"])] if s.get("podCIDR") else []


def can_host_pods(node: dict[str, Any]) -> bool:
    """A node ordinary workloads may land on: schedulable and without NoSchedule/NoExecute taints."""
    s = spec(node)
    if s.get("unschedulable"):
        return False
    taints = s.get("taints") or []
    return not any(isinstance(t, dict) and t.get("effect") in ("NoSchedule", "NoExecute") for t in taints)


def network_status(pod: dict[str, Any]) -> list[dict[str, Any]] | None:
    raw = annotations_of(pod).get(NETWORK_STATUS_ANNOTATION)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else None
