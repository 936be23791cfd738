"""flannel.*: vanilla flannel installed, k3s's embedded flannel off, its config surfaced to
Multus, and every node's podCIDR inside flannel's Network (flannel-k3s.md §1-§4)."""

from __future__ import annotations

import json
from typing import Any

from multus_check.checks.base import CLUSTER, finding, need, per_node, unreadable_advice
from multus_check.checks.spec import check
from multus_check.domain import k8s, placement
from multus_check.domain.cluster import (
    Sourced,
    daemonset_ready,
    flannel_configmap,
    flannel_daemonset,
    flannel_daemonsets,
    flannel_network,
    ipv6_only,
    k3s_info,
)
from multus_check.domain.cniconf import ConfigError, is_flannel, parse_json_object, parse_multus_config
from multus_check.domain.ipnet import Net, contains, try_net
from multus_check.domain.node import cni_conf_files, runtime_dirs
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot.data import NodeFacts, Snapshot

INSTALL_FLANNEL = (
    "Download kube-flannel.yml (https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml), "
    "set net-conf.json \"Network\" to the cluster CIDR (k3s: 10.42.0.0/16), then `kubectl apply -f kube-flannel.yml` "
    "and `kubectl -n kube-flannel rollout status ds/kube-flannel-ds`."
)
REINSTALL_K3S = (
    "Reinstall k3s without its embedded flannel: `curl -sfL https://get.k3s.io | "
    "INSTALL_K3S_EXEC=\"server --flannel-backend=none --disable-network-policy\" sh -` "
    "(or add `flannel-backend: none` and `disable-network-policy: true` to /etc/rancher/k3s/config.yaml and "
    "restart k3s on every server), then install vanilla flannel."
)


@check("flannel.installed", "a vanilla flannel DaemonSet runs and is ready on every node", Severity.CRITICAL)
def flannel_installed(snap: Snapshot) -> list[Finding]:
    """Multus needs a cluster-default network whose CNI config it can read. The recipe uses the
    upstream kube-flannel DaemonSet (namespace kube-flannel since v0.19.0, kube-system before).
    Older manifests run one DaemonSet per architecture (kube-flannel-ds-amd64, -arm64, ...): every
    flannel DaemonSet is judged, and each node by the DaemonSet whose nodeSelector / required node
    affinity selects it; a node that none selects runs no flanneld at all (flannel-k3s.md §2)."""
    cid = "flannel.installed"
    if err := need(snap, cid, "daemonsets", "nodes"):
        return err
    sets = flannel_daemonsets(snap)
    if not sets:
        info = k3s_info(snap)
        why = (" k3s's embedded flannel is in use instead; its config never reaches Multus."
               if info.is_k3s and not info.embedded_flannel_disabled else "")
        return [finding(cid, Status.FAIL, CLUSTER,
                        "No flannel DaemonSet was found in any namespace (looked for app=flannel, "
                        f"k8s-app=flannel or kube-flannel-ds*).{why}",
                        (REINSTALL_K3S + " " if why else "") + INSTALL_FLANNEL,
                        observed="no flannel DaemonSet", expected="DaemonSet kube-flannel/kube-flannel-ds")]
    nodes = snap.kind("Node")
    serving = {k8s.name(n): [k8s.ref(ds) for ds in sets if placement.selects(ds, n)] for n in nodes}
    out = [_judge_flannel_ds(cid, ds, [n for n, refs in serving.items() if k8s.ref(ds) in refs], len(nodes))
           for ds in sets]
    return out + [_judge_flannel_node(cid, n, serving[k8s.name(n)], sets) for n in nodes
                  if len(serving[k8s.name(n)]) != 1]


