#!/usr/bin/env python3
"""IPv6 observations of one interface for Matter and Thread, used by probe_script.py (stdlib + scapy).

Why it exists: a Matter controller on net1 needs IPv6 enabled, addresses, the routes to Thread
meshes that border routers announce as Route Information Options (RFC 4191; the kernel keeps them
only when `accept_ra_rt_info_max_plen` covers their length), mDNS on ff02::fb, and a path to the
Thread nodes (matter-thread-ipv6.md). This module observes each of those from inside the
interface's namespace and judges nothing. It is shipped beside probe_script.py (into the sample
pod too): it imports probe_script's capture machinery and netinfo.py (addresses and routes over
rtnetlink), and nothing else from the multus_check package.

What it touches: it reads the interface's IPv6 sysctls (/proc/sys/net/ipv6/conf/IF) and, through
netinfo.py, dumps its addresses and routes over rtnetlink (read only). It sends one Router Solicitation to ff02::2 and
mDNS queries to ff02::fb as layer-2 frames (scapy), joining ff02::fb on the interface meanwhile as
an application would, and one Matter message (resent once, as MRP does) to each Matter node
discovered: an unsecured, reliable message of a test-vendor protocol (vendor 0xFFF1), which a
node acknowledges with an MRP standalone ack and otherwise ignores. That one goes through the
kernel's routing, like a controller's, so it travels the RIO route to the Thread mesh when there
is one.

Every part keeps "could not send" (`send-error`, with the reason) apart from "no answer within
the timeout" (`no-answer`); a part that depends on an earlier one is `not-run`, with why.
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
import select
import socket
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any

from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptRouteInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.l2 import Ether
from scapy.packet import Packet

try:
    from multus_check.probes import probe_script as core
except ImportError:  # shipped into a pod: probe_script.py sits beside this file
    import probe_script as core  # type: ignore[no-redef,import-not-found,unused-ignore]
try:
    from multus_check.collect import netinfo
except ImportError:  # shipped into a pod: netinfo.py sits beside this file too
    import netinfo  # type: ignore[no-redef,import-not-found,unused-ignore]

Json = dict[str, Any]
SYSCTLS = ("disable_ipv6", "accept_ra", "autoconf", "accept_ra_pinfo", "accept_ra_defrtr",
           "accept_ra_rt_info_min_plen", "accept_ra_rt_info_max_plen", "forwarding")
MATTER_TYPES = ("_matter._tcp.local.", "_matterc._udp.local.", "_meshcop._udp.local.")
#: asked beside the Matter types, so a LAN that answers IPv6 mDNS but has no Matter device tells itself apart
#: from one that drops IPv6 multicast
QUESTIONS = (*MATTER_TYPES, "_services._dns-sd._udp.local.")
MDNS6_GROUP, MDNS6_MAC = "ff02::fb", "33:33:00:00:00:fb"
ALL_ROUTERS, ALL_ROUTERS_MAC = "ff02::2", "33:33:00:00:00:02"
DAD_BUDGET = 1.5  # seconds to wait for a tentative address: one DAD round is 1 s by default
MAX_TARGETS = 4
NOT_RUN = "not-run"


def not_run(reason: str) -> Json:
    return {"outcome": NOT_RUN, "error": None, "reason": reason}


def send_error(reason: str) -> Json:
    return {"outcome": "send-error", "error": reason}


# ---------------------------------------------------------------- sysctls, addresses, routes


def read_sysctls(iface: str) -> dict[str, int | None]:
    """The interface's IPv6 sysctls; None where unreadable (no IPv6 in this kernel or namespace)."""
    out: dict[str, int | None] = {}
    for key in SYSCTLS:
        try:
            with open(f"/proc/sys/net/ipv6/conf/{iface}/{key}", encoding="ascii") as f:
                out[key] = int(f.read().strip())
        except (OSError, ValueError):
            out[key] = None
    return out


def wait_addresses(ifindex: int, ready: Callable[[list[Json]], object], budget: float) -> tuple[list[Json], float]:
    """Poll the addresses until `ready(addresses)` or `budget` seconds; returns them and the ms waited."""
    t0 = time.monotonic()
    current = netinfo.ipv6_addresses(ifindex)
    while not ready(current) and time.monotonic() - t0 < budget:
        time.sleep(0.05)
        current = netinfo.ipv6_addresses(ifindex)
    return current, round((time.monotonic() - t0) * 1000, 1)


def usable_link_local(addrs: Sequence[Json]) -> str | None:
    return next((a["address"] for a in addrs if a["scope"] == "link" and not a["tentative"] and not a["dadfailed"]), None)


# ---------------------------------------------------------------- router solicitation


