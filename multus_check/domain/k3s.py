"""k3s knowledge: detection, node-args, its CNI paths and defaults (flannel-k3s.md §4, multus-cni.md §8)."""

from __future__ import annotations

import json
from typing import Any

from multus_check.domain import k8s

NODE_ARGS_ANNOTATION = "k3s.io/node-args"
CONF_DIR = "/var/lib/rancher/k3s/agent/etc/cni/net.d"
BIN_DIR = "/var/lib/rancher/k3s/data/cni"
OLD_BIN_DIR = "/var/lib/rancher/k3s/data/current/bin"
FLANNEL_NET_CONF = "/var/lib/rancher/k3s/agent/etc/flannel/net-conf.json"
CONTAINERD_CONFIG = "/var/lib/rancher/k3s/agent/etc/containerd/config.toml"
KUBECONFIG_HOST = f"{CONF_DIR}/multus.d/multus.kubeconfig"
DEFAULT_CLUSTER_CIDR = "10.42.0.0/16"
DEFAULT_SERVICE_CIDR = "10.43.0.0/16"
DEFAULT_CLUSTER_DNS = "10.43.0.10"


def is_k3s_node(node: dict[str, Any]) -> bool:
    info = k8s.status(node).get("nodeInfo") or {}
    version = str(info.get("kubeletVersion", "")) if isinstance(info, dict) else ""
    return "+k3s" in version or NODE_ARGS_ANNOTATION in k8s.annotations_of(node)


def parse_node_args(raw: str) -> tuple[str, dict[str, str]]:
    """Parse `k3s.io/node-args` into (role, {flag: value}); later flags win like the CLI."""
    try:
        items = json.loads(raw)
    except json.JSONDecodeError:
        return "", {}
    if not isinstance(items, list):
        return "", {}
    tokens = [str(t) for t in items]
    role = tokens[0] if tokens and not tokens[0].startswith("-") else ""
    flags: dict[str, str] = {}
    i = 1 if role else 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.startswith("--"):
            if "=" in tok:
                key, value = tok.split("=", 1)
            elif i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                key, value = tok, tokens[i + 1]
                i += 1
            else:
                key, value = tok, "true"
            flags[key] = value
        i += 1
    return role, flags


def is_server(node: dict[str, Any], role: str) -> bool:
    labels = k8s.labels(node)
    return role == "server" or labels.get("node-role.kubernetes.io/control-plane") == "true" or (
        "node-role.kubernetes.io/master" in labels
    )
