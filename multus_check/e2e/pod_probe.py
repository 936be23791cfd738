#!/usr/bin/env python3
"""The sample pod's command: evidence from inside the pod, printed as one JSON object.

Why it exists: the end-to-end checks must not trust the `network-status` annotation alone
(a failed ADD can leave a stale one), nor infer routing from configs. This script runs as
the pod's own command (no exec, no kubectl) and reports what the pod itself sees:

- its interfaces (net1 and eth0: MAC, IPv4, operstate) from /sys and ioctls (netinfo.py, the
  project's one interface/route reader, shipped beside this file);
- the kernel's route decision for each given IP (cluster DNS, `kubernetes` Service): a UDP
  socket is connected to the IP (no packet is sent) and the source address the kernel picked
  names the egress interface; the matching /proc/net/route line corroborates it;
- whether a cluster name resolves through the pod's resolv.conf (bounded in time);
- the mDNS and SSDP probes of `probe_script.py` (shipped beside this file) on net1, and its IPv6
  half (`probe_ipv6.py`: net1's IPv6 sysctls, addresses and routes, a Router Solicitation, mDNS on
  ff02::fb for Matter, a Matter round trip), plus eth0's IPv6 routes;
- with `--peer-index`/`--peers` (one sample pod per node): pod-to-pod multicast, on IPv4 and
  IPv6 side by side. Each pod joins 224.0.0.251 and ff02::fb on net1 with plain UDP sockets
  (as Home Assistant or avahi would) and sends an mDNS query every half second naming itself and the peers it has heard; it stops
  once it heard every peer and every peer said it heard it (plus a short linger), or at
  the window's end. Its wall-clock window is reported so a pair whose windows never
  overlapped is "not measured", never "missed".

It imports only the standard library at start, so interface, route and DNS evidence is
reported even when scapy is missing from the image. Exit status: 0 every part answered,
3 something got no answer or failed, 4 net1 is missing or unusable.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

try:
    from multus_check.collect import netinfo
except ImportError:  # in the sample pod: netinfo.py sits beside this file (e2e/sample_manifest.py ships it)
    import netinfo  # type: ignore[no-redef,import-not-found,unused-ignore]

Json = dict[str, Any]


def route_report(ips: Sequence[str]) -> Json:
    table = netinfo.parse_proc_route(netinfo.read_text("/proc/net/route") or "")
    addresses = netinfo.all_interfaces()
    out: Json = {}
    for ip in ips:
        choice = netinfo.kernel_choice(ip, addresses)
        choice["route"] = netinfo.lookup(table, ip)
        if choice["dev"] is None and choice["route"]:
            choice["dev"] = choice["route"]["dev"]
        out[ip] = choice
    return out


# ---------------------------------------------------------------- DNS


class Resolution(threading.Thread):
    """getaddrinfo through the pod's resolv.conf, in a thread so the script can bound its wait."""

    def __init__(self, name: str) -> None:
        super().__init__(daemon=True)
        self.name_to_resolve = name
        self.result: Json = {"name": name, "addresses": [], "error": None, "seconds": None}
        self.t0 = time.monotonic()

    def run(self) -> None:
        try:
            infos = socket.getaddrinfo(self.name_to_resolve, 443, socket.AF_INET, socket.SOCK_STREAM)
            self.result["addresses"] = sorted({str(i[4][0]) for i in infos})
        except OSError as exc:
            self.result["error"] = f"{type(exc).__name__}: {exc}"
        self.result["seconds"] = round(time.monotonic() - self.t0, 3)

    def outcome(self, deadline: float) -> Json:
        self.join(max(0.0, deadline - time.monotonic()))
        if self.is_alive():
            waited = round(time.monotonic() - self.t0, 1)
            return {**self.result, "error": f"no answer within {waited} s", "seconds": waited}
        return self.result


