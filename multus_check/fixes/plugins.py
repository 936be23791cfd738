"""install-cni-plugins: a DaemonSet that installs the reference CNI plugins and runs `dhcp daemon`.

Repairs plugins.present and dhcp.daemon (multus-cni.md §5.1, §5.5, §8). Unlike the reference
DHCP DaemonSet it has no amd64 nodeSelector: the init container picks the release archive for the
node's own architecture (amd64, arm64, arm), and the version comes from the `cni-plugins`
ConfigMap so users can move it without editing the DaemonSet. The plugins go into the bin dir
Multus searches on the nodes; the daemon removes a stale socket before it starts, and mounts
/run/netns with HostToContainer propagation so it sees the pods' network namespaces.
`fixtures/manifests/cni-plugins-daemonset.yaml` is this module's output for the standard paths.

The DHCP daemon is added only when dhcp.daemon *fails* (no socket, a stale one, not a socket) and
no DaemonSet runs one already: a `warn` (a socket whose daemon was not probed) is not a missing
daemon, and a second daemon would delete the first one's socket. Otherwise the DaemonSet only
installs the plugins, and a DHCP DaemonSet that does not cover every node is the user's to fix.
"""

from __future__ import annotations

import re
from typing import Any

from multus_check.domain import k8s
from multus_check.domain.node import search_dirs
from multus_check.fixes.plan import Action, Change, Fix, Plan, PlanContext
from multus_check.model import Finding, Status
from multus_check.snapshot.data import Snapshot

NAMESPACE = "kube-system"
NAME = "multus-check-cni-plugins"
PLUGINS_VERSION = "v1.6.2"
IMAGE = "alpine:3.20"
LABELS = {"app": "multus-check-cni-plugins", "app.kubernetes.io/managed-by": "multus-check"}

INSTALL = r"""set -eu
case "$(uname -m)" in
  x86_64) arch=amd64 ;; aarch64|arm64) arch=arm64 ;; armv7l|armv6l) arch=arm ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
url="https://github.com/containernetworking/plugins/releases/download/${CNI_PLUGINS_VERSION}/cni-plugins-linux-${arch}-${CNI_PLUGINS_VERSION}.tgz"
wget -q -O /tmp/plugins.tgz "$url"
mkdir -p /tmp/plugins && tar -xzf /tmp/plugins.tgz -C /tmp/plugins
for f in /tmp/plugins/*; do
  name=$(basename "$f")
  [ "$name" = flannel ] && continue  # flannel's own install-cni owns that one
  cp "$f" "/host-bin/.$name.new" && mv -f "/host-bin/.$name.new" "/host-bin/$name"
done
"""
DAEMON = "rm -f /run/cni/dhcp.sock; exec /host-bin/dhcp daemon"
IDLE = "trap 'exit 0' TERM INT; while true; do sleep 3600 & wait $!; done"
SOCKET_DIRS = ("/run/cni", "/var/run/cni")
_RUNS_DHCP_DAEMON = re.compile(r"(^|[\s/;])dhcp\s+daemon\b")


def config_map(version: str = PLUGINS_VERSION) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cni-plugins", "namespace": NAMESPACE, "labels": dict(LABELS)},
            "data": {"version": version}}


def daemonset(bin_dir: str, dhcp_daemon: bool = True) -> dict[str, Any]:
    """The DaemonSet: plugins installed by its init container; its container runs `dhcp daemon`, or idles."""
    mount_bin = {"name": "cni-bin", "mountPath": "/host-bin"}
    version_env = {"name": "CNI_PLUGINS_VERSION",
                   "valueFrom": {"configMapKeyRef": {"name": "cni-plugins", "key": "version"}}}
    volumes = [{"name": "cni-bin", "hostPath": {"path": bin_dir, "type": "DirectoryOrCreate"}}]
    if dhcp_daemon:
        volumes += [{"name": "socket-dir", "hostPath": {"path": "/run/cni", "type": "DirectoryOrCreate"}},
                    {"name": "netns", "hostPath": {"path": "/run/netns", "type": "DirectoryOrCreate"}}]
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "selector": {"matchLabels": {"app": LABELS["app"]}},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "tolerations": [{"operator": "Exists"}],
                    "initContainers": [{"name": "install-plugins", "image": IMAGE, "command": ["/bin/sh", "-c", INSTALL],
                                        "env": [version_env], "volumeMounts": [mount_bin]}],
                    "containers": [_daemon_container(mount_bin) if dhcp_daemon else _idle_container()],
                    "volumes": volumes,
                },
            },
        },
    }


def _daemon_container(mount_bin: dict[str, str]) -> dict[str, Any]:
    return {
        "name": "dhcp-daemon", "image": IMAGE, "command": ["/bin/sh", "-c", DAEMON],
        "securityContext": {"privileged": True},
        "resources": {"requests": {"cpu": "10m", "memory": "20Mi"}, "limits": {"memory": "50Mi"}},
        "volumeMounts": [
            mount_bin,
            {"name": "socket-dir", "mountPath": "/run/cni"},
            {"name": "netns", "mountPath": "/run/netns", "mountPropagation": "HostToContainer"},
        ],
    }


def _idle_container() -> dict[str, Any]:
    """Keeps the pod (and so the installed plugins' rollout status) alive without a second DHCP daemon."""
    return {"name": "idle", "image": IMAGE, "command": ["/bin/sh", "-c", IDLE],
            "resources": {"requests": {"cpu": "1m", "memory": "4Mi"}, "limits": {"memory": "16Mi"}}}


