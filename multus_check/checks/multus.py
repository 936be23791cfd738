"""multus.*: the Multus DaemonSet, its generated config on every node, the nested-delegate
bug and the kubeconfig path (multus-cni.md §1, §2, §4, §10)."""

from __future__ import annotations

from typing import Any

from multus_check.checks.base import CLUSTER, finding, need, per_node, unreadable_advice, worst
from multus_check.checks.spec import check
from multus_check.domain import k3s, k8s
from multus_check.domain.cluster import MultusDeployment, daemonset_ready, flannel_cni_conf, k3s_info, multus_deployment
from multus_check.domain.cniconf import ConfigError, MultusConfig, parse_multus_config
from multus_check.domain.node import cni_conf_files, file_exists, multus_files, runtime_dirs
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot.data import NodeFacts, Snapshot

MANIFEST = "https://raw.githubusercontent.com/k8snetworkplumbingwg/multus-cni/v4.2.3/deployments/multus-daemonset.yml"
INSTALL_MULTUS = (
    f"Install Multus thin v4.2.3: `curl -sL {MANIFEST} | sed 's+multus-cni:snapshot+multus-cni:v4.2.3+' | kubectl apply -f -` "
    "(on k3s with its embedded flannel also change the cni/cnibin hostPaths to /var/lib/rancher/k3s/agent/etc/cni/net.d "
    "and /var/lib/rancher/k3s/data/cni)."
)
UPGRADE = ("Upgrade Multus thin to v4.1.0 or later (e.g. image ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.3) and add "
           "--cleanup-config-on-exit=true: `kubectl -n kube-system set image ds/kube-multus-ds "
           "kube-multus=ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.3 install-multus-binary=ghcr.io/k8snetworkplumbingwg/multus-cni:v4.2.3`.")


@check("multus.installed", "the Multus DaemonSet runs and is ready on every node", Severity.CRITICAL, fix="install-multus")
def multus_installed(snap: Snapshot) -> list[Finding]:
    """Finds the Multus DaemonSet (labels app=multus or name=multus), reads its version and
    thin/thick mode from the image, and flags versions and flags known to break on k3s."""
    cid = "multus.installed"
    if err := need(snap, cid, "daemonsets", "nodes"):
        return err
    dep = multus_deployment(snap)
    if dep is None:
        return [finding(cid, Status.FAIL, CLUSTER, "No Multus DaemonSet was found (looked for app=multus, name=multus or "
                        "a name containing multus).", INSTALL_MULTUS, observed="no Multus DaemonSet")]
    subject = f"daemonset/{k8s.ref(dep.daemonset)}"
    ready, desired = daemonset_ready(dep.daemonset)
    ev: dict[str, Any] = {"image": dep.image, "version": dep.version_text, "mode": dep.mode, "ready": ready, "desired": desired,
          "nodes": len(snap.kind("Node"))}
    problems = _deployment_problems(snap, dep)
    if desired == 0 or ready < desired:
        problems.insert(0, (Status.FAIL, f"only {ready} of {desired} Multus pods are ready",
                            f"`kubectl -n {k8s.namespace(dep.daemonset)} logs ds/{k8s.name(dep.daemonset)} -c kube-multus`."))
    if not problems:
        return [finding(cid, Status.PASS, subject, f"Multus {dep.version_text} ({dep.mode}) is ready on {ready} of "
                        f"{ev['nodes']} nodes.", **ev)]
    status = worst(p[0] for p in problems)
    return [finding(cid, status, subject, f"Multus {dep.version_text} ({dep.mode}): " + "; ".join(p[1] for p in problems) + ".",
                    " ".join(p[2] for p in problems), **ev)]


