"""plugins.present and dhcp.daemon: the CNI binaries the NADs use and the DHCP daemon they
talk to, on every node that can host a Multus pod (multus-cni.md §4 F1-F6, §5)."""

from __future__ import annotations

from typing import Any

from multus_check.checks.base import CLUSTER, finding, need, per_node
from multus_check.checks.registry import check
from multus_check.domain import k8s
from multus_check.domain.cluster import nads
from multus_check.domain.cniconf import plugins_of
from multus_check.domain.confdir import nad_config, spec_is_empty
from multus_check.domain.nadrules import BASELINE_CNI_VERSIONS, KNOWN_CNI_VERSIONS, binaries, cni_version
from multus_check.domain.node import NotCollected, listing, search_dirs
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot.model import DirEntry, NodeFacts, Snapshot

DEFAULT_DHCP_SOCKET = "/run/cni/dhcp.sock"
PLUGINS_URL = "https://github.com/containernetworking/plugins/releases/download/v1.6.2/cni-plugins-linux-$ARCH-v1.6.2.tgz"


def _wanted(snap: Snapshot, facts: NodeFacts) -> dict[str, set[str]]:
    """Each plugin binary the NADs make Multus run on this node -> the cniVersions it is handed."""
    wanted: dict[str, set[str]] = {}
    for nad in nads(snap):
        config, _ = nad_config(snap, nad, facts)
        if not config:
            continue
        version = cni_version(config) or "0.1.0"  # what a plugin reads a missing cniVersion as
        for binary in binaries(config):
            wanted.setdefault(binary, set())
            if version in KNOWN_CNI_VERSIONS:
                wanted[binary].add(version)
    return wanted


def _found(facts: NodeFacts, search: list[str]) -> tuple[dict[str, tuple[str, DirEntry]], list[str]]:
    """The first entry of each name along the search path (libcni FindInPath), and the dirs listed."""
    found: dict[str, tuple[str, DirEntry]] = {}
    looked = []
    for d in search:
        try:
            entries = listing(facts, d)
        except NotCollected:
            continue
        looked.append(d)
        for e in entries or []:
            if e.type in ("file", "symlink"):
                found.setdefault(e.name, (d, e))
    if not looked:
        raise NotCollected(f"none of the CNI bin dirs {search} was listed")
    return found, looked


def _version_problems(wanted: dict[str, set[str]], found: dict[str, tuple[str, DirEntry]]) -> tuple[list[str], list[str]]:
    """(refused, unknown): cniVersions a found plugin says it does not accept, and ones nobody can tell."""
    refused, unknown = [], []
    for binary, versions in sorted(wanted.items()):
        if binary not in found:
            continue
        where, entry = found[binary]
        if entry.cni_versions is not None:
            for v in sorted(versions - set(entry.cni_versions)):
                refused.append(f"{where}/{binary} ({entry.version or 'version unknown'}) does not accept cniVersion {v} "
                               f"(`incompatible CNI versions; config is \"{v}\", plugin supports "
                               f"[{' '.join(entry.cni_versions)}]`)")
        elif versions - set(BASELINE_CNI_VERSIONS):
            newer = ", ".join(sorted(versions - set(BASELINE_CNI_VERSIONS)))
            unknown.append(f"cniVersion {newer} needs a newer {binary} than many nodes have, and which versions "
                           f"{where}/{binary} accepts was not collected")
    return refused, unknown


@check("plugins.present", "every plugin the NADs use is in the CNI bin dir Multus uses, and accepts the NAD's cniVersion",
       Severity.CRITICAL, fix="install-cni-plugins")
def plugins_present(snap: Snapshot) -> list[Finding]:
    """k3s bundles only bandwidth, bridge, firewall, flannel, host-local, loopback and portmap;
    macvlan and dhcp must be installed where Multus searches, or pods fail with
    `failed to find plugin "macvlan" in path [...]`. A plugin older than the NAD's cniVersion
    fails with `incompatible CNI versions` (the collector asks each plugin which it accepts)."""
    cid = "plugins.present"
    if err := need(snap, cid, "nodes", "network-attachment-definitions"):
        return err
    if not any(nad.config or spec_is_empty(nad) for nad in nads(snap)):
        return [finding(cid, Status.SKIP, CLUSTER, "No valid NetworkAttachmentDefinition names a plugin to look for.")]

    def judge(name: str, facts: NodeFacts, _node: dict[str, Any] | None) -> Finding:
        search = search_dirs(snap, facts)
        wanted = _wanted(snap, facts)
        found, looked = _found(facts, search)
        missing = [t for t in sorted(wanted) if t not in found]
        refused, unknown = _version_problems(wanted, found)
        ev: dict[str, Any] = {"search_path": search, "needed": sorted(wanted), "missing": missing,
                              "versions": {t: found[t][1].cni_versions for t in wanted if t in found}}
        if missing:
            return finding(cid, Status.FAIL, f"node/{name}",
                           f"Node {name} lacks {', '.join(missing)}: pods fail with "
                           f"`failed to find plugin \"{missing[0]}\" in path [{' '.join(search)}]`.",
                           f"On node {name} install the reference plugins into {search[0]}: "
                           f"`curl -sL {PLUGINS_URL} | sudo tar -xz -C {search[0]} {' '.join('./' + m for m in missing)}` "
                           "(Debian: `apt-get install containernetworking-plugins` and symlink the binaries from /usr/lib/cni).", **ev)
        if refused or unknown:
            status = Status.FAIL if refused else Status.WARN
            return finding(cid, status, f"node/{name}", f"Node {name}: " + "; ".join(refused + unknown) + ".",
                           f"Install plugins that accept it into {search[0]} (`curl -sL {PLUGINS_URL} | sudo tar -xz "
                           f"-C {search[0]}`), or set the NAD's cniVersion to one the node's plugins list.", **ev)
        if not wanted:
            return finding(cid, Status.SKIP, f"node/{name}", f"Node {name}: no NAD config applies here.", **ev)
        return finding(cid, Status.PASS, f"node/{name}", f"Node {name} has {', '.join(sorted(wanted))} in "
                       f"{' or '.join(looked)}.", **ev)

    return per_node(snap, cid, judge, only_pod_hosts=True)


