"""dhcp.daemon: the CNI DHCP daemon the dhcp IPAM talks to runs on every node that can host a Multus
pod, with a live socket (multus-cni.md §4 F3-F6, §5)."""

from __future__ import annotations

from typing import Any

from multus_check.checks.base import CLUSTER, finding, need, per_node
from multus_check.checks.spec import check
from multus_check.domain import k8s
from multus_check.domain.cluster import nads
from multus_check.domain.cniconf import plugins_of
from multus_check.domain.node import NotCollected
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot.data import NodeFacts, Snapshot

DEFAULT_DHCP_SOCKET = "/run/cni/dhcp.sock"


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

