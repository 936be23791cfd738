"""install-multus: the thin Multus DaemonSet (pinned v4.2.3) with its CRD, RBAC and service account.

Shaped after the upstream thin manifest (multus-cni.md §1.1) with the release tag pinned instead of
`:snapshot`, and the host paths the nodes' runtime really uses (§8): on k3s with its embedded
flannel the conf dir is /var/lib/rancher/k3s/agent/etc/cni/net.d and the kubeconfig must be
named with --multus-kubeconfig-file-host. `fixtures/manifests/multus-thin-v4.2.3.yaml` is this
module's output for the standard paths. Objects that already exist are left alone: the CRD, RBAC
and service account are skipped when the snapshot holds them, and otherwise created only if still
absent when applied (`Change.if_absent`), so a cluster with half an install neither fails with 409
nor has its objects overwritten, and undo deletes only what this fix created.
"""

from __future__ import annotations

from typing import Any

from multus_check.domain.cluster import k3s_info, multus_daemonset
from multus_check.domain.node import runtime_dirs
from multus_check.fixes.plan import Action, Change, Fix, Plan, PlanContext
from multus_check.model import Finding
from multus_check.snapshot.data import Snapshot

VERSION = "v4.2.3"
IMAGE = f"ghcr.io/k8snetworkplumbingwg/multus-cni:{VERSION}"
NS = "kube-system"
CRD_NAME = "network-attachment-definitions.k8s.cni.cncf.io"


def crd() -> dict[str, Any]:
    schema = {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {"config": {"type": "string"}}}}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": CRD_NAME},
            "spec": {"group": "k8s.cni.cncf.io", "scope": "Namespaced",
                     "names": {"plural": "network-attachment-definitions", "singular": "network-attachment-definition",
                               "kind": "NetworkAttachmentDefinition", "shortNames": ["net-attach-def"]},
                     "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": schema}}]}}


def rbac() -> list[dict[str, Any]]:
    rules = [{"apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["*"]},
             {"apiGroups": [""], "resources": ["pods", "pods/status"], "verbs": ["get", "update"]},
             {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]}]
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "multus"}, "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "multus"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "multus"},
         "subjects": [{"kind": "ServiceAccount", "name": "multus", "namespace": NS}]},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "multus", "namespace": NS}},
    ]


def daemonset(conf_dir: str = "/etc/cni/net.d", bin_dir: str = "/opt/cni/bin", k3s: bool = False) -> dict[str, Any]:
    labels = {"tier": "node", "app": "multus", "name": "multus"}
    args = ["--multus-conf-file=auto", "--multus-autoconfig-dir=/host/etc/cni/net.d", "--cni-conf-dir=/host/etc/cni/net.d",
            "--cleanup-config-on-exit=true"]
    if k3s or conf_dir != "/etc/cni/net.d":
        args.append(f"--multus-kubeconfig-file-host={conf_dir}/multus.d/multus.kubeconfig")
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "kube-multus-ds", "namespace": NS, "labels": dict(labels)},
        "spec": {"selector": {"matchLabels": {"name": "multus"}}, "updateStrategy": {"type": "RollingUpdate"},
                 "template": {"metadata": {"labels": dict(labels)}, "spec": {
                     "hostNetwork": True, "serviceAccountName": "multus", "terminationGracePeriodSeconds": 10,
                     "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}, {"operator": "Exists", "effect": "NoExecute"}],
                     "initContainers": [{"name": "install-multus-binary", "image": IMAGE, "command": ["/install_multus"],
                                         "args": ["--type", "thin"], "securityContext": {"privileged": True},
                                         "volumeMounts": [{"name": "cnibin", "mountPath": "/host/opt/cni/bin",
                                                           "mountPropagation": "Bidirectional"}]}],
                     "containers": [{"name": "kube-multus", "image": IMAGE, "command": ["/thin_entrypoint"], "args": args,
                                     "resources": {"requests": {"cpu": "100m", "memory": "50Mi"},
                                                   "limits": {"cpu": "100m", "memory": "50Mi"}},
                                     "securityContext": {"privileged": True},
                                     "volumeMounts": [{"name": "cni", "mountPath": "/host/etc/cni/net.d"},
                                                      {"name": "cnibin", "mountPath": "/host/opt/cni/bin"}]}],
                     "volumes": [{"name": "cni", "hostPath": {"path": conf_dir}},
                                 {"name": "cnibin", "hostPath": {"path": bin_dir}}]}}},
    }