def _dhcp_sockets(snap: Snapshot) -> list[str]:
    paths = []
    for nad in nads(snap):
        for plugin in plugins_of(nad.config or {}):
            raw = plugin.get("ipam")
            ipam = raw if isinstance(raw, dict) else {}
            if ipam.get("type") == "dhcp":
                paths.append(str(ipam.get("daemonSocketPath") or DEFAULT_DHCP_SOCKET))
    return sorted(set(paths))


def _dhcp_ds_hint(snap: Snapshot, node: dict[str, Any] | None) -> str:
    node_labels = k8s.labels(node) if node else {}
    for ds in snap.kind("DaemonSet"):
        if "dhcp" not in k8s.name(ds) and k8s.labels(ds).get("app") != "dhcp":
            continue
        selector = k8s.pod_spec(ds).get("nodeSelector") or {}
        for key, value in selector.items():
            if node_labels.get(key) not in (None, value):
                return (f" The DHCP DaemonSet {k8s.ref(ds)} selects {key}={value} but this node has "
                        f"{key}={node_labels.get(key)}: drop that nodeSelector.")
    return ""


@check("dhcp.daemon", "the CNI DHCP daemon runs on every node that can host a Multus pod", Severity.CRITICAL, fix="install-cni-plugins")
def dhcp_daemon(snap: Snapshot) -> list[Finding]:
    """The `dhcp` IPAM plugin only forwards to `dhcp daemon` over a unix socket
    (/run/cni/dhcp.sock); a missing socket gives `connect: no such file or directory`, a stale
    one left by a dead daemon `connect: connection refused`."""
    cid = "dhcp.daemon"
    if err := need(snap, cid, "nodes", "network-attachment-definitions"):
        return err
    sockets = _dhcp_sockets(snap)
    if not sockets:
        return [finding(cid, Status.SKIP, CLUSTER, "No NetworkAttachmentDefinition uses the dhcp IPAM.")]

    def judge(name: str, facts: NodeFacts, node: dict[str, Any] | None) -> Finding:
        subject = f"node/{name}"
        fix = ("Run `dhcp daemon` on every node: apply a DaemonSet with hostPath /run/cni and /run/netns "
               "(mountPropagation: HostToContainer) that removes a stale socket first, or on Debian hosts "
               "`systemctl enable --now cni-dhcp.socket`."
               + _dhcp_ds_hint(snap, node))
        for path in sockets:
            if not facts.has_listing(path.rsplit("/", 1)[0]):
                raise NotCollected(f"the listing of {path.rsplit('/', 1)[0]} was not collected")
            entry = facts.entry(path)
            ev: dict[str, Any] = {"socket": path, "entry": entry.to_dict() if entry else None}
            if entry is None:
                return finding(cid, Status.FAIL, subject, f"Node {name} has no DHCP daemon socket {path}: pods fail with "
                               f"`error dialing DHCP daemon: dial unix {path}: connect: no such file or directory`.", fix, **ev)
            if entry.type != "socket":
                return finding(cid, Status.FAIL, subject, f"Node {name}: {path} is a {entry.type}, not a socket.",
                               f"`rm -f {path}` on the node, then restart the DHCP daemon. " + fix, **ev)
            if entry.live is False:
                return finding(cid, Status.FAIL, subject, f"Node {name}: nothing listens on {path} (stale socket): pods "
                               f"fail with `dial unix {path}: connect: connection refused`.",
                               f"`rm -f {path}` on the node and restart the DHCP daemon (plugins < v1.2.0 leave the "
                               "socket behind on exit). " + fix, **ev)
            if entry.live is None:
                return finding(cid, Status.WARN, subject, f"Node {name}: {path} exists but whether a daemon listens was "
                               "not tested.", "Run multus-check with node facts (collector pods) to test the socket.", **ev)
        return finding(cid, Status.PASS, subject, f"Node {name}: a DHCP daemon answers on {', '.join(sockets)}.",
                       sockets=sockets)

    return per_node(snap, cid, judge, only_pod_hosts=True)