def router_solicitation(mac: str, src: str | None) -> Packet:
    """An RS to all routers; from the link-local with our MAC, or from :: (no option) while it is tentative."""
    pkt = Ether(src=mac, dst=ALL_ROUTERS_MAC) / IPv6(src=src or "::", dst=ALL_ROUTERS, hlim=255) / ICMPv6ND_RS()
    return pkt / ICMPv6NDOptSrcLLAddr(lladdr=mac) if src else pkt


def parse_ra(pkt: Packet, t_send: float) -> Json | None:
    """A Router Advertisement: router lifetime and preference, prefixes (PIO) and routes (RIO)."""
    if IPv6 not in pkt or ICMPv6ND_RA not in pkt:
        return None
    ra = pkt[ICMPv6ND_RA]
    out: Json = {"ms": round((float(pkt.time) - t_send) * 1000, 1), "from": str(pkt[IPv6].src), "to": str(pkt[IPv6].dst),
                 "router_lifetime": int(ra.routerlifetime), "preference": netinfo.PREFERENCE[int(ra.prf)],
                 "managed": bool(ra.M), "other": bool(ra.O), "prefixes": [], "routes": [], "mtu": None, "lladdr": None}
    opt = ra.payload
    while isinstance(opt, Packet) and opt.name != "NoPayload":
        if isinstance(opt, ICMPv6NDOptPrefixInfo):
            out["prefixes"].append({"prefix": f"{opt.prefix}/{int(opt.prefixlen)}", "on_link": bool(opt.L),
                                    "autonomous": bool(opt.A), "valid_lifetime": int(opt.validlifetime),
                                    "preferred_lifetime": int(opt.preferredlifetime)})
        elif isinstance(opt, ICMPv6NDOptRouteInfo):
            out["routes"].append({"prefix": f"{opt.prefix}/{int(opt.plen)}", "preference": netinfo.PREFERENCE[int(opt.prf)],
                                  "lifetime": int(opt.rtlifetime)})
        elif isinstance(opt, ICMPv6NDOptMTU):
            out["mtu"] = int(opt.mtu)
        elif isinstance(opt, ICMPv6NDOptSrcLLAddr):
            out["lladdr"] = str(opt.lladdr)
        opt = opt.payload
    return out


def solicit(iface: str, mac: str, src: str | None, timeout: float, settle: float) -> Json:
    """Send an RS and collect the RAs (a router answers at once; RFC 7772 routers by unicast)."""
    result = core.exchange(iface, router_solicitation(mac, src), "icmp6 and ip6[40] == 134",
                           lambda p: ICMPv6ND_RA in p, parse_ra, timeout, settle, f"RS from {src or '::'}",
                           resend_after=None)
    ras = result["answers"]
    result["prefixes"] = sorted({p["prefix"] for ra in ras for p in ra["prefixes"]})
    result["route_information"] = sorted({r["prefix"] for ra in ras for r in ra["routes"]})
    return result


# ---------------------------------------------------------------- mDNS over IPv6


def mdns6_query(mac: str, src: str, qnames: Sequence[str], unicast_response: bool = False) -> Packet:
    questions = [DNSQR(qname=q, qtype="PTR", unicastresponse=int(unicast_response)) for q in qnames]
    return (Ether(src=mac, dst=MDNS6_MAC) / IPv6(src=src, dst=MDNS6_GROUP, hlim=255)
            / UDP(sport=core.MDNS_PORT, dport=core.MDNS_PORT) / DNS(id=0, rd=0, qd=questions))


def join_mdns6(ifindex: int) -> socket.socket:
    """Join ff02::fb on the interface, as an mDNS application does (the macvlan filter drops it otherwise)."""
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                     socket.inet_pton(socket.AF_INET6, MDNS6_GROUP) + struct.pack("@I", ifindex))
    except OSError:
        s.close()
        raise
    return s


def probe_mdns6(iface: str, mac: str, src: str, own: set[str], timeout: float, settle: float) -> Json:
    """QM for the Matter and Thread service types (and the service enumeration) on ff02::fb, then the same with
    the QU bit."""
    bpf, parse = f"ip6 and udp and src port {core.MDNS_PORT}", core.parse_mdns_answer

    def keep(p: Packet) -> bool:
        return IPv6 in p and str(p[IPv6].src) not in own

    qm = core.exchange(iface, mdns6_query(mac, src, QUESTIONS), bpf, keep, parse, timeout, settle,
                       "QM PTR " + " ".join(QUESTIONS))
    qu = core.exchange(iface, mdns6_query(mac, src, QUESTIONS, unicast_response=True), bpf, keep, parse, timeout,
                       settle, "QU PTR " + " ".join(QUESTIONS))
    everything = [*qm["answers"], *qu["answers"]]
    _, found = core.service_catalog(everything)
    instances = [i for i in found if i["type"] in MATTER_TYPES]  # not other services a responder announced meanwhile
    return {**core.summarize([qm]), "exchanges": [qm], "qu": qu,
            "service_types": sorted({i["type"] for i in instances}), "services": instances,
            "responders": sorted({a["from"].rsplit(":", 1)[0].strip("[]") for a in everything})}


