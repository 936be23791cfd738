"""Links, IPv4 addresses and IPv4 routes without iproute2, in the shape of `ip -j`.

The stock collector image has busybox `ip`, which cannot print JSON. When `ip -j` fails, the
collector pod (hostNetwork, so it sees the host's network namespace) fills `ip_addr` and
`ip_route` from sysfs, the SIOCGIFADDR/SIOCGIFNETMASK ioctls and /proc/net/route. Standard
library only; reads, never writes. IPv6 addresses and non-main routing tables are not covered.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import socket
import struct
from typing import Any

SIOCGIFADDR, SIOCGIFNETMASK = 0x8915, 0x891B
_FLAGS = ((0x1, "UP"), (0x2, "BROADCAST"), (0x8, "LOOPBACK"), (0x10, "POINTOPOINT"), (0x80, "NOARP"),
          (0x100, "PROMISC"), (0x1000, "MULTICAST"))


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def _ipv4(sock: socket.socket, name: str) -> dict[str, Any] | None:
    req = struct.pack("256s", name.encode()[:15])
    try:
        addr = socket.inet_ntoa(fcntl.ioctl(sock.fileno(), SIOCGIFADDR, req)[20:24])
        mask = socket.inet_ntoa(fcntl.ioctl(sock.fileno(), SIOCGIFNETMASK, req)[20:24])
    except OSError:
        return None  # no IPv4 address on this link
    prefix = ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
    return {"family": "inet", "local": addr, "prefixlen": prefix, "label": name}


def ip_addr(sys_class_net: str = "/sys/class/net") -> list[dict[str, Any]]:
    links = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for name in sorted(os.listdir(sys_class_net)):
            base = os.path.join(sys_class_net, name)
            try:
                flags = int(_read(os.path.join(base, "flags")), 16)
                link: dict[str, Any] = {
                    "ifindex": int(_read(os.path.join(base, "ifindex"))), "ifname": name,
                    "flags": [n for bit, n in _FLAGS if flags & bit], "mtu": int(_read(os.path.join(base, "mtu"))),
                    "operstate": _read(os.path.join(base, "operstate")).upper(), "address": _read(os.path.join(base, "address")),
                }
            except (OSError, ValueError):
                continue  # vanished, or not a network link
            try:
                if _read(os.path.join(base, "carrier")) == "1":
                    link["flags"].append("LOWER_UP")
            except OSError:
                pass  # carrier is unreadable while the link is down
            v4 = _ipv4(sock, name)
            link["addr_info"] = [v4] if v4 else []
            links.append(link)
    return sorted(links, key=lambda link: int(link["ifindex"]))


def ip_route(proc_route: str = "/proc/net/route") -> list[dict[str, Any]]:
    def addr(hex_le: str) -> str:
        return socket.inet_ntoa(struct.pack("<I", int(hex_le, 16)))

    routes = []
    with open(proc_route) as f:
        next(f, None)
        for line in f:
            fields = line.split()
            if len(fields) < 8:
                continue
            dev, dst, gateway, flags, metric, mask = fields[0], addr(fields[1]), addr(fields[2]), int(fields[3], 16), \
                int(fields[6]), addr(fields[7])
            if not flags & 0x1:  # RTF_UP
                continue
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
            route: dict[str, Any] = {"dst": "default" if prefix == 0 else f"{dst}/{prefix}", "dev": dev, "flags": []}
            if flags & 0x2:  # RTF_GATEWAY
                route["gateway"] = gateway
            if metric:
                route["metric"] = metric
            routes.append(route)
    return routes