def _deployment_problems(snap: Snapshot, dep: MultusDeployment) -> list[tuple[Status, str, str]]:
    out: list[tuple[Status, str, str]] = []
    info = k3s_info(snap)
    v = dep.version
    if dep.mode == "v3":
        status = Status.FAIL if info.is_k3s else Status.WARN
        out.append((status, "Multus v3 supports CNI up to 0.4.0 and fails on k3s's cniVersion 1.0.0 flannel config "
                    "(`unsupported CNI result version \"1.0.0\"`)", INSTALL_MULTUS))
    if v and v[0] >= 4 and "/entrypoint.sh" in " ".join(dep.args):
        out.append((Status.FAIL, "a v3 manifest (/entrypoint.sh, cp) runs the distroless v4 image "
                    "(`exec: \"cp\": executable file not found`)", "Use the v4 manifests (/thin_entrypoint, /install_multus)."))
    if dep.mode == "thin" and v and (4, 0, 0) <= v <= (4, 0, 2):
        out.append((Status.WARN, "thin v4.0.0-v4.0.2 nests its own config on every restart (duplicate net1, see "
                    "multus.nested-delegates)", UPGRADE))
    if v is None:
        out.append((Status.WARN, f"the image tag {dep.tag!r} does not pin a release", "Pin a release tag such as v4.2.3."))
    cni_version = dep.flag("--cni-version")
    master = flannel_cni_conf(snap).value
    if cni_version and master and str(master.get("cniVersion")) != cni_version:
        out.append((Status.FAIL, f"--cni-version={cni_version} differs from flannel's cniVersion {master.get('cniVersion')} "
                    f"(`Multus cni version is \"{cni_version}\" while master plugin cni version is \"{master.get('cniVersion')}\"`)",
                    "Remove --cni-version from the kube-multus container args."))
    conf_host = dep.host_paths.get("/host/etc/cni/net.d")
    if info.is_k3s and not info.embedded_flannel_disabled and conf_host and conf_host != k3s.CONF_DIR:
        out.append((Status.FAIL, f"it writes its config to {conf_host}, but k3s's containerd reads {k3s.CONF_DIR}",
                    f"Set the DaemonSet's cni hostPath to {k3s.CONF_DIR}."))
    return out


def _active_multus(facts: NodeFacts, snap: Snapshot) -> tuple[str, list[str], str | None]:
    dirs = runtime_dirs(facts, k3s_info(snap))
    names = cni_conf_files(facts, dirs.conf_dir)
    multus = multus_files(names)
    return dirs.conf_dir, names, (f"{dirs.conf_dir}/{multus[0]}" if multus else None)


@check("multus.conf-first", "the Multus config is the first file in the conf dir the runtime reads", Severity.CRITICAL, fix="install-multus")
def multus_conf_first(snap: Snapshot) -> list[Finding]:
    """The runtime loads the lexicographically first .conf/.conflist/.json; 00-multus.conf(list)
    must win, else Multus is never called and pods get no net1 with no error at all."""
    cid = "multus.conf-first"
    if err := need(snap, cid, "nodes"):
        return err

    def judge(name: str, facts: NodeFacts, _node: dict[str, Any] | None) -> Finding:
        conf_dir, names, active = _active_multus(facts, snap)
        subject = f"node/{name}"
        ev: dict[str, Any] = {"conf_dir": conf_dir, "files": names}
        if active is None:
            elsewhere = [p for p in ("/etc/cni/net.d", k3s.CONF_DIR) if p != conf_dir
                         and facts.has_listing(p) and multus_files([e.name for e in facts.listing(p) or []])]
            hint = f" A Multus config exists in {elsewhere[0]}, a directory this runtime does not read." if elsewhere else ""
            return finding(cid, Status.FAIL, subject, f"Node {name} has no 00-multus.conf(list) in {conf_dir}: Multus is "
                           f"never called, pods get no net1 and no error.{hint}",
                           f"Point the Multus DaemonSet's cni hostPath at {conf_dir} and restart it. " + INSTALL_MULTUS, **ev)
        if names[0] != active.rsplit("/", 1)[1]:
            return finding(cid, Status.FAIL, subject, f"Node {name}: {names[0]} sorts before the Multus config in {conf_dir}, "
                           "so the runtime never calls Multus.", f"Rename or remove {conf_dir}/{names[0]} on node {name}.", **ev)
        text = facts.file(active)
        if text is not None:
            try:
                parse_multus_config(text, active)
            except ConfigError as exc:
                return finding(cid, Status.FAIL, subject, f"Node {name}: {exc}.",
                               "Delete the file and restart Multus so it regenerates it.", **ev)
        stale = multus_files(names)[1:]
        if stale:
            return finding(cid, Status.WARN, subject, f"Node {name} has several Multus configs ({', '.join(multus_files(names))}); "
                           f"the runtime loads {names[0]}, the others are stale.",
                           f"Delete {', '.join(conf_dir + '/' + s for s in stale)} on node {name} if Multus no longer writes it.", **ev)
        return finding(cid, Status.PASS, subject, f"Node {name}: {names[0]} is the first config in {conf_dir}.", **ev)

    return per_node(snap, cid, judge)


