"""Fixes to the Multus DaemonSet: nested delegates (multus-nesting) and the k3s kubeconfig path
(multus-k3s-kubeconfig). Both replace the DaemonSet, which rolls its pods (multus-cni.md §2.4, §8).

multus-nesting prefers the upgrade to a fixed thin release (v4.1.0+ skips its own 00-multus file
when choosing the master, PR #1142) and adds an init container that removes the stale generated
files before the entrypoint writes a fresh one, since a stale file with the other suffix
(.conf vs .conflist) survives the upgrade. With the option `multus-nesting=workaround` it keeps
the version and adds only the init container (the seed's v4.0.x workaround).
"""

from __future__ import annotations

from typing import Any

from multus_check.domain import k8s
from multus_check.domain.cluster import k3s_info, multus_deployment
from multus_check.domain.node import runtime_dirs
from multus_check.fixes.plan import Edit, Fix, Plan, PlanContext, replace
from multus_check.model import Finding
from multus_check.snapshot.data import Snapshot

FIXED_VERSION = "v4.2.3"
CLEANUP = "remove-stale-multus-conf"
CLEANUP_IMAGE = "busybox:1.36"  # the multus-cni image has no shell
KUBECONFIG_FLAG = "--multus-kubeconfig-file-host"
PENDING = "the Multus DaemonSet must roll out on every node first; re-run multus-check after " \
          "`kubectl -n {ns} rollout status ds/{name}`"


def _conf_dir(snap: Snapshot) -> tuple[str | None, str]:
    dirs = {name: runtime_dirs(facts, k3s_info(snap)).conf_dir for name, facts in sorted(snap.nodes.items())}
    if len(set(dirs.values())) != 1:
        return None, "nodes use different CNI conf dirs (" + ", ".join(f"{n}: {d}" for n, d in dirs.items()) + ")" \
            if dirs else "no node facts, so the CNI conf dir is unknown"
    return next(iter(dirs.values())), ""


def _mount_for(host_paths: dict[str, str], host_dir: str) -> str | None:
    return next((c for c, h in host_paths.items() if h.rstrip("/") == host_dir.rstrip("/")), None)


def _pending(ds: dict[str, Any]) -> str:
    return PENDING.format(ns=k8s.namespace(ds), name=k8s.name(ds))


class MultusNesting(Fix):
    id = "multus-nesting"
    title = "stop Multus from nesting its own config (upgrade thin Multus, clean the stale file)"
    repairs = frozenset({"multus.nested-delegates"})
    variants = ("upgrade", "workaround")  # workaround: keep the Multus version, only clean the stale file

    def plan(self, snap: Snapshot, findings: list[Finding], ctx: PlanContext) -> Plan:
        if not self.failing(findings):
            return self.nothing("no nested Multus delegates")
        dep = multus_deployment(snap)
        conf_dir, problem = _conf_dir(snap)
        if dep is None or conf_dir is None:
            return Plan(self.id, self.repairs, "cannot plan", refused=problem or "no Multus DaemonSet found")
        mount = _mount_for(dep.host_paths, conf_dir)
        if mount is None:
            return Plan(self.id, self.repairs, "cannot plan",
                        refused=f"the Multus DaemonSet does not mount the CNI conf dir {conf_dir} (see multus.conf-first)")
        workaround = ctx.options.get(self.id) == "workaround"
        upgrade = not workaround and dep.version is not None and dep.version < (4, 1, 0)
        volume = next((str(m["name"]) for c in k8s.containers(dep.daemonset) for m in c.get("volumeMounts") or []
                       if m.get("mountPath") == mount), None)
        has_cleanup = any(c.get("name") == CLEANUP for c in k8s.containers(dep.daemonset, init=True))
        what = [f"upgrade Multus {dep.version_text} -> {FIXED_VERSION} (fix #1142)"] if upgrade else []
        if not has_cleanup:
            what.append(f"init container removes {conf_dir}/00-multus.conf(list) before the entrypoint regenerates it")
        if volume is None:
            return Plan(self.id, self.repairs, "cannot plan", refused=f"no container of the Multus DaemonSet mounts {mount}")
        change = replace(dep.daemonset, _nesting_edit(upgrade, mount, volume), "; ".join(what)) if what else None
        if change is None:  # a second --fix while the first one's rollout is pending plans nothing
            return Plan(self.id, self.repairs, "already applied", refused=(
                f"the DaemonSet already carries this fix (Multus {dep.version_text}, init container {CLEANUP}); the "
                "nested config stays until its rollout reaches every node: " + _pending(dep.daemonset)))
        return Plan(self.id, self.repairs, "; ".join(what), (change,), pending=_pending(dep.daemonset),
                    notes=("Pods created while a Multus pod restarts get only the cluster network; recreate them "
                           "if they miss net1.",),
                    risk="medium: Multus restarts on every node")