def _judge_flannel_ds(cid: str, ds: dict[str, Any], selected: list[str], nodes: int) -> Finding:
    ref, subject = k8s.ref(ds), f"daemonset/{k8s.ref(ds)}"
    ready, desired = daemonset_ready(ds)
    shown = ", ".join(selected[:5]) + (f" and {len(selected) - 5} more" if len(selected) > 5 else "")
    ev: dict[str, Any] = {"daemonset": ref, "ready": ready, "desired": desired, "nodes": nodes,
                          "selected_nodes": selected, "node_selector": placement.describe(ds)}
    if not selected and desired == 0:
        return finding(cid, Status.SKIP, subject, f"flannel DaemonSet {ref} selects none of the {nodes} nodes "
                       f"({ev['node_selector'] or 'no selector'}); nothing of it runs.", **ev)
    if desired == 0 or ready < desired:
        return finding(cid, Status.FAIL, subject,
                       f"flannel DaemonSet {ref} has {ready} of {desired} pods ready (it selects {shown or 'no node'}).",
                       f"Inspect the failing pods: `kubectl -n {k8s.namespace(ds)} get pods -l app=flannel -o wide` and "
                       f"`kubectl -n {k8s.namespace(ds)} logs ds/{k8s.name(ds)} -c kube-flannel`; flanneld exits when a "
                       "node's podCIDR lies outside Network (see flannel.network-contains-pod-cidrs).", **ev)
    if desired < len(selected):
        return finding(cid, Status.WARN, subject,
                       f"flannel DaemonSet {ref} is ready but scheduled on only {desired} of the {len(selected)} nodes "
                       f"it selects ({shown}).",
                       "Check the nodes without a flannel pod for taints the DaemonSet does not tolerate: "
                       "`kubectl describe nodes | grep -A3 Taints`.", **ev)
    return finding(cid, Status.PASS, subject,
                   f"flannel DaemonSet {ref} is ready on {ready} of the {len(selected)} nodes it selects ({shown}).", **ev)


def _judge_flannel_node(cid: str, node: dict[str, Any], refs: list[str], sets: list[dict[str, Any]]) -> Finding:
    """A node that no flannel DaemonSet selects, or more than one does."""
    name, arch = k8s.name(node), k8s.labels(node).get("kubernetes.io/arch", "?")
    ev: dict[str, Any] = {"daemonsets": refs, "labels": k8s.labels(node)}
    if refs:
        return finding(cid, Status.WARN, f"node/{name}",
                       f"Node {name} is selected by {len(refs)} flannel DaemonSets ({', '.join(refs)}): two flanneld "
                       "on one node fight over flannel.1 and /run/flannel/subnet.env.",
                       "Delete the older DaemonSet (manifests before flannel v0.19.0 used kube-system): "
                       f"`kubectl -n <namespace> delete ds <name>` for all but one of {', '.join(refs)}.", **ev)
    wants = "; ".join(f"{k8s.ref(ds)}: {placement.describe(ds) or 'no selector'}" for ds in sets)
    return finding(cid, Status.FAIL, f"node/{name}",
                   f"Node {name} (kubernetes.io/arch={arch}) is selected by none of the flannel DaemonSets ({wants}): "
                   "no flanneld runs there, so pods on it get no cluster network (`loadFlannelSubnetEnv failed`, "
                   "catalog F36).",
                   "Replace the per-architecture DaemonSets with the current multi-arch manifest (one DaemonSet for "
                   "every node): delete them (`kubectl -n <namespace> delete ds <name>`). " + INSTALL_FLANNEL, **ev)


@check("flannel.k3s-embedded", "k3s's embedded flannel is not in use", Severity.HIGH)
def flannel_k3s_embedded(snap: Snapshot) -> list[Finding]:
    """k3s's embedded flannel writes its CNI config under /var/lib/rancher/k3s and regenerates it
    on every start; the recipe replaces it with vanilla flannel (`--flannel-backend none`)."""
    cid = "flannel.k3s-embedded"
    if err := need(snap, cid, "nodes", "daemonsets"):
        return err
    info = k3s_info(snap)
    if not info.is_k3s:
        return [finding(cid, Status.SKIP, CLUSTER, "Not a k3s cluster (no +k3s kubelet version or k3s.io/node-args).")]
    ev: dict[str, Any] = {"flannel_backend": info.flannel_backend, "server_flags": info.server_flags}
    if info.server_args_seen:
        if info.embedded_flannel_disabled:
            return [finding(cid, Status.PASS, CLUSTER, "k3s servers run with --flannel-backend none; the embedded flannel is off.", **ev)]
        return [finding(cid, Status.FAIL, CLUSTER,
                        f"k3s servers run the embedded flannel (--flannel-backend {info.flannel_backend}); "
                        "its config lives in /var/lib/rancher/k3s/agent/etc/cni/net.d and is rewritten on every start.",
                        REINSTALL_K3S, **ev)]
    embedded = any(
        k8s.annotations_of(n).get("flannel.alpha.coreos.com/kube-subnet-manager") == "true" for n in snap.kind("Node")
    ) and flannel_daemonset(snap) is None
    if embedded:
        return [finding(cid, Status.FAIL, CLUSTER,
                        "Nodes carry flannel lease annotations but no flannel DaemonSet exists: k3s's embedded "
                        "flannel is in use (no server node-args were visible to confirm).", REINSTALL_K3S, **ev)]
    return [finding(cid, Status.WARN, CLUSTER,
                    "Cannot confirm the flannel backend: no k3s server node shows k3s.io/node-args.",
                    "Check a server with `kubectl get node <server> -o jsonpath='{.metadata.annotations.k3s\\.io/node-args}'`; "
                    "it should contain \"--flannel-backend\",\"none\".", **ev)]