def _parsed_multus(facts: NodeFacts, snap: Snapshot, cid: str, name: str) -> MultusConfig | Finding:
    _, _, active = _active_multus(facts, snap)
    subject = f"node/{name}"
    if active is None:
        return finding(cid, Status.SKIP, subject, f"Node {name} has no Multus config (see multus.conf-first).")
    text = facts.file(active)
    if text is None:
        reason = facts.unreadable.get(active, f"{active} was listed but its content was not collected")
        return finding(cid, Status.ERROR, subject, f"Could not evaluate node {name}: {reason}.", unreadable_advice(reason))
    try:
        return parse_multus_config(text, active)
    except ConfigError as exc:
        return finding(cid, Status.ERROR, subject, f"Could not evaluate node {name}: {exc}.", "See multus.conf-first.")


@check("multus.nested-delegates", "00-multus.conf(list) holds no nested Multus delegate", Severity.CRITICAL, fix="multus-nesting")
def multus_nested_delegates(snap: Snapshot) -> list[Finding]:
    """Thin v4.0.0-v4.0.2 takes its own previous 00-multus file as the master on restart and
    wraps it; the inner Multus creates net1, the outer fails with `validateIfName: interface
    name net1 already exists`."""
    cid = "multus.nested-delegates"
    if err := need(snap, cid, "nodes"):
        return err

    def judge(name: str, facts: NodeFacts, _node: dict[str, Any] | None) -> Finding:
        conf = _parsed_multus(facts, snap, cid, name)
        if isinstance(conf, Finding):
            return conf
        subject = f"node/{name}"
        if conf.nesting_depth:
            return finding(cid, Status.FAIL, subject,
                           f"Node {name}'s Multus config nests {conf.nesting_depth} Multus config(s) inside its delegates: "
                           "pods fail with `DelegateAdd: cannot set \"macvlan\" interface name to \"net1\": validateIfName: "
                           "interface name net1 already exists`.",
                           UPGRADE + " v4.1.0+ rewrites the nested file on its first start; delete a stale file of the other "
                           "suffix (.conf vs .conflist) by hand. Fallback for v4.0.x: an init container that runs "
                           "`rm -f /host/etc/cni/net.d/00-multus.conf*` on every start.", depth=conf.nesting_depth)
        return finding(cid, Status.PASS, subject, f"Node {name}'s Multus config has no nested Multus delegate.", depth=0)

    return per_node(snap, cid, judge)


@check("multus.kubeconfig", "the kubeconfig path in the Multus config exists on the host", Severity.HIGH, fix="multus-k3s-kubeconfig")
def multus_kubeconfig(snap: Snapshot) -> list[Finding]:
    """Thin Multus reads the NADs and pod annotations with the kubeconfig named in its config, a
    host path; on k3s the upstream default /etc/cni/net.d/multus.d/multus.kubeconfig is wrong."""
    cid = "multus.kubeconfig"
    if err := need(snap, cid, "nodes"):
        return err

    def judge(name: str, facts: NodeFacts, _node: dict[str, Any] | None) -> Finding:
        conf = _parsed_multus(facts, snap, cid, name)
        if isinstance(conf, Finding):
            return conf
        subject = f"node/{name}"
        if conf.mode == "thick":
            return finding(cid, Status.SKIP, subject, f"Node {name} runs Multus thick; its daemon uses its service account.")
        if not conf.kubeconfig:
            return finding(cid, Status.FAIL, subject, f"Node {name}'s Multus config names no kubeconfig, so Multus cannot "
                           "read NADs or pod annotations.", "Restart Multus so it regenerates its config.")
        exists = file_exists(facts, conf.kubeconfig)
        ev: dict[str, Any] = {"kubeconfig": conf.kubeconfig}
        if exists is None:
            return finding(cid, Status.ERROR, subject, f"Could not evaluate node {name}: the directory of {conf.kubeconfig} "
                           "was not listed.", "Collect node facts again.", **ev)
        if not exists:
            conf_dir = runtime_dirs(facts, k3s_info(snap)).conf_dir
            return finding(cid, Status.FAIL, subject, f"Node {name}: {conf.kubeconfig} does not exist; pods fail with "
                           f"`GetK8sClient: failed to get context for the kubeconfig {conf.kubeconfig}: stat ...: no such file "
                           "or directory`.",
                           f"Add --multus-kubeconfig-file-host={conf_dir}/multus.d/multus.kubeconfig to the kube-multus "
                           "container args and restart Multus.", **ev)
        return finding(cid, Status.PASS, subject, f"Node {name}: the Multus kubeconfig {conf.kubeconfig} exists.", **ev)

    return per_node(snap, cid, judge)
