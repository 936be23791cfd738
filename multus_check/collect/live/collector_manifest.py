"""The objects node-facts collection creates: the collector ConfigMap and one collector pod per node.

Pure functions from options to manifests (dicts), so tests and docs can read exactly what the
tool would apply (fixtures/manifests/collector-pod.yaml is generated from them). Everything carries
the pod-run labels (`kube.podrun`: `app.kubernetes.io/managed-by=multus-check` and the run id).

The pod: pinned to its node with `nodeName` (no scheduler, so cordons do not stop it),
tolerating every taint, host network, no service-account token, read-only root file system,
all capabilities dropped, CPU and memory limits, `activeDeadlineSeconds`, and read-only
hostPath mounts of only the directories the host collector reads (see `host_mounts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from multus_check.collect.live.bundle import ENTRY_FILE, Bundle
from multus_check.kube.podrun import labels, run_once_spec

NODE_ANNOTATION = "multus-check.io/node"
CONTAINER = "collector"
BUNDLE_MOUNT = "/opt/multus-check"
HOST_ROOT = "/host"


@dataclass(frozen=True)
class HostMount:
    path: str
    #: DirectoryOrCreate for paths that may be missing (the runtime then makes an empty dir,
    #: which the collector recognises and reports as absent); Directory where absence means
    #: the node is not what we think, and the pod should not start.
    type: str

    @property
    def may_be_created(self) -> bool:
        return self.type == "DirectoryOrCreate"


#: On every node: the standard CNI conf and bin dirs (and Debian's), Multus's confDir, the DHCP daemon's socket
#: dir, flannel's subnet.env dir, and the network links. /sys/class/net entries are relative
#: symlinks into /sys/devices, so that is mounted too or every link would dangle.
STANDARD_MOUNTS = (
    HostMount("/etc/cni/net.d", "DirectoryOrCreate"),
    HostMount("/etc/cni/multus/net.d", "DirectoryOrCreate"),
    HostMount("/opt/cni/bin", "DirectoryOrCreate"),
    HostMount("/usr/lib/cni", "DirectoryOrCreate"),
    HostMount("/run/cni", "DirectoryOrCreate"),
    HostMount("/run/flannel", "DirectoryOrCreate"),
    HostMount("/sys/class/net", "Directory"),
    HostMount("/sys/devices", "Directory"),
)
#: On k3s nodes: agent/etc holds the CNI conf dir, containerd's config.toml and flannel's
#: net-conf.json; data holds the CNI bin dirs (data/cni, and data/current/bin on older k3s,
#: a symlink into data/<hash>). Both exist on every k3s node; mounting them whole avoids
#: creating k3s paths that do not exist (an empty data/current/bin would confuse k3s).
K3S_MOUNTS = (
    HostMount("/var/lib/rancher/k3s/agent/etc", "Directory"),
    HostMount("/var/lib/rancher/k3s/data", "Directory"),
)


def is_k3s(node: dict[str, Any]) -> bool:
    info = (node.get("status") or {}).get("nodeInfo") or {}
    annotations = (node.get("metadata") or {}).get("annotations") or {}
    return "+k3s" in str(info.get("kubeletVersion", "")) or "k3s.io/node-args" in annotations


def host_mounts(node: dict[str, Any]) -> tuple[HostMount, ...]:
    return STANDARD_MOUNTS + (K3S_MOUNTS if is_k3s(node) else ())


def configmap_name(run_id: str) -> str:
    return f"multus-check-collector-{run_id}"


def configmap_manifest(namespace: str, run_id: str, bundle: Bundle) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": configmap_name(run_id), "namespace": namespace, "labels": labels(run_id, "collector-code")},
        "data": bundle.configmap_data(),
    }


def pod_name(run_id: str, index: int) -> str:
    return f"multus-check-{run_id}-{index}"


def collector_pod(
    namespace: str, run_id: str, index: int, node: dict[str, Any], image: str, deadline: float, bundle: Bundle
) -> dict[str, Any]:
    node_name = str((node.get("metadata") or {}).get("name", ""))
    mounts = host_mounts(node)
    command = ["python3", "-S", "-E", "-B", f"{BUNDLE_MOUNT}/{ENTRY_FILE}", "--node", node_name, "--root", HOST_ROOT]
    for m in mounts:
        if m.may_be_created:
            command += ["--mount", m.path]
    volumes: list[dict[str, Any]] = [
        {"name": "code", "configMap": {"name": configmap_name(run_id), "items": bundle.configmap_items()}}
    ]
    volume_mounts: list[dict[str, Any]] = [{"name": "code", "mountPath": BUNDLE_MOUNT, "readOnly": True}]
    for i, m in enumerate(mounts):
        volumes.append({"name": f"host-{i}", "hostPath": {"path": m.path, "type": m.type}})
        volume_mounts.append({"name": f"host-{i}", "mountPath": HOST_ROOT + m.path, "readOnly": True})
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": pod_name(run_id, index), "namespace": namespace,
            "labels": labels(run_id, "node-collector"), "annotations": {NODE_ANNOTATION: node_name},
        },
        "spec": {
            "nodeName": node_name,
            "hostNetwork": True,
            "dnsPolicy": "Default",
            **run_once_spec(deadline),
            "containers": [{
                "name": CONTAINER,
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "command": command,
                "resources": {
                    "requests": {"cpu": "10m", "memory": "32Mi"},
                    "limits": {"cpu": "200m", "memory": "64Mi"},
                },
                "securityContext": {
                    # root reads root-only files (containerd's config.toml); it can change nothing:
                    # every mount is read-only and no capability is kept.
                    "runAsUser": 0,
                    "readOnlyRootFilesystem": True,
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": volume_mounts,
            }],
            "volumes": volumes,
        },
    }