@check("flannel.conf-surfaced", "flannel's CNI config is in the conf dir Multus reads and is its default delegate", Severity.HIGH)
def flannel_conf_surfaced(snap: Snapshot) -> list[Finding]:
    """Multus (thin, `--multus-conf-file=auto`) embeds the first non-Multus config of its conf dir
    as `delegates[0]`; that must be flannel's conflist, and a current copy of it."""
    cid = "flannel.conf-surfaced"
    if err := need(snap, cid, "nodes"):
        return err
    info = k3s_info(snap)

    def judge(name: str, facts: NodeFacts, _node: dict[str, Any] | None) -> Finding:
        dirs = runtime_dirs(facts, info)
        names = cni_conf_files(facts, dirs.conf_dir)
        flannel = [n for n in names if _is_flannel_file(facts, f"{dirs.conf_dir}/{n}", n)]
        subject = f"node/{name}"
        ev: dict[str, Any] = {"conf_dir": dirs.conf_dir, "conf_dir_source": dirs.source, "files": names}
        if not flannel:
            return finding(cid, Status.FAIL, subject,
                           f"Node {name} has no flannel CNI config in {dirs.conf_dir} (files: {', '.join(names) or 'none'}).",
                           "flannel's install-cni init container writes /etc/cni/net.d/10-flannel.conflist when its pod "
                           "starts: `kubectl -n kube-flannel rollout restart ds/kube-flannel-ds`. Make sure the flannel "
                           f"DaemonSet's hostPath for the CNI conf dir is {dirs.conf_dir}.", **ev)
        multus = [n for n in names if n.startswith("00-multus")]
        if not multus:
            return finding(cid, Status.WARN, subject,
                           f"Node {name} has {flannel[0]} in {dirs.conf_dir}, but no Multus config delegates to it.",
                           "Install Multus (see multus.installed and multus.conf-first).", **ev)
        return _judge_delegate(cid, subject, facts, f"{dirs.conf_dir}/{multus[0]}", f"{dirs.conf_dir}/{flannel[0]}", ev)

    return per_node(snap, cid, judge)


def _is_flannel_file(facts: NodeFacts, path: str, name: str) -> bool:
    text = facts.file(path)
    if text is None:
        return "flannel" in name
    try:
        return is_flannel(parse_json_object(text, path))
    except ConfigError:
        return False


def _judge_delegate(cid: str, subject: str, facts: NodeFacts, multus_path: str, flannel_path: str,
                    ev: dict[str, Any]) -> Finding:
    node = subject.split("/", 1)[1]
    text, ftext = facts.file(multus_path), facts.file(flannel_path)
    if text is None:
        reason = facts.unreadable.get(multus_path, f"{multus_path} was listed but not copied")
        return finding(cid, Status.ERROR, subject, f"Could not evaluate node {node}: {reason}.", unreadable_advice(reason),
                       **ev)
    try:
        conf = parse_multus_config(text, multus_path)
    except ConfigError as exc:
        return finding(cid, Status.ERROR, subject, f"Could not evaluate node {node}: {exc}.",
                       "See multus.conf-first for the broken Multus config.", **ev)
    if conf.mode == "thick":
        ok = bool(conf.cluster_network) and str(conf.cluster_network).endswith("/" + flannel_path.rsplit("/", 1)[1])
        if ok:
            return finding(cid, Status.PASS, subject, f"Node {node}: the Multus thick config uses {conf.cluster_network} as cluster network.", **ev)
        return finding(cid, Status.FAIL, subject,
                       f"Node {node}: the Multus thick config's clusterNetwork is {conf.cluster_network!r}, not {flannel_path}.",
                       "Restart Multus so it regenerates 00-multus.conf: `kubectl -n kube-system rollout restart ds/kube-multus-ds`.", **ev)
    delegate = conf.default_delegate
    if conf.nesting_depth:
        return finding(cid, Status.FAIL, subject,
                       f"Node {node}: Multus's cluster-default delegate is a nested Multus config, not flannel's "
                       f"{flannel_path} (see multus.nested-delegates).",
                       "Upgrade Multus thin to v4.1.0+ and delete the nested 00-multus file (see multus.nested-delegates).", **ev)
    if delegate is None or not is_flannel(delegate):
        got = (delegate or {}).get("name", "nothing")
        return finding(cid, Status.FAIL, subject,
                       f"Node {node}: Multus's cluster-default delegate is {got!r}, not flannel's config {flannel_path}.",
                       "Pin the master config with `--multus-master-cni-file-name=10-flannel.conflist` (Multus v4.1.0+) "
                       "and restart Multus: `kubectl -n kube-system rollout restart ds/kube-multus-ds`.", **ev)
    if ftext is not None and _canonical(delegate) != _canonical_text(ftext):
        return finding(cid, Status.WARN, subject,
                       f"Node {node}: Multus embeds an older copy of {flannel_path}; thin Multus re-reads it only when "
                       "its pod restarts or with --cleanup-config-on-exit=true.",
                       "Restart Multus: `kubectl -n kube-system rollout restart ds/kube-multus-ds`.", **ev)
    return finding(cid, Status.PASS, subject,
                   f"Node {node}: Multus delegates the cluster network to flannel's {flannel_path} ({delegate.get('name', '?')}).", **ev)


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _canonical_text(text: str) -> str:
    try:
        return _canonical(json.loads(text))
    except json.JSONDecodeError:
        return text