# ---------------------------------------------------------------- a Matter round trip

TEST_VENDOR, PROBE_PROTOCOL, PROBE_OPCODE = 0xFFF1, 0x6D63, 0x01
EX_INITIATOR, EX_ACK, EX_RELIABLE, EX_VENDOR = 0x01, 0x02, 0x04, 0x10


def matter_request(counter: int, source_node: int, exchange_id: int) -> bytes:
    """An unsecured (session 0) message from an initiator with the R flag: a Matter node must ack it."""
    header = struct.pack("<BHBIQ", 0x04, 0, 0, counter, source_node)  # S flag: source node id follows
    proto = struct.pack("<BBHHH", EX_INITIATOR | EX_RELIABLE | EX_VENDOR, PROBE_OPCODE, exchange_id, TEST_VENDOR,
                        PROBE_PROTOCOL)
    return header + proto + b"multus-check"


def parse_matter_reply(data: bytes, counter: int, source_node: int) -> Json | None:
    """A Matter message addressed to our ephemeral node id; `acked` when it acknowledges `counter`."""
    if len(data) < 8 + 8 + 6:
        return None
    flags, session_id, _security, _their_counter = struct.unpack_from("<BHBI", data)
    if flags >> 4 != 0 or flags & 0x03 != 0x01 or flags & 0x04 or session_id != 0:
        return None  # not an unsecured reply to a node id
    (dest,) = struct.unpack_from("<Q", data, 8)
    if dest != source_node:
        return None
    ex_flags, opcode, exchange_id = struct.unpack_from("<BBH", data, 16)
    offset = 20 + (2 if ex_flags & EX_VENDOR else 0)
    if len(data) < offset + 2:
        return None
    (protocol,) = struct.unpack_from("<H", data, offset)
    ack = struct.unpack_from("<I", data, offset + 2)[0] if ex_flags & EX_ACK and len(data) >= offset + 6 else None
    return {"opcode": opcode, "protocol": protocol, "exchange": exchange_id, "ack_counter": ack,
            "acked": ack == counter, "standalone_ack": protocol == 0 and opcode == 0x10}


def matter_targets(services: Sequence[Json]) -> list[Json]:
    """Matter nodes (operational and commissionable) with an IPv6 address and port, routable ones first."""
    targets: list[Json] = []
    for svc in services:
        if svc["type"] not in MATTER_TYPES[:2] or not svc.get("port"):
            continue
        ips = [a for a in svc.get("addresses", []) if ":" in a]
        for ip in sorted(ips, key=lambda a: (ipaddress.IPv6Address(a).is_link_local, a)):
            if not any(t["address"] == ip and t["port"] == svc["port"] for t in targets):
                targets.append({"service": svc["name"], "address": ip, "port": int(svc["port"])})
    return targets[:MAX_TARGETS]


class _Trip:
    """One round trip: a UDP socket connected to the node (the kernel picks route and source)."""

    def __init__(self, target: Json, scope_id: int) -> None:
        self.counter, self.node = random.randint(1, 0x0FFFFFFF), random.getrandbits(64)
        self.message = matter_request(self.counter, self.node, random.randint(0, 0xFFFF))
        self.result: Json = {**target, "outcome": "send-error", "error": None, "source": None, "sends": 0,
                             "rtt_ms": None, "reply": None, "icmp_error": None}
        self.t0 = time.monotonic()
        self.sock: socket.socket | None = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        scope = scope_id if ipaddress.IPv6Address(target["address"]).is_link_local else 0
        try:
            self.sock.connect((target["address"], target["port"], 0, scope))
            self.result["source"] = self.sock.getsockname()[0]
            self.send()
        except OSError as exc:
            self.result["error"] = f"[{target['address']}]:{target['port']}: {exc.strerror or exc}"
            self.close()

    def send(self) -> None:
        assert self.sock is not None
        self.sock.send(self.message)
        self.result["sends"] += 1

    def receive(self) -> None:
        assert self.sock is not None
        try:
            reply = parse_matter_reply(self.sock.recv(2048), self.counter, self.node)
        except OSError as exc:  # an ICMPv6 error came back (port/address unreachable): record it, keep listening
            self.result["icmp_error"] = exc.strerror or str(exc)
            return
        if reply is not None:
            self.result.update(outcome="answered", reply=reply, rtt_ms=round((time.monotonic() - self.t0) * 1000, 1))
            self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def matter_round_trips(targets: Sequence[Json], scope_id: int, timeout: float) -> Json:
    """Send to every target at once, resend (same counter, as MRP does) halfway, wait up to `timeout`."""
    if not targets:
        return not_run("no Matter node was discovered over mDNS (no _matter._tcp/_matterc._udp with an IPv6 address)")
    trips = [_Trip(t, scope_id) for t in targets]
    deadline, resent = time.monotonic() + timeout, False
    for trip in trips:
        if trip.sock is not None:
            trip.result["outcome"] = "no-answer"
    while any(t.sock for t in trips) and time.monotonic() < deadline:
        if not resent and time.monotonic() >= deadline - timeout / 2:
            resent = True
            for trip in (t for t in trips if t.sock is not None):
                try:
                    trip.send()
                except OSError as exc:  # the ICMPv6 error of the first send, reported on this one
                    trip.result["icmp_error"] = exc.strerror or str(exc)
        ready, _, _ = select.select([t.sock for t in trips if t.sock], [], [], 0.02)
        for trip in (t for t in trips if t.sock in ready):
            trip.receive()
    for trip in trips:
        trip.close()
    results = [t.result for t in trips]
    outcomes = {r["outcome"] for r in results}
    outcome = "answered" if "answered" in outcomes else "no-answer" if "no-answer" in outcomes else "send-error"
    return {"outcome": outcome, "error": None if outcome != "send-error" else "; ".join(r["error"] for r in results),
            "timeout_s": timeout, "targets": results}


