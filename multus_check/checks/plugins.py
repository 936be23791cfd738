"""plugins.present: the CNI binaries the NADs use are where Multus looks, on every node that can host
a Multus pod, and accept the NAD's cniVersion (multus-cni.md §4 F1, F2, §5)."""

from __future__ import annotations

from typing import Any

from multus_check.checks.base import CLUSTER, finding, need, per_node
from multus_check.checks.spec import check
from multus_check.domain.cluster import nads
from multus_check.domain.confdir import nad_config, spec_is_empty
from multus_check.domain.nadrules import BASELINE_CNI_VERSIONS, KNOWN_CNI_VERSIONS, binaries, cni_version
from multus_check.domain.node import NotCollected, listing, search_dirs
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot.data import DirEntry, NodeFacts, Snapshot

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
    macvlan and dhcp (and every chained plugin, such as tuning) must be installed where Multus
    searches, or pods fail with
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