def manifest_yaml() -> str:
    import yaml

    head = ("# Generated by multus_check.fixes.install_multus.manifest_yaml() (standard paths); on k3s with embedded\n"
            "# flannel `multus-check --fix` uses the k3s conf/bin dirs and --multus-kubeconfig-file-host.\n")
    return head + yaml.safe_dump_all([crd(), *rbac(), daemonset()], sort_keys=False, width=120)


class InstallMultus(Fix):
    id = "install-multus"
    title = f"install thin Multus {VERSION} (CRD, RBAC, DaemonSet) with the nodes' CNI paths"
    repairs = frozenset({"multus.installed", "multus.conf-first", "nad.crd"})

    def plan(self, snap: Snapshot, findings: list[Finding], ctx: PlanContext) -> Plan:
        failing = {f.check for f in self.failing(findings)}
        if not failing & {"multus.installed", "nad.crd"}:
            return self.nothing("Multus and the NAD CRD are installed")
        changes: list[Change] = []
        notes: list[str] = []
        if "nad.crd" in failing:
            self._create_unless_present(snap, crd(), "no NAD can exist without the NetworkAttachmentDefinition CRD",
                                        changes, notes)
        if "multus.installed" in failing and multus_daemonset(snap) is None:
            info = k3s_info(snap)
            dirs = {(d.conf_dir, d.bin_dir) for d in (runtime_dirs(f, info) for f in snap.nodes.values())}
            if len(dirs) != 1:
                return Plan(self.id, self.repairs, "cannot plan", refused="the nodes' CNI dirs are unknown or differ: "
                            + (", ".join(f"{c} + {b}" for c, b in sorted(dirs)) or "no node facts"))
            conf_dir, bin_dir = dirs.pop()
            for obj in rbac():
                self._create_unless_present(snap, obj, "Multus needs its service account and RBAC to read NADs and pods",
                                            changes, notes)
            changes.append(Change(Action.CREATE, daemonset(conf_dir, bin_dir, info.is_k3s),
                                  f"thin Multus {VERSION} reading and writing {conf_dir}, plugins from {bin_dir}"))
        if not changes:
            return Plan(self.id, self.repairs, "nothing to create", notes=tuple(notes),
                        refused="Multus's DaemonSet exists but is not ready: see its pods (`kubectl -n kube-system "
                                "describe ds/kube-multus-ds`)")
        return Plan(self.id, self.repairs, f"install thin Multus {VERSION}", tuple(changes), notes=tuple(notes),
                    pending="the Multus DaemonSet must roll out on every node first; re-run multus-check after "
                            "`kubectl -n kube-system rollout status ds/kube-multus-ds`",
                    risk="medium: every new pod goes through Multus from now on")

    @staticmethod
    def _create_unless_present(snap: Snapshot, obj: dict[str, Any], why: str, changes: list[Change],
                               notes: list[str]) -> None:
        """A create that never clobbers: skipped when the snapshot holds the object, else created only
        if still absent at apply time (the diagnosis reads no RBAC or service accounts)."""
        meta = obj["metadata"]
        existing = snap.get(obj["kind"], meta.get("namespace"), meta["name"])
        if existing is None:
            changes.append(Change(Action.CREATE, obj, why + "; left alone if it exists by then", if_absent=True))
            return
        ref = f"{obj['kind']} {meta['namespace']}/{meta['name']}" if meta.get("namespace") else f"{obj['kind']} {meta['name']}"
        notes.append(f"{ref} already exists: not created and not changed (its content is not checked), and undo "
                     "will not delete it")

if __name__ == "__main__":
    import sys

    sys.stdout.write(manifest_yaml())