# ---------------------------------------------------------------- everything, in order


def observe(iface: str, timeout: float = 2.0, settle: float = 0.25, ra_timeout: float = 1.0) -> Json:
    """Sysctls, addresses and routes of `iface`, the RAs an RS brings, mDNS for Matter, Matter round trips."""
    t0 = time.monotonic()
    out: Json = {"iface": iface, "error": None, "sysctls": {}, "addresses": [], "routes_before_rs": [], "routes": [],
                 "dad_wait_ms": {}, "ra": not_run("not reached"), "mdns": not_run("not reached"),
                 "matter": not_run("not reached")}
    try:
        index = socket.if_nametoindex(iface)
        out["sysctls"] = read_sysctls(iface)
        _observe(out, iface, index, timeout, settle, ra_timeout)
    except OSError as exc:
        out["error"] = f"IPv6 observation of {iface} failed: {exc.strerror or exc}"
    out["ms"] = round((time.monotonic() - t0) * 1000, 1)
    return out


def _observe(out: Json, iface: str, index: int, timeout: float, settle: float, ra_timeout: float) -> None:
    disabled = out["sysctls"].get("disable_ipv6")
    if disabled is None or disabled == 1:
        why = (f"IPv6 is disabled on {iface} (disable_ipv6=1)" if disabled == 1
               else f"{iface} has no IPv6 (no /proc/sys/net/ipv6/conf/{iface})")
        out["ra"] = out["mdns"] = out["matter"] = send_error(why)
        out["addresses"], out["routes"] = netinfo.ipv6_addresses(index), netinfo.ipv6_routes(index)
        return
    addrs, out["dad_wait_ms"]["link_local"] = wait_addresses(index, usable_link_local, DAD_BUDGET)
    link_local = usable_link_local(addrs)
    mac = netinfo.mac_of(iface)
    out["routes_before_rs"] = netinfo.ipv6_routes(index)
    out["ra"] = solicit(iface, mac, link_local, ra_timeout, settle)
    out["routes"] = netinfo.ipv6_routes(index)  # the kernel has processed the answers by now
    if link_local is None:
        out["mdns"] = send_error(f"{iface} has no usable link-local address (DAD not finished or failed)")
        out["matter"] = not_run("mDNS over IPv6 could not be sent, so no Matter node could be discovered")
    else:
        try:
            member = join_mdns6(index)
        except OSError as exc:
            member, out["mdns"] = None, send_error(f"could not join {MDNS6_GROUP} on {iface}: {exc.strerror or exc}")
        if member is not None:
            with contextlib.closing(member):
                out["mdns"] = probe_mdns6(iface, mac, link_local, {a["address"] for a in addrs}, timeout, settle)
        targets = matter_targets(out["mdns"].get("services", []))
        if targets:  # a controller's source address must have finished DAD too
            _, out["dad_wait_ms"]["global"] = wait_addresses(
                index, lambda a: not any(x["tentative"] for x in a if x["scope"] == "global"), DAD_BUDGET)
        out["matter"] = matter_round_trips(targets, index, timeout)
    out["addresses"] = netinfo.ipv6_addresses(index)
    _mark_sources(out)


def _mark_sources(out: Json) -> None:
    """Whether each round trip left from one of this interface's addresses (else another interface routed it)."""
    own = {a["address"] for a in out["addresses"]}
    for trip in out["matter"].get("targets", []):
        source = (trip.get("source") or "").split("%")[0]
        trip["source_on_iface"] = source in own if source else None