@check("flannel.network-contains-pod-cidrs", "every node's podCIDR lies inside flannel's Network", Severity.CRITICAL)
def flannel_network_contains_pod_cidrs(snap: Snapshot) -> list[Finding]:
    """In kube-subnet-mgr mode flanneld only checks that its own node's podCIDR lies inside
    `Network`; if not it exits with `subnet ... doesn't contain ... PodCIDR of the ... node`.
    Dual stack: with `EnableIPv6` the node's IPv6 podCIDR must lie inside `IPv6Network` (else
    `... doesn't contain ... IPv6 PodCIDR of the ... node`). Older releases (from v0.18.0, flannel
    PR #1572) checked that even without EnableIPv6, which is why k3s writes `"IPv6Network": "::/0"`;
    current ones skip it then, and pods get no IPv6 address."""
    cid = "flannel.network-contains-pod-cidrs"
    if err := need(snap, cid, "nodes", "configmaps"):
        return err
    net = flannel_network(snap)
    if ipv6_only(net):
        return [_judge_ipv6_only(cid, k8s.name(node), k8s.pod_cidrs(node), net) for node in snap.kind("Node")] or \
            [finding(cid, Status.ERROR, CLUSTER, "Could not evaluate: the snapshot has no Node objects.", "Collect nodes.")]
    if net.value is None:
        status = Status.FAIL if flannel_configmap(snap) is not None or net.source else Status.ERROR
        return [finding(cid, status, CLUSTER, f"flannel's Network cannot be read: {net.problem}.",
                        "Fix net-conf.json: `kubectl -n kube-flannel edit configmap kube-flannel-cfg` so it holds e.g. "
                        "{\"Network\": \"10.42.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}, then "
                        "`kubectl -n kube-flannel rollout restart ds/kube-flannel-ds`.", source=net.source)]
    out = [_judge_pod_cidrs(cid, k8s.name(node), k8s.pod_cidrs(node), net) for node in snap.kind("Node")]
    return out or [finding(cid, Status.ERROR, CLUSTER, "Could not evaluate: the snapshot has no Node objects.", "Collect nodes.")]


FIX_NETWORK = ("Set net-conf.json Network to a prefix that contains every podCIDR (the cluster CIDR), e.g. via "
               "`kubectl -n kube-flannel edit configmap kube-flannel-cfg`, then restart flannel.")
FIX_IPV6 = ("Set \"EnableIPv6\": true and \"IPv6Network\" to the IPv6 cluster CIDR in net-conf.json (`kubectl -n "
            "kube-flannel edit configmap kube-flannel-cfg`), then restart flannel; without IPv6 pod networking set "
            "\"IPv6Network\": \"::/0\" as k3s does.")


