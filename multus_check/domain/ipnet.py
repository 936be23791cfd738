"""IPv4/IPv6 prefix arithmetic for flannel Networks, pod CIDRs and Service CIDRs."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_net(text: str) -> Net:
    """Parse a CIDR the way Go's net.ParseCIDR does: host bits are dropped."""
    return ipaddress.ip_network(str(text).strip(), strict=False)


def try_net(text: object) -> Net | None:
    try:
        return parse_net(str(text))
    except ValueError:
        return None


def contains(outer: Net, inner: Net) -> bool:
    return outer.version == inner.version and inner.subnet_of(outer)  # type: ignore[arg-type]


def overlaps(a: Net, b: Net) -> bool:
    return a.version == b.version and a.overlaps(b)


def supernet(nets: Iterable[Net]) -> Net:
    """The smallest prefix containing every net (all of one IP version)."""
    items = list(nets)
    result = items[0]
    for net in items[1:]:
        while not contains(result, net):
            result = result.supernet()
    return result


def waste(super_net: Net, parts: Iterable[Net]) -> list[Net]:
    """The parts of super_net that none of `parts` cover (flannel-k3s.md §6 step 2)."""
    remaining: list[Net] = [super_net]
    for part in parts:
        nxt: list[Net] = []
        for r in remaining:
            if contains(part, r):
                continue
            if overlaps(r, part):
                nxt.extend(r.address_exclude(part))  # type: ignore[arg-type]
            else:
                nxt.append(r)
        remaining = nxt
    return sorted(remaining, key=lambda n: (n.version, n.network_address))


def addr_in(ip: str, net: Net) -> bool:
    try:
        return ipaddress.ip_address(ip.split("/")[0]) in net
    except ValueError:
        return False
