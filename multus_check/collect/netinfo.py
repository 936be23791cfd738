"""Interfaces, addresses and routes of the current network namespace, read with the standard library only.

Why it exists: three programs read them where no `ip -j` is at hand, and each used to carry its own
copy: the collector pod (the stock image's busybox `ip` prints no JSON, so ip-addr.json and
ip-route.json are filled from sysfs, ioctls and /proc/net/route), the sample pod's probe
(e2e/pod_probe.py: net1's address, the kernel's route choice for the Service IPs), and the scapy
probe (probes/probe_script.py and probe_ipv6.py: the probed interface's MAC and IPv4, its IPv6
addresses and routes over rtnetlink). This is the one reader. It is shipped into both pods beside
the code that uses it (collect/live/bundle.py follows the import; e2e/sample_manifest.py ships it
by name), so it imports the standard library only and nothing of multus_check.

What it touches: it only reads (sysfs, /proc, SIOCGIF* ioctls, rtnetlink dumps) in the network
namespace of the calling thread. IPv4 routes are the main table's (/proc/net/route); IPv6 routes
and addresses are rtnetlink's, one interface at a time.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import socket
import struct
from collections.abc import Sequence
from typing import Any

Json = dict[str, Any]
SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFHWADDR = 0x8915, 0x891B, 0x8927
RTF_UP, RTF_GATEWAY = 0x1, 0x2
_FLAGS = ((0x1, "UP"), (0x2, "BROADCAST"), (0x8, "LOOPBACK"), (0x10, "POINTOPOINT"), (0x80, "NOARP"),
          (0x100, "PROMISC"), (0x1000, "MULTICAST"))


def read_text(path: str) -> str | None:
    """A sysfs/proc file's text, stripped; None when it cannot be read."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


