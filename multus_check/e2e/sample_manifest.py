"""The objects an end-to-end run creates: the probe ConfigMap and one sample pod per (NAD, node).

Pure functions from options to manifests, so tests and docs read exactly what is applied.
Everything carries the pod-run labels (`kube.podrun`: `app.kubernetes.io/managed-by=multus-check`
and the run id), so the same cleanup removes it on every way out.

Why a ConfigMap: the probe needs python3 + scapy, which no pinned stock image installs at
runtime; the default image (netshoot) ships both, and the script itself travels in the
ConfigMap so any image with python3 + scapy works (`fixtures/probe-image/Dockerfile` builds
a small one for air-gapped clusters). The pod is not host-network, uses the NAD under test,
is pinned to its node with `nodeName`, and keeps only NET_RAW (scapy's packet sockets).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multus_check.kube.podrun import labels, run_once_spec

CONTAINER = "probe"
CODE_MOUNT = "/opt/multus-check"
ENTRY = "pod_probe.py"
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
NAD_ANNOTATION = "multus-check.io/nad"
NODE_ANNOTATION = "multus-check.io/node"
COMPONENT = "e2e-sample"
IFNAME = "net1"
#: what the sample pod's ConfigMap ships: file name in the pod -> source under multus_check/
SHIPPED = {ENTRY: "e2e/pod_probe.py", "probe_script.py": "probes/probe_script.py", "probe_ipv6.py": "probes/probe_ipv6.py",
           "netinfo.py": "collect/netinfo.py"}


@dataclass(frozen=True)
class Target:
    """One sample pod to run: which NAD, on which node (None: let the scheduler pick)."""

    nad_namespace: str
    nad_name: str
    node: str | None

    @property
    def nad_ref(self) -> str:
        return f"{self.nad_namespace}/{self.nad_name}"


def code_files() -> dict[str, str]:
    """The scripts the pod runs, flat beside each other: the pod probe, the shared mDNS/SSDP probe with its IPv6
    half, and the one interface/route reader they import (SHIPPED; standard library + scapy only)."""
    package = Path(__file__).resolve().parent.parent
    return {name: (package / where).read_text() for name, where in SHIPPED.items()}


def configmap_name(run_id: str) -> str:
    return f"multus-check-e2e-{run_id}"


def configmap_manifest(namespace: str, run_id: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": configmap_name(run_id), "namespace": namespace,
                         "labels": labels(run_id, "e2e-code")},
            "data": code_files()}


def pod_name(run_id: str, index: int) -> str:
    return f"multus-check-e2e-{run_id}-{index}"


def networks_annotation(target: Target) -> str:
    return json.dumps([{"name": target.nad_name, "namespace": target.nad_namespace, "interface": IFNAME}])


@dataclass(frozen=True)
class PeerPlan:
    """The pod-to-pod multicast phase of one sample pod: its group (one per NAD), its index and
    the indices of the sample pods of the same NAD on other nodes."""

    group: str
    index: int
    peers: tuple[int, ...]
    window: float


def peer_plans(run_id: str, targets: list[Target], window: float) -> dict[int, PeerPlan]:
    """Pod index -> its peer plan, for the NADs whose sample pods sit on two or more nodes."""
    plans: dict[int, PeerPlan] = {}
    for ref in dict.fromkeys(t.nad_ref for t in targets):
        members = [i for i, t in enumerate(targets) if t.nad_ref == ref]
        if len({targets[i].node for i in members}) < 2:
            continue
        group = hashlib.sha256(f"{run_id}/{ref}".encode()).hexdigest()[:8]
        for i in members:
            plans[i] = PeerPlan(group, i, tuple(j for j in members if targets[j].node != targets[i].node), window)
    return plans


def sample_pod(namespace: str, run_id: str, index: int, target: Target, image: str, route_to: list[str],
               deadline: float, probe_timeout: float = 2.0, peer: PeerPlan | None = None) -> dict[str, Any]:
    command = ["python3", "-B", f"{CODE_MOUNT}/{ENTRY}", "--iface", IFNAME, "--timeout", f"{probe_timeout:g}"]
    for ip in route_to:
        command += ["--route-to", ip]
    if peer is not None and peer.peers:
        command += ["--peer-group", peer.group, "--peer-index", str(peer.index),
                    "--peers", ",".join(map(str, peer.peers)), "--peer-window", f"{peer.window:g}"]
    spec: dict[str, Any] = {
        **run_once_spec(deadline),
        "containers": [{
            "name": CONTAINER, "image": image, "imagePullPolicy": "IfNotPresent", "command": command,
            "env": [{"name": "MULTUS_CHECK_NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
            "resources": {"requests": {"cpu": "10m", "memory": "48Mi"}, "limits": {"cpu": "500m", "memory": "192Mi"}},
            # scapy may write its config dir at import, so the root file system stays writable
            "securityContext": {"allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"], "add": ["NET_RAW"]}},
            "volumeMounts": [{"name": "code", "mountPath": CODE_MOUNT, "readOnly": True}],
        }],
        "volumes": [{"name": "code", "configMap": {"name": configmap_name(run_id)}}],
    }
    if target.node:
        spec["nodeName"] = target.node
    annotations = {NETWORKS_ANNOTATION: networks_annotation(target), NAD_ANNOTATION: target.nad_ref}
    if target.node:
        annotations[NODE_ANNOTATION] = target.node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod_name(run_id, index), "namespace": namespace,
                         "labels": labels(run_id, COMPONENT), "annotations": annotations},
            "spec": spec}


def static_mac_annotation(nad_namespace: str, nad_name: str, mac: str) -> str:
    """The workload annotation that keeps net1's MAC (and so its DHCP lease) across restarts."""
    return json.dumps([{"name": nad_name, "namespace": nad_namespace, "mac": mac}])