def resolv_conf() -> Json:
    text = netinfo.read_text("/etc/resolv.conf") or ""
    words = [ln.split() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return {"nameservers": [w[1] for w in words if w[0] == "nameserver" and len(w) > 1],
            "search": next((w[1:] for w in words if w[0] == "search"), [])}


# ---------------------------------------------------------------- pod-to-pod multicast (stdlib only)

MDNS_GROUP, MDNS_PORT = "224.0.0.251", 5353
PEER_SERVICE = "_multus-check._udp.local"
BEACON_INTERVAL = 0.5
LINGER_BEACONS = 3


def beacon_name(group: str, index: int, heard: Sequence[int]) -> str:
    """`h<hex mask of heard indices>.mc-<group>-<index>._multus-check._udp.local`."""
    mask = sum(1 << i for i in heard)
    return f"h{mask:x}.mc-{group}-{index}.{PEER_SERVICE}"


def encode_query(name: str) -> bytes:
    """A plain mDNS query (id 0, one PTR question, QU bit clear), as any responder sends it."""
    qname = b"".join(bytes([len(label)]) + label.encode("ascii") for label in name.split(".")) + b"\0"
    return struct.pack("!6H", 0, 0, 1, 0, 0, 0) + qname + struct.pack("!2H", 12, 1)


def parse_beacon(data: bytes, group: str) -> tuple[int, list[int]] | None:
    """(sender index, indices it heard) of a peer beacon of this group; None for other packets."""
    if len(data) < 13 or struct.unpack("!H", data[2:4])[0] & 0x8000:  # answers are not beacons
        return None
    labels: list[str] = []
    pos = 12
    while pos < len(data) and data[pos] != 0 and len(labels) < 8:
        n = data[pos]
        if n & 0xC0:
            return None
        labels.append(data[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    name = ".".join(labels)
    prefix = f"mc-{group}-"
    if len(labels) < 2 or not name.endswith(PEER_SERVICE) or not labels[1].startswith(prefix):
        return None
    try:
        index, mask = int(labels[1][len(prefix):]), int(labels[0][1:], 16)
    except ValueError:
        return None
    return index, [i for i in range(mask.bit_length()) if mask >> i & 1]


class Peers(threading.Thread):
    """Beacon and listen on net1 until every peer heard us and we heard every peer, or the window ends."""

    def __init__(self, iface_ip: str, group: str, index: int, peers: Sequence[int], window: float) -> None:
        super().__init__(daemon=True)
        self.iface_ip, self.group, self.index, self.window = iface_ip, group, index, window
        self.destination: tuple[Any, ...] = (MDNS_GROUP, MDNS_PORT)
        self.peers = sorted(set(peers) - {index})
        self.heard: dict[int, Json] = {}
        self.acked: set[int] = set()
        self.result: Json = {"index": index, "group": group, "peers": self.peers, "sent": 0, "error": None}

    def run(self) -> None:
        self.result["started"] = time.time()
        try:
            self._loop()
        except OSError as exc:
            self.result["error"] = f"{type(exc).__name__}: {exc}"
        self.result["ended"] = time.time()
        self.result["heard"] = {str(i): v for i, v in sorted(self.heard.items())}
        self.result["acked_by"] = sorted(self.acked)

    def _socket(self) -> socket.socket:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("", MDNS_PORT))
        mreq = socket.inet_aton(MDNS_GROUP) + socket.inet_aton(self.iface_ip)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(self.iface_ip))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        return s

    def _loop(self) -> None:
        t0, linger = time.monotonic(), LINGER_BEACONS
        with self._socket() as s:
            while time.monotonic() - t0 < self.window:
                self._send(s)
                self._listen(s, time.monotonic() + BEACON_INTERVAL, t0)
                if set(self.peers) <= set(self.heard) and set(self.peers) <= self.acked:
                    linger -= 1
                    if linger < 0:
                        return

    def _send(self, s: socket.socket) -> None:
        s.sendto(encode_query(beacon_name(self.group, self.index, sorted(self.heard))), self.destination)
        self.result["sent"] += 1

    def _listen(self, s: socket.socket, until: float, t0: float) -> None:
        while (left := until - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                data, address = s.recvfrom(9000)
            except TimeoutError:
                return
            beacon = parse_beacon(data, self.group)
            if beacon is None or beacon[0] == self.index or beacon[0] not in self.peers:
                continue
            sender, heard = beacon
            self.heard.setdefault(sender, {"from": str(address[0]), "first_ms": round((time.monotonic() - t0) * 1000)})
            if self.index in heard:
                self.acked.add(sender)


MDNS6_GROUP = "ff02::fb"


class Peers6(Peers):
    """The same beacons on ff02::fb (IPv6 link-local multicast, what Matter's mDNS uses), from net1's link-local.
    A send that fails while the link-local is still tentative (DAD) is counted and retried with the next beacon."""

    def __init__(self, ifindex: int, group: str, index: int, peers: Sequence[int], window: float) -> None:
        super().__init__("", group, index, peers, window)
        self.ifindex = ifindex
        self.destination = (MDNS6_GROUP, MDNS_PORT, 0, ifindex)
        self.result["send_errors"] = 0

    def _socket(self) -> socket.socket:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", MDNS_PORT))
        mreq = socket.inet_pton(socket.AF_INET6, MDNS6_GROUP) + struct.pack("@I", self.ifindex)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, self.ifindex)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        return s

    def _send(self, s: socket.socket) -> None:
        try:
            super()._send(s)
        except OSError:
            self.result["send_errors"] += 1


def start_peers(iface: str, net1: Json, peer: tuple[str, int, list[int], float]) -> tuple[Peers | None, Peers | None]:
    """The IPv4 (224.0.0.251) and IPv6 (ff02::fb) beacons, each when net1 has that family."""
    v4 = Peers(str(net1["ipv4"]), *peer) if net1.get("present") and net1.get("ipv4") else None
    try:
        v6: Peers | None = Peers6(socket.if_nametoindex(iface), *peer) if net1.get("present") else None
    except OSError:
        v6 = None
    for p in (v4, v6):
        if p is not None:
            p.start()
    return v4, v6


# ---------------------------------------------------------------- main


#: what the pod probe asks probe_script for (bench/bench_pod_ipv6.py measures it without "ipv6")
PROBES = ("mdns", "ssdp", "ipv6")


def multicast(iface: str, timeout: float, kinds: Sequence[str] = PROBES) -> Json:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import probe_script  # type: ignore[import-not-found,unused-ignore]  # shipped beside this file
    except Exception as exc:  # scapy or libpcap missing in the image: report it, do not crash
        return {"error": f"the probe could not start (scapy import failed: {type(exc).__name__}: {exc})"}
    result: Json = probe_script.run_probes(iface, tuple(kinds), 1, timeout)
    return result


def eth0_ipv6_routes() -> list[Json]:
    """eth0's IPv6 routes: whether net1's RA default route competes with an IPv6 default of the cluster network."""
    try:
        return list(netinfo.ipv6_routes(socket.if_nametoindex("eth0")))
    except OSError:
        return []


def collect(iface: str, ips: Sequence[str], name: str, timeout: float, dns_timeout: float,
            peer: tuple[str, int, list[int], float] | None = None, kinds: Sequence[str] = PROBES) -> Json:
    """`peer`: (group, own index, peer indices, window seconds) for the pod-to-pod phase."""
    t0 = time.monotonic()
    resolution = Resolution(name) if name else None
    if resolution is not None:
        resolution.start()
    net1 = netinfo.interface(iface)
    peers, peers6 = start_peers(iface, net1, peer) if peer is not None else (None, None)
    out: Json = {"probe": "multus-check-e2e", "version": 1, "node": os.environ.get("MULTUS_CHECK_NODE"),
                 "interfaces": {iface: net1, "eth0": netinfo.interface("eth0")}, "routes": route_report(ips),
                 "resolv_conf": resolv_conf(), "eth0_ipv6_routes": eth0_ipv6_routes()}
    if net1.get("present") and net1.get("ipv4"):
        out["multicast"] = multicast(iface, timeout, kinds)
    else:
        out["multicast"] = {"error": f"{iface} is missing or has no IPv4 address; nothing was sent"}
    if resolution is not None:
        out["dns"] = resolution.outcome(t0 + max(dns_timeout, 0.1))
    for key, beacons, family in (("peers", peers, "IPv4"), ("peers6", peers6, "IPv6")):
        if beacons is not None:
            beacons.join(beacons.window + 2)
            out[key] = beacons.result
        elif peer is not None:
            out[key] = {"index": peer[1], "group": peer[0], "error": f"{iface} is missing or has no {family} address"}
    out["seconds"] = round(time.monotonic() - t0, 3)
    return out


def exit_code(out: Json) -> int:
    net1 = next(iter(out["interfaces"].values()))
    if not net1.get("present") or not net1.get("ipv4"):
        return 4
    mc = out.get("multicast") or {}
    answered = all((mc.get(k) or {}).get("outcome") == "answered" for k in ("mdns", "ssdp"))
    dns_ok = not (out.get("dns") or {}).get("error")
    return 0 if answered and dns_ok and not mc.get("error") else 3


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="multus-check sample-pod probe; prints one JSON object")
    ap.add_argument("--iface", default="net1")
    ap.add_argument("--route-to", action="append", default=[], metavar="IP",
                    help="report the kernel's route decision for this IP (repeatable)")
    ap.add_argument("--resolve", default="kubernetes.default.svc", help="name to resolve ('' to skip)")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for a first mDNS/SSDP answer")
    ap.add_argument("--dns-timeout", type=float, default=4.0, help="seconds to wait for the name to resolve")
    ap.add_argument("--peer-group", default="", help="token shared by the sample pods of one NAD")
    ap.add_argument("--peer-index", type=int, default=-1, help="this pod's index among the sample pods")
    ap.add_argument("--peers", default="", help="comma-separated indices of the peer pods on other nodes")
    ap.add_argument("--peer-window", type=float, default=30.0, help="seconds to beacon and listen at most")
    a = ap.parse_args(argv)
    peer = None
    if a.peer_group and a.peer_index >= 0 and a.peers:
        peer = (a.peer_group, a.peer_index, [int(i) for i in a.peers.split(",") if i.strip()], a.peer_window)
    out = collect(a.iface, a.route_to, a.resolve, a.timeout, a.dns_timeout, peer)
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return exit_code(out)


if __name__ == "__main__":
    code = main()
    os._exit(code)  # a resolver thread may still be blocked in getaddrinfo; do not wait for it