def _read(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


# ---------------------------------------------------------------- one interface (ioctls, sysfs)


def _ioctl(name: str, request: int) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        return fcntl.ioctl(s.fileno(), request, struct.pack("256s", name.encode()[:15]))


def ipv4_of(name: str) -> str | None:
    """The interface's IPv4 address (SIOCGIFADDR); None when it has none or does not exist."""
    try:
        return require_ipv4(name)
    except OSError:
        return None


def require_ipv4(name: str) -> str:
    """The interface's IPv4 address; OSError naming the interface when it has none."""
    try:
        raw = _ioctl(name, SIOCGIFADDR)
    except OSError as exc:
        raise OSError(f"interface {name} has no IPv4 address ({exc.strerror})") from exc
    return socket.inet_ntoa(raw[20:24])


def prefixlen_of(name: str) -> int | None:
    """The prefix length of the interface's IPv4 address (SIOCGIFNETMASK); None when it has none."""
    try:
        raw = _ioctl(name, SIOCGIFNETMASK)
    except OSError:
        return None
    return bin(struct.unpack("!I", raw[20:24])[0]).count("1")


def mac_of(name: str) -> str:
    """The interface's MAC; /sys shows the namespace it was mounted in, so ask the kernel when it lacks it."""
    return read_text(f"/sys/class/net/{name}/address") or _ioctl_mac(name)


def _ioctl_mac(name: str) -> str:
    raw = _ioctl(name, SIOCGIFHWADDR)
    return ":".join(f"{b:02x}" for b in raw[18:24])


def interface(name: str) -> Json:
    """What this namespace sees of one interface; `present` False when it does not exist."""
    base = f"/sys/class/net/{name}"
    if not os.path.isdir(base):
        return {"name": name, "present": False}
    return {"name": name, "present": True, "mac": read_text(f"{base}/address"),
            "operstate": read_text(f"{base}/operstate"), "ipv4": ipv4_of(name), "prefixlen": prefixlen_of(name)}


def all_interfaces() -> dict[str, str | None]:
    """Interface name -> IPv4 address, for every interface of this namespace."""
    return {name: ipv4_of(name) for _, name in socket.if_nameindex()}


# ---------------------------------------------------------------- every link, in `ip -j addr` shape


def ip_addr(sys_class_net: str = "/sys/class/net") -> list[Json]:
    """Links with flags, MTU, operstate, MAC and IPv4 address, as `ip -j addr show` prints them (no IPv6)."""
    links = []
    for name in sorted(os.listdir(sys_class_net)):
        base = os.path.join(sys_class_net, name)
        try:
            flags = int(_read(os.path.join(base, "flags")), 16)
            link: Json = {
                "ifindex": int(_read(os.path.join(base, "ifindex"))), "ifname": name,
                "flags": [n for bit, n in _FLAGS if flags & bit], "mtu": int(_read(os.path.join(base, "mtu"))),
                "operstate": _read(os.path.join(base, "operstate")).upper(), "address": _read(os.path.join(base, "address")),
            }
        except (OSError, ValueError):
            continue  # vanished, or not a network link
        if read_text(os.path.join(base, "carrier")) == "1":  # unreadable while the link is down
            link["flags"].append("LOWER_UP")
        address, prefix = ipv4_of(name), prefixlen_of(name)
        link["addr_info"] = [] if address is None or prefix is None else [
            {"family": "inet", "local": address, "prefixlen": prefix, "label": name}]
        links.append(link)
    return sorted(links, key=lambda link: int(link["ifindex"]))


# ---------------------------------------------------------------- IPv4 routes (/proc/net/route; parsing is pure)


def _hex_ip(text: str) -> int:
    """/proc/net/route stores addresses as little-endian hex; returns the host-order integer."""
    return int(struct.unpack("!I", struct.pack("<I", int(text, 16)))[0])


def parse_proc_route(text: str) -> list[Json]:
    """The IPv4 routes of /proc/net/route in file order (the kernel's order within a prefix)."""
    routes: list[Json] = []
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 8:
            continue
        dst, gw, mask = _hex_ip(f[1]), _hex_ip(f[2]), _hex_ip(f[7])
        routes.append({"dev": f[0], "dst": socket.inet_ntoa(struct.pack("!I", dst)),
                       "prefixlen": bin(mask).count("1"), "gateway": socket.inet_ntoa(struct.pack("!I", gw)),
                       "flags": int(f[3], 16), "metric": int(f[6]), "_dst": dst, "_mask": mask})
    return routes


def ip_route(proc_route: str = "/proc/net/route") -> list[Json]:
    """The main table's IPv4 routes that are up, as `ip -j route show` prints them."""
    out = []
    for r in parse_proc_route(_read_file(proc_route)):
        if not r["flags"] & RTF_UP:
            continue
        route: Json = {"dst": "default" if r["prefixlen"] == 0 else f"{r['dst']}/{r['prefixlen']}", "dev": r["dev"],
                       "flags": []}
        if r["flags"] & RTF_GATEWAY:
            route["gateway"] = r["gateway"]
        if r["metric"]:
            route["metric"] = r["metric"]
        out.append(route)
    return out


def _read_file(path: str) -> str:
    with open(path) as f:
        return f.read()


def lookup(routes: Sequence[Json], ip: str) -> Json | None:
    """The route the kernel picks for `ip` in the main table: longest prefix, then lowest
    metric, then the first in file order (flannel-k3s.md §3.4)."""
    addr = struct.unpack("!I", socket.inet_aton(ip))[0]
    best: Json | None = None
    for r in routes:
        if not r["flags"] & RTF_UP or addr & r["_mask"] != r["_dst"]:
            continue
        if best is None or (r["prefixlen"], -r["metric"]) > (best["prefixlen"], -best["metric"]):
            best = r
    return None if best is None else {k: v for k, v in best.items() if not k.startswith("_")}


def kernel_choice(ip: str, addresses: dict[str, str | None]) -> Json:
    """The kernel's own decision: connect a UDP socket (sends nothing) and see the source it picked."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((ip, 53))
            source = str(s.getsockname()[0])
    except OSError as exc:
        return {"dev": None, "source": None, "error": f"no route to {ip}: {exc.strerror or exc}"}
    devs = [name for name, addr in addresses.items() if addr == source]
    return {"dev": devs[0] if devs else None, "source": source, "error": None}


# ---------------------------------------------------------------- IPv6 addresses and routes (rtnetlink)

NLM_F_DUMP_REQUEST = 0x301  # NLM_F_REQUEST | NLM_F_DUMP
RTM_GETADDR, RTM_GETROUTE = 22, 26
IFA_ADDRESS, IFA_CACHEINFO, IFA_FLAGS, IFA_PROTO = 1, 6, 8, 11
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_CACHEINFO, RTA_TABLE, RTA_PREF = 1, 4, 5, 6, 12, 15, 20
IFA_F = {0x01: "temporary", 0x02: "nodad", 0x08: "dadfailed", 0x20: "deprecated", 0x40: "tentative",
         0x80: "permanent", 0x100: "mngtmpaddr"}
FOREVER = 0xFFFFFFFF
PREFERENCE = {0: "medium", 1: "high", 2: "reserved", 3: "low"}
PROTOCOLS = {2: "kernel", 3: "boot", 4: "static", 9: "ra", 16: "dhcp"}
ADDRESS_ORIGINS = {1: "loopback", 2: "slaac", 3: "link-local"}  # IFA_PROTO of recent kernels (6.18 here)


def netlink_dump(msg_type: int, body: bytes) -> list[bytes]:
    """The payloads of an rtnetlink dump (RTM_GET*), in this thread's network namespace."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as s:  # NETLINK_ROUTE
        s.settimeout(2.0)
        s.bind((0, 0))
        s.send(struct.pack("=IHHII", 16 + len(body), msg_type, NLM_F_DUMP_REQUEST, 1, 0) + body)
        payloads: list[bytes] = []
        while True:
            data = s.recv(1 << 16)
            offset = 0
            while offset + 16 <= len(data):
                length, kind = struct.unpack_from("=IH", data, offset)
                if kind == 3:  # NLMSG_DONE
                    return payloads
                if kind == 2:  # NLMSG_ERROR
                    (err,) = struct.unpack_from("=i", data, offset + 16)
                    raise OSError(-err, f"rtnetlink dump failed: {os.strerror(-err)}")
                payloads.append(data[offset + 16:offset + length])
                offset += (length + 3) & ~3
            if not data:
                return payloads


def attributes(payload: bytes, offset: int) -> dict[int, bytes]:
    """The rtattrs of a netlink payload after its fixed header."""
    out: dict[int, bytes] = {}
    while offset + 4 <= len(payload):
        length, kind = struct.unpack_from("=HH", payload, offset)
        if length < 4:
            break
        out[kind & 0x3FFF] = payload[offset + 4:offset + length]
        offset += (length + 3) & ~3
    return out


def _u32(data: bytes | None) -> int | None:
    return struct.unpack("=I", data[:4])[0] if data and len(data) >= 4 else None


def parse_address(payload: bytes, ifindex: int) -> Json | None:
    """One RTM_NEWADDR payload as plain data; None for other families or interfaces."""
    family, prefixlen, flags, _scope, index = struct.unpack_from("=BBBBI", payload)
    if family != socket.AF_INET6 or index != ifindex:
        return None
    attrs = attributes(payload, 8)
    if IFA_ADDRESS not in attrs:
        return None
    address = ipaddress.IPv6Address(attrs[IFA_ADDRESS][:16])
    bits = _u32(attrs.get(IFA_FLAGS)) or flags
    proto = attrs[IFA_PROTO][0] if attrs.get(IFA_PROTO) else None
    origin = ADDRESS_ORIGINS.get(proto or 0) or ("link-local" if address.is_link_local else
                                                  "static" if bits & 0x80 else "dynamic")
    preferred = valid = None
    if len(attrs.get(IFA_CACHEINFO, b"")) >= 8:
        preferred, valid = struct.unpack_from("=II", attrs[IFA_CACHEINFO])
    return {"address": str(address), "prefixlen": prefixlen, "scope": "link" if address.is_link_local else "global",
            "origin": origin, "flags": [name for bit, name in IFA_F.items() if bits & bit],
            "tentative": bool(bits & 0x40), "dadfailed": bool(bits & 0x08),
            "valid_lft": None if valid in (None, FOREVER) else valid,
            "preferred_lft": None if preferred in (None, FOREVER) else preferred}


def parse_route(payload: bytes, ifindex: int) -> Json | None:
    """One RTM_NEWROUTE payload of the main table through `ifindex`, in `ip -6 -j route` terms."""
    family, dst_len, _src, _tos, table, proto, _scope, rtype, _flags = struct.unpack_from("=BBBBBBBBI", payload)
    attrs = attributes(payload, 12)
    table = _u32(attrs.get(RTA_TABLE)) or table
    if family != socket.AF_INET6 or table != 254 or rtype != 1 or _u32(attrs.get(RTA_OIF)) != ifindex:
        return None
    dst = f"{ipaddress.IPv6Address(attrs[RTA_DST][:16])}/{dst_len}" if dst_len and RTA_DST in attrs else "default"
    gateway = str(ipaddress.IPv6Address(attrs[RTA_GATEWAY][:16])) if RTA_GATEWAY in attrs else None
    expires = None
    if len(attrs.get(RTA_CACHEINFO, b"")) >= 12:
        ticks = struct.unpack_from("=i", attrs[RTA_CACHEINFO], 8)[0]
        expires = ticks // 100 if ticks > 0 else None  # clock_t in USER_HZ (100 on Linux)
    return {"dst": dst, "gateway": gateway, "protocol": PROTOCOLS.get(proto, str(proto)),
            "metric": _u32(attrs.get(RTA_PRIORITY)), "pref": PREFERENCE.get(attrs[RTA_PREF][0]) if attrs.get(RTA_PREF) else None,
            "expires": expires}


def ipv6_addresses(ifindex: int) -> list[Json]:
    found = [parse_address(p, ifindex) for p in netlink_dump(RTM_GETADDR, struct.pack("=BBBBI", socket.AF_INET6, 0, 0, 0, 0))]
    return [a for a in found if a is not None]


def ipv6_routes(ifindex: int) -> list[Json]:
    found = [parse_route(p, ifindex) for p in netlink_dump(RTM_GETROUTE, struct.pack("=BBBBBBBBI", socket.AF_INET6,
                                                                                        0, 0, 0, 0, 0, 0, 0, 0))]
    return [r for r in found if r is not None]