def _fixed_image(image: str) -> str | None:
    """The multus-cni image at FIXED_VERSION (a digest is dropped with the tag); None for other images."""
    if "multus-cni" not in image:
        return None
    name = image.split("@", 1)[0]
    repo = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    return f"{repo}:{FIXED_VERSION}"


def _nesting_edit(upgrade: bool, mount: str, volume: str) -> Edit:
    def edit(ds: dict[str, Any]) -> None:
        pod = ds["spec"]["template"]["spec"]
        if upgrade:
            for container in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
                fixed = _fixed_image(str(container.get("image", "")))
                if fixed is not None:
                    container["image"] = fixed
        inits = pod.get("initContainers") or []
        if not any(c.get("name") == CLEANUP for c in inits):
            pod["initContainers"] = [{"name": CLEANUP, "image": CLEANUP_IMAGE,
                                      "command": ["/bin/sh", "-c", f"rm -f {mount}/00-multus.conf {mount}/00-multus.conflist"],
                                      "volumeMounts": [{"name": volume, "mountPath": mount}]}, *inits]

    return edit


def _kubeconfig_edit(wanted: str) -> Edit:
    def edit(ds: dict[str, Any]) -> None:
        main = next(c for c in ds["spec"]["template"]["spec"]["containers"] if "multus" in str(c.get("image", "")))
        field = "args" if main.get("args") else "command"
        main[field] = [a for a in main.get(field) or [] if not str(a).startswith(KUBECONFIG_FLAG + "=")] + [wanted]

    return edit


class MultusK3sKubeconfig(Fix):
    id = "multus-k3s-kubeconfig"
    title = "point thin Multus's kubeconfig at the CNI conf dir the runtime really uses"
    repairs = frozenset({"multus.kubeconfig"})

    def plan(self, snap: Snapshot, findings: list[Finding], ctx: PlanContext) -> Plan:
        if not self.failing(findings):
            return self.nothing("the Multus kubeconfig exists")
        dep = multus_deployment(snap)
        conf_dir, problem = _conf_dir(snap)
        if dep is None or conf_dir is None or dep.mode != "thin":
            return Plan(self.id, self.repairs, "cannot plan",
                        refused=problem or ("no Multus DaemonSet found" if dep is None else f"Multus runs {dep.mode}"))
        wanted = f"{KUBECONFIG_FLAG}={conf_dir}/multus.d/multus.kubeconfig"
        main = next((c for c in k8s.containers(dep.daemonset) if "multus" in str(c.get("image", ""))), {})
        if wanted in [str(a) for a in (main.get("args") or main.get("command") or [])]:
            return Plan(self.id, self.repairs, "cannot plan", refused=f"the DaemonSet already passes {wanted}; "
                        "the file is missing because Multus has not run on the node yet (see multus.installed)")
        change = replace(dep.daemonset, _kubeconfig_edit(wanted), f"the thin entrypoint writes its kubeconfig where "
                         f"{wanted.split('=')[1]} says and names that path in the generated config")
        if change is None:
            return Plan(self.id, self.repairs, "cannot plan", refused="no Multus container found in the DaemonSet")
        return Plan(self.id, self.repairs, f"make Multus write and use {conf_dir}/multus.d/multus.kubeconfig",
                    (change,), pending=_pending(dep.daemonset), risk="low: Multus restarts on every node")