def _judge_pod_cidrs(cid: str, name: str, cidrs: list[str], net: Sourced) -> Finding:
    v6net, enabled = net.extra.get("ipv6_network"), bool(net.extra.get("enable_ipv6"))
    ev: dict[str, Any] = {"network": str(net.value), "network_source": net.source, "pod_cidrs": cidrs,
                          "ipv6_network": str(v6net) if v6net else None, "enable_ipv6": enabled}
    subject = f"node/{name}"
    if not cidrs:
        return finding(cid, Status.FAIL, subject, f"Node {name} has no podCIDR; flanneld fails with "
                       f"`node \"{name}\" pod cidr not assigned`.",
                       "Run kube-controller-manager with --allocate-node-cidrs=true and --cluster-cidr (k3s does "
                       "this itself), or set spec.podCIDR on the node.", **ev)
    nets = [n for n in (try_net(c) for c in cidrs) if n is not None]
    v4, v6 = [n for n in nets if n.version == 4], [n for n in nets if n.version == 6]
    if outside := [n for n in v4 if not contains(net.value, n)]:
        return finding(cid, Status.FAIL, subject,
                       f"Node {name}'s podCIDR {outside[0]} lies outside flannel Network {net.value}: flanneld exits with "
                       f"`subnet \"{net.value}\" specified in the flannel net config doesn't contain \"{outside[0]}\" "
                       f"PodCIDR of the \"{name}\" node`.", FIX_NETWORK, **ev)
    inside = f"Node {name}'s podCIDR {', '.join(map(str, v4))} lies inside flannel Network {net.value}"
    if not v6:
        return finding(cid, Status.PASS, subject, inside + ".", **ev)
    if v6net is None:
        return _ipv6_unconfigured(cid, subject, name, v6[0], enabled, ev)
    if outside6 := [n for n in v6 if not contains(v6net, n)]:
        said = (f"`subnet \"{v6net}\" specified in the flannel net config doesn't contain \"{outside6[0]}\" IPv6 "
                f"PodCIDR of the \"{name}\" node`")
        if enabled:
            return finding(cid, Status.FAIL, subject, f"Node {name}'s IPv6 podCIDR {outside6[0]} lies outside flannel "
                           f"IPv6Network {v6net}: flanneld exits with {said}.", FIX_IPV6, **ev)
        return finding(cid, Status.WARN, subject, f"Node {name}'s IPv6 podCIDR {outside6[0]} lies outside flannel "
                       f"IPv6Network {v6net}; EnableIPv6 is false, so current flannel ignores it, but older releases "
                       f"(from v0.18.0) exit with {said}.", FIX_IPV6, **ev)
    off = "" if enabled else " (EnableIPv6 is false: flannel gives pods no IPv6 address)"
    return finding(cid, Status.PASS, subject, f"{inside}, and its IPv6 podCIDR {', '.join(map(str, v6))} inside "
                   f"IPv6Network {v6net}{off}.", **ev)


def _judge_ipv6_only(cid: str, name: str, cidrs: list[str], net: Sourced) -> Finding:
    """IPv6-only flannel ("EnableIPv4": false) judges only the nodes' IPv6 podCIDRs, against IPv6Network."""
    v6net = net.extra["ipv6_network"]
    ev: dict[str, Any] = {"network": None, "network_source": net.source, "pod_cidrs": cidrs,
                          "ipv6_network": str(v6net), "enable_ipv4": False}
    v6 = [n for n in (try_net(c) for c in cidrs) if n is not None and n.version == 6]
    if not v6:
        return finding(cid, Status.FAIL, f"node/{name}", f"Node {name} has no IPv6 podCIDR, but flannel runs IPv6 only "
                       f"(EnableIPv4 false): flanneld cannot take a lease for it.", FIX_IPV6, **ev)
    if outside := [n for n in v6 if not contains(v6net, n)]:
        return finding(cid, Status.FAIL, f"node/{name}", f"Node {name}'s IPv6 podCIDR {outside[0]} lies outside flannel "
                       f"IPv6Network {v6net}: flanneld exits with `subnet \"{v6net}\" specified in the flannel net config "
                       f"doesn't contain \"{outside[0]}\" IPv6 PodCIDR of the \"{name}\" node`.", FIX_IPV6, **ev)
    return finding(cid, Status.PASS, f"node/{name}", f"Node {name}'s IPv6 podCIDR {', '.join(map(str, v6))} lies inside "
                   f"flannel IPv6Network {v6net} (flannel runs IPv6 only).", **ev)


def _ipv6_unconfigured(cid: str, subject: str, name: str, cidr: Net, enabled: bool, ev: dict[str, Any]) -> Finding:
    if enabled:
        return finding(cid, Status.FAIL, subject, f"Node {name} has the IPv6 podCIDR {cidr}, and net-conf.json sets "
                       "EnableIPv6 but no IPv6Network: flanneld exits with `... specified in the flannel net config "
                       f"doesn't contain \"{cidr}\" IPv6 PodCIDR of the \"{name}\" node`.", FIX_IPV6, **ev)
    return finding(cid, Status.WARN, subject, f"Node {name} has the IPv6 podCIDR {cidr}, but net-conf.json has no "
                   "IPv6Network: current flannel ignores it (pods get no IPv6 address), while older releases (from v0.18.0) exit "
                   f"with `subnet \"{cidr}\" specified in the PodCIDR, but doesn't exist in the flannel net config of "
                   f"the \"{name}\" node`.", FIX_IPV6, **ev)