def dhcp_daemonsets(snap: Snapshot) -> list[dict[str, Any]]:
    """DaemonSets that run the CNI DHCP daemon: a container runs `dhcp daemon`, or a DHCP-named one
    (name, `app` label, container name or image) mounts the socket dir (the reference DaemonSet
    runs the daemon from its image's entrypoint)."""
    found = []
    for ds in snap.kind("DaemonSet"):
        socket_volumes = {v.get("name") for v in k8s.pod_spec(ds).get("volumes") or []
                          if isinstance(v, dict) and str((v.get("hostPath") or {}).get("path", "")).rstrip("/") in SOCKET_DIRS}
        for c in k8s.containers(ds):
            argv = " ".join(str(a) for a in [*(c.get("command") or []), *(c.get("args") or [])])
            named = "dhcp" in " ".join([k8s.name(ds), k8s.labels(ds).get("app", ""), str(c.get("name", "")), str(c.get("image", ""))])
            mounts_socket = any(m.get("name") in socket_volumes for m in c.get("volumeMounts") or [])
            if _RUNS_DHCP_DAEMON.search(argv) or (named and mounts_socket):
                found.append(ds)
                break
    return found


class InstallCniPlugins(Fix):
    id = "install-cni-plugins"
    title = "install the reference CNI plugins and run the CNI DHCP daemon on every node"
    repairs = frozenset({"plugins.present", "dhcp.daemon"})

    def plan(self, snap: Snapshot, findings: list[Finding], ctx: PlanContext) -> Plan:
        if not self.failing(findings):
            return self.nothing("plugins and DHCP daemon are in place")
        if snap.get("DaemonSet", NAMESPACE, NAME) is not None:
            return Plan(self.id, self.repairs, "already installed", refused=(
                f"DaemonSet {NAMESPACE}/{NAME} exists but the checks still fail: see its pods' logs "
                f"(`kubectl -n {NAMESPACE} logs ds/{NAME} -c install-plugins`)"))
        plugins_missing = any(f.check == "plugins.present" and f.status is Status.FAIL for f in findings)
        daemon_missing = any(f.check == "dhcp.daemon" and f.status is Status.FAIL for f in findings)
        running = [k8s.ref(ds) for ds in dhcp_daemonsets(snap)]
        run_daemon = daemon_missing and not running
        if not plugins_missing and not run_daemon:
            if daemon_missing:
                return Plan(self.id, self.repairs, "the DHCP daemon has its own DaemonSet", refused=(
                    f"DaemonSet {running[0]} already runs the CNI DHCP daemon; a second one would delete its socket. "
                    f"See why it does not serve every node: `kubectl -n {running[0].split('/')[0]} describe ds/"
                    f"{running[0].split('/')[1]}` (nodeSelector, tolerations) and its pods' logs"))
            return self.nothing("dhcp.daemon only warns (a socket whose daemon was not probed): not a missing daemon")
        return self._install(snap, run_daemon, running)

    def _install(self, snap: Snapshot, run_daemon: bool, running: list[str]) -> Plan:
        bin_dirs = {name: search_dirs(snap, facts)[0] for name, facts in sorted(snap.nodes.items())}
        if not bin_dirs:
            return Plan(self.id, self.repairs, "cannot plan", refused="no node facts: the bin dir Multus uses is unknown")
        chosen = set(bin_dirs.values())
        if len(chosen) != 1:
            return Plan(self.id, self.repairs, "cannot plan", refused="nodes use different CNI bin dirs (" + ", ".join(
                f"{n}: {d}" for n, d in bin_dirs.items()) + "); install per node group")
        bin_dir = chosen.pop()
        changes = []
        if snap.get("ConfigMap", NAMESPACE, "cni-plugins") is None:
            changes.append(Change(Action.CREATE, config_map(), f"the plugin version the DaemonSet installs ({PLUGINS_VERSION}); "
                                  "left alone if it exists by then", if_absent=True))
        daemon = "runs `dhcp daemon` on /run/cni/dhcp.sock" if run_daemon else "runs no DHCP daemon"
        changes.append(Change(Action.CREATE, daemonset(bin_dir, run_daemon),
                              f"installs the reference plugins into {bin_dir} (the bin dir Multus searches) on every node, "
                              f"any architecture, and {daemon}"))
        notes = (f"The CNI DHCP daemon already runs in DaemonSet {', '.join(running)}: no second daemon is added.",) \
            if running else ()
        repairs = self.repairs if run_daemon else frozenset({"plugins.present"})  # verified: only what it repairs
        return Plan(self.id, repairs, f"install CNI plugins {PLUGINS_VERSION} into {bin_dir}"
                    + (" and run the DHCP daemon" if run_daemon else ""), tuple(changes), notes=notes,
                    pending="the DaemonSet's pods must run on every node first; re-run multus-check "
                    f"after `kubectl -n {NAMESPACE} rollout status ds/{NAME}`",
                    risk="low: adds a DaemonSet; existing binaries of the same name are replaced atomically")


def manifest_yaml(bin_dir: str = "/opt/cni/bin") -> str:
    """The manifests as YAML (fixtures/manifests/cni-plugins-daemonset.yaml is this for /opt/cni/bin)."""
    import yaml

    head = ("# Generated by multus_check.fixes.plugins.manifest_yaml(); `multus-check --fix` applies it with the bin dir\n"
            "# Multus uses on the nodes (k3s with embedded flannel: /var/lib/rancher/k3s/data/cni).\n")
    return head + yaml.safe_dump_all([config_map(), daemonset(bin_dir)], sort_keys=False, width=120)


if __name__ == "__main__":
    import sys

    sys.stdout.write(manifest_yaml())
