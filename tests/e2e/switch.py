"""A switch between simulated nodes, for the cross-node pod-to-pod multicast test.

The lab has one node namespace whose `lan0` is a veth to the router. To give each simulated
node its own "LAN NIC" the way real nodes have, this module turns the node namespace into
a small switched LAN for the length of one test:

    [router] rtr0 ── lan0 ┐
                          sw0 (Linux bridge, snooping off)
        n1lan ── sw1 ────┤   n2lan ── sw2 ────┤   ...   (veth pairs, node masters on the left)

The lab kubelet then attaches each node's sample pod with that node's master (`masters`),
as Multus on a real node would use that node's NIC. `isolate_multicast` drops multicast
frames between node ports only (an nft bridge rule), so the router's mDNS/SSDP still reach
every node while the nodes' pods cannot hear each other: a switch or access point that does
not forward multicast from client to client (`IPV6_MDNS_ONLY`: only frames to ff02::fb's MAC, an
MLD-snooping switch that learned no listener for it). Everything is removed on exit, lan0 included
back to its plain state (the lab's other tests use it as the macvlan master).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from multus_check.lab.config import MASTER, LabState

BRIDGE = "sw0"
NFT_TABLE = "multus_check_switch"
#: the nft match for frames to ff02::fb only (33:33:00:00:00:fb), for `isolate_multicast`
IPV6_MDNS_ONLY = "ether daddr 33:33:00:00:00:fb"


def _ip(ns: str, *args: str) -> None:
    subprocess.run(["ip", "-n", ns, *args], check=True, capture_output=True, timeout=10)


def isolate_multicast(lab: LabState, match: str = "ether daddr & 01:00:00:00:00:00 == 01:00:00:00:00:00") -> None:
    """Drop multicast frames between node ports; `match` narrows which (default: all multicast)."""
    rule = (f"table bridge {NFT_TABLE} {{\n  chain forward {{\n    type filter hook forward priority 0;\n"
            f'    iifname "sw*" oifname "sw*" {match} drop;\n  }}\n}}\n')
    subprocess.run(["ip", "netns", "exec", lab.node_ns, "nft", "-f", "-"], input=rule, text=True, check=True,
                   capture_output=True, timeout=10)


@contextmanager
def switched_nodes(lab: LabState, nodes: list[str]) -> Iterator[dict[str, str]]:
    """node name -> its master NIC, all on one bridge with the lab's uplink lan0."""
    masters = {node: f"n{i}lan" for i, node in enumerate(nodes, start=1)}
    ns = lab.node_ns
    try:
        _ip(ns, "link", "add", BRIDGE, "type", "bridge", "mcast_snooping", "0")
        _ip(ns, "link", "set", MASTER, "master", BRIDGE)
        for i, master in enumerate(masters.values(), start=1):
            _ip(ns, "link", "add", master, "type", "veth", "peer", "name", f"sw{i}")
            _ip(ns, "link", "set", f"sw{i}", "master", BRIDGE)
            _ip(ns, "link", "set", f"sw{i}", "up")
            _ip(ns, "link", "set", master, "up")
        _ip(ns, "link", "set", BRIDGE, "up")
        yield masters
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "nft", "delete", "table", "bridge", NFT_TABLE],
                       capture_output=True, timeout=10, check=False)
        for master in masters.values():
            subprocess.run(["ip", "-n", ns, "link", "del", master], capture_output=True, timeout=10, check=False)
        subprocess.run(["ip", "-n", ns, "link", "set", MASTER, "nomaster"], capture_output=True, timeout=10,
                       check=False)
        subprocess.run(["ip", "-n", ns, "link", "del", BRIDGE], capture_output=True, timeout=10, check=False)
