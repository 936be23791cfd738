"""Which addresses of the LAN a network would swallow: node LAN subnets, node InternalIPs, pods' LAN addresses.

Why it exists: flannel's Network must not reach into the LAN (cidr.supernet-safety), and a fix that
widens it (flannel-service-routes) must check the same thing before it proposes a wider Network
(flannel-k3s.md §6). Pure: reads a Snapshot.
"""

from __future__ import annotations

from multus_check.domain import k8s
from multus_check.domain.cluster import multus_pods
from multus_check.domain.ipnet import Net, contains, overlaps, try_net
from multus_check.domain.node import NotCollected, lan_subnets
from multus_check.snapshot.data import Snapshot


def lan_overlaps(snap: Snapshot, network: Net) -> tuple[list[str], str]:
    """(what of the LAN `network` contains, what that was judged on: LAN subnets or only InternalIPs)."""
    hits: list[str] = []
    basis = "node LAN subnets"
    for name, facts in sorted(snap.nodes.items()):
        try:
            hits += [f"node {name}: {s}" for s in lan_subnets(facts) if overlaps(network, s)]
        except NotCollected:
            basis = "node InternalIPs (interface masks not collected)"
    for node in snap.kind("Node"):
        ip = k8s.node_internal_ip(node)
        ip_net = try_net(f"{ip}/32") if ip else None
        if ip_net is not None and contains(network, ip_net):
            hits.append(f"node {k8s.name(node)}: InternalIP {ip}")
    for pod in multus_pods(snap):
        for entry in k8s.network_status(pod) or []:
            for ip in [] if entry.get("default") else entry.get("ips") or []:
                ip_net = try_net(f"{ip}/32")
                if ip_net is not None and contains(network, ip_net):
                    hits.append(f"pod {k8s.ref(pod)} {entry.get('interface')}: {ip}")
    return sorted(set(hits)), basis
