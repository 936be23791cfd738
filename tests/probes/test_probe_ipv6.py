"""The IPv6 probe's parsing and messages (no network): RAs, rtnetlink dumps, Matter messages, targets."""

from __future__ import annotations

import socket
import struct

from scapy.layers.dns import DNS, DNSRR, DNSRRSRV
from scapy.layers.inet import UDP
from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, ICMPv6NDOptRouteInfo, ICMPv6NDOptSrcLLAddr, IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet

from multus_check.collect import netinfo
from multus_check.lab import matter_node
from multus_check.probes import probe_ipv6 as p6
from multus_check.probes import probe_script as ps

T0 = 1_000_000.0
ROUTER_LL, POD_LL = "fe80::cb6:8eff:feb6:7c8c", "fe80::fcb2:9ff:fe11:2586"


def _wire(pkt: Packet, at: float) -> Packet:
    out = Ether(bytes(pkt))
    out.time = at
    return out


def _ra(*options: Packet, dst: str = POD_LL) -> Packet:
    ra = ICMPv6ND_RA(routerlifetime=0, prf=0)
    for opt in options:
        ra = ra / opt
    return _wire(Ether(src="0e:b6:8e:b6:7c:8c") / IPv6(src=ROUTER_LL, dst=dst, hlim=255) / ra, T0 + 0.009)


def test_router_advertisement_yields_its_slaac_prefix_and_its_thread_route() -> None:
    pkt = _ra(ICMPv6NDOptPrefixInfo(prefix="fd6d:636c:614d::", prefixlen=64, L=1, A=1, validlifetime=86400,
                                    preferredlifetime=14400),
              ICMPv6NDOptRouteInfo(prefix="fd74:6872:644d::", plen=64, prf=1, rtlifetime=1800),
              ICMPv6NDOptSrcLLAddr(lladdr="0e:b6:8e:b6:7c:8c"))
    ra = p6.parse_ra(pkt, T0)
    assert ra is not None
    assert (ra["from"], ra["to"], ra["ms"], ra["router_lifetime"], ra["preference"]) == (ROUTER_LL, POD_LL, 9.0, 0, "medium")
    assert ra["prefixes"] == [{"prefix": "fd6d:636c:614d::/64", "on_link": True, "autonomous": True,
                               "valid_lifetime": 86400, "preferred_lifetime": 14400}]
    assert ra["routes"] == [{"prefix": "fd74:6872:644d::/64", "preference": "high", "lifetime": 1800}]
    assert ra["lladdr"] == "0e:b6:8e:b6:7c:8c"


def test_other_icmpv6_is_not_a_router_advertisement() -> None:
    from scapy.layers.inet6 import ICMPv6ND_RS

    assert p6.parse_ra(_wire(Ether() / IPv6(src=POD_LL, dst="ff02::2") / ICMPv6ND_RS(), T0), T0) is None


def test_solicitation_from_a_tentative_link_local_is_sent_from_the_unspecified_address_without_option() -> None:
    ready = IPv6(bytes(p6.router_solicitation("02:00:00:00:00:01", POD_LL)[IPv6]))
    tentative = IPv6(bytes(p6.router_solicitation("02:00:00:00:00:01", None)[IPv6]))
    assert (ready.src, ready.dst, ready.hlim) == (POD_LL, "ff02::2", 255) and ICMPv6NDOptSrcLLAddr in ready
    assert tentative.src == "::" and ICMPv6NDOptSrcLLAddr not in tentative  # RFC 4861 §4.1


def _attr(kind: int, data: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(data), kind) + data
    return raw + b"\0" * (-len(raw) % 4)


def _route(dst: str, plen: int, proto: int, oif: int, table: int = 254, gateway: str | None = None,
           pref: int | None = None, expires_ticks: int = 0) -> bytes:
    head = struct.pack("=BBBBBBBBI", socket.AF_INET6, plen, 0, 0, table, proto, 0, 1, 0)
    attrs = _attr(netinfo.RTA_TABLE, struct.pack("=I", table)) + _attr(netinfo.RTA_OIF, struct.pack("=I", oif))
    attrs += _attr(netinfo.RTA_DST, socket.inet_pton(socket.AF_INET6, dst)) + _attr(netinfo.RTA_PRIORITY, struct.pack("=I", 1024))
    if gateway:
        attrs += _attr(netinfo.RTA_GATEWAY, socket.inet_pton(socket.AF_INET6, gateway))
    if pref is not None:
        attrs += _attr(netinfo.RTA_PREF, bytes([pref]))
    attrs += _attr(netinfo.RTA_CACHEINFO, struct.pack("=IIiIIIII", 0, 0, expires_ticks, 0, 0, 0, 0, 0))
    return head + attrs


def test_route_dump_entries_read_like_ip_route_with_protocol_preference_and_expiry() -> None:
    rio = _route("fd74:6872:644d::", 64, 9, oif=3, gateway=ROUTER_LL, pref=1, expires_ticks=179_900)
    assert netinfo.parse_route(rio, 3) == {"dst": "fd74:6872:644d::/64", "gateway": ROUTER_LL, "protocol": "ra",
                                      "metric": 1024, "pref": "high", "expires": 1799}
    assert netinfo.parse_route(_route("::", 0, 9, oif=3, gateway=ROUTER_LL), 3)["dst"] == "default"  # type: ignore[index]


def test_routes_of_other_interfaces_and_other_tables_are_left_out() -> None:
    assert netinfo.parse_route(_route("fd74:6872:644d::", 64, 9, oif=2), 3) is None
    assert netinfo.parse_route(_route("fe80::", 128, 2, oif=3, table=255), 3) is None  # the local table


def _address(addr: str, plen: int, flags: int, index: int = 3, proto: int | None = None) -> bytes:
    head = struct.pack("=BBBBI", socket.AF_INET6, plen, flags & 0xFF, 0, index)
    attrs = _attr(netinfo.IFA_ADDRESS, socket.inet_pton(socket.AF_INET6, addr)) + _attr(netinfo.IFA_FLAGS, struct.pack("=I", flags))
    attrs += _attr(netinfo.IFA_CACHEINFO, struct.pack("=IIII", 14400, 86400, 0, 0))
    if proto is not None:
        attrs += _attr(netinfo.IFA_PROTO, bytes([proto]))
    return head + attrs


def test_address_dump_entries_say_origin_and_whether_dad_is_still_running() -> None:
    slaac = netinfo.parse_address(_address("fd6d:636c:614d:0:fcb2:9ff:fe11:2586", 64, 0x140, proto=2), 3)
    assert slaac == {"address": "fd6d:636c:614d:0:fcb2:9ff:fe11:2586", "prefixlen": 64, "scope": "global",
                     "origin": "slaac", "flags": ["tentative", "mngtmpaddr"], "tentative": True, "dadfailed": False,
                     "valid_lft": 86400, "preferred_lft": 14400}
    old_kernel = netinfo.parse_address(_address(POD_LL, 64, 0x80), 3)  # older kernels send no IFA_PROTO
    assert old_kernel is not None and old_kernel["origin"] == "link-local" and old_kernel["scope"] == "link"
    assert netinfo.parse_address(_address(POD_LL, 64, 0x80, index=2), 3) is None


def test_netlink_attributes_stop_at_a_truncated_entry() -> None:
    payload = b"\0" * 8 + _attr(netinfo.IFA_ADDRESS, b"\1" * 16) + struct.pack("=HH", 2, 9)
    assert list(netinfo.attributes(payload, 8)) == [netinfo.IFA_ADDRESS]


def test_matter_probe_message_has_the_unsecured_initiator_layout_of_the_spec() -> None:
    msg = p6.matter_request(counter=0x01020304, source_node=0x1122334455667788, exchange_id=0xBEEF)
    assert msg[:8] == bytes([0x04, 0x00, 0x00, 0x00, 0x04, 0x03, 0x02, 0x01])  # flags S, session 0, security 0, counter
    assert msg[8:16] == bytes.fromhex("8877665544332211")  # source node id, little endian
    assert msg[16:24] == bytes([0x15, 0x01, 0xEF, 0xBE, 0xF1, 0xFF, 0x63, 0x6D])  # I|R|V, opcode, exchange, vendor, proto


def test_lab_matter_node_acks_the_probe_and_the_probe_recognises_the_standalone_ack() -> None:
    msg = p6.matter_request(counter=77, source_node=0xABCDEF, exchange_id=4242)
    received = matter_node.parse_unsecured(msg)
    assert received is not None and received.reliable and received.source_node == 0xABCDEF
    ack = matter_node.standalone_ack(received, own_counter=9)
    # header: DSIZ=1 (destination node id), session 0, security 0, counter 9, destination = our node id
    assert ack == (bytes([0x01, 0, 0, 0, 9, 0, 0, 0]) + (0xABCDEF).to_bytes(8, "little")
                   + bytes([0x02, 0x10]) + (4242).to_bytes(2, "little") + b"\0\0" + (77).to_bytes(4, "little"))
    assert p6.parse_matter_reply(ack, 77, 0xABCDEF) == {"opcode": 0x10, "protocol": 0, "exchange": 4242,
                                                        "ack_counter": 77, "acked": True, "standalone_ack": True}


def test_replies_to_another_node_or_another_counter_are_not_our_ack() -> None:
    ack = matter_node.standalone_ack(matter_node.Received(77, 0xABCDEF, 0x15, 1), own_counter=9)
    assert p6.parse_matter_reply(ack, 77, 0x1234) is None
    assert p6.parse_matter_reply(ack, 78, 0xABCDEF)["acked"] is False  # type: ignore[index]
    assert p6.parse_matter_reply(b"\x01" * 10, 77, 0xABCDEF) is None


def test_matter_node_drops_what_a_node_drops_secured_unreliable_or_from_a_responder() -> None:
    msg = bytearray(p6.matter_request(counter=1, source_node=2, exchange_id=3))
    secured = bytes(msg[:1]) + b"\x05\x00" + bytes(msg[3:])
    assert matter_node.parse_unsecured(secured) is None
    unreliable = bytes(msg[:16]) + bytes([msg[16] & ~0x04]) + bytes(msg[17:])
    parsed = matter_node.parse_unsecured(unreliable)
    assert parsed is not None and not parsed.reliable
    assert matter_node.parse_unsecured(matter_node.standalone_ack(matter_node.Received(1, 2, 0x05, 3), 4)) is None


def _svc(stype: str, name: str, port: int, addresses: list[str]) -> dict[str, object]:
    return {"type": stype, "name": f"{name}.{stype}", "target": "0E5B8D8A0B3C4D5E.local.", "port": port, "txt": [],
            "addresses": addresses}


def test_matter_targets_are_nodes_with_ipv6_addresses_routable_ones_first_each_once() -> None:
    services = [_svc("_matter._tcp.local.", "A-B", 5540, ["fe80::1", "fd74:6872:644d::5540", "192.168.77.9"]),
                _svc("_matterc._udp.local.", "C", 5540, ["fd74:6872:644d::5540"]),
                _svc("_meshcop._udp.local.", "BR", 49154, ["fd6d:636c:614d::1"]),
                _svc("_matter._tcp.local.", "D-E", 11111, ["fd74:6872:644d::7"])]
    assert [(t["address"], t["port"]) for t in p6.matter_targets(services)] == [
        ("fd74:6872:644d::5540", 5540), ("fe80::1", 5540), ("fd74:6872:644d::7", 11111)]


def test_no_discovered_node_means_the_round_trip_was_not_run_rather_than_unanswered() -> None:
    result = p6.matter_round_trips([], scope_id=3, timeout=1.0)
    assert result["outcome"] == "not-run" and "no Matter node was discovered" in result["reason"]


def test_mdns_query_over_ipv6_goes_to_ff02_fb_with_the_three_matter_types() -> None:
    pkt = Ether(bytes(p6.mdns6_query("02:00:00:00:00:01", POD_LL, p6.MATTER_TYPES, unicast_response=True)))
    assert (pkt[Ether].dst, pkt[IPv6].dst, pkt[IPv6].hlim, pkt[UDP].sport) == ("33:33:00:00:00:fb", "ff02::fb", 255, 5353)
    assert [q.qname.decode() for q in pkt[DNS].qd] == list(p6.MATTER_TYPES)
    assert all(q.unicastresponse == 1 for q in pkt[DNS].qd)


def test_mdns_answer_over_ipv6_keeps_the_bracketed_source_and_reverse_mappings_are_no_services() -> None:
    dns = DNS(id=0, qr=1, aa=1, an=[
        DNSRR(rrname="_matter._tcp.local.", type="PTR", ttl=120, rdata="A-B._matter._tcp.local."),
        DNSRRSRV(rrname="A-B._matter._tcp.local.", ttl=120, target="0E5B8D8A0B3C4D5E.local.", port=5540),
        DNSRR(rrname="0E5B8D8A0B3C4D5E.local.", type="AAAA", ttl=120, rdata="fd74:6872:644d::5540"),
        DNSRR(rrname="0.4.5.5.0.0.0.0.0.0.0.0.0.0.0.0.d.4.4.6.2.7.8.6.4.7.d.f.ip6.arpa.", type="PTR", ttl=120,
              rdata="0E5B8D8A0B3C4D5E.local.")])
    pkt = _wire(Ether() / IPv6(src="fd6d:636c:614d::1", dst="ff02::fb") / UDP(sport=5353, dport=5353) / dns, T0 + 0.03)
    answer = ps.parse_mdns_answer(pkt, T0)
    assert answer is not None and answer["from"] == "[fd6d:636c:614d::1]:5353" and answer["multicast"] is True
    _, instances = ps.service_catalog([answer])
    assert [(i["name"], i["port"], i["addresses"]) for i in instances] == [
        ("A-B._matter._tcp.local.", 5540, ["fd74:6872:644d::5540"])]


def _v6(**outcomes: str) -> dict[str, object]:
    return {"error": None, **{k: {"outcome": v} for k, v in outcomes.items()}}


def test_exit_code_counts_the_ipv6_parts_and_ignores_parts_not_run() -> None:
    healthy = {"mdns": {"outcome": "answered"}, "error": None}
    assert ps.exit_code({**healthy, "ipv6": _v6(ra="answered", mdns="answered", matter="answered")}) == 0
    assert ps.exit_code({**healthy, "ipv6": _v6(ra="answered", mdns="no-answer", matter="not-run")}) == 3
    assert ps.exit_code({**healthy, "ipv6": _v6(ra="send-error", mdns="send-error", matter="send-error")}) == 4
    assert ps.exit_code({**healthy, "ipv6": {"error": "probe_ipv6.py must sit beside probe_script.py"}}) == 4


def test_a_subtype_ptr_announced_first_still_files_the_instance_under_its_base_type() -> None:
    """avahi announces `_CM._sub._matterc._udp` PTRs too; right after start they can come first."""
    dns = DNS(id=0, qr=1, aa=1, an=[
        DNSRR(rrname="_CM._sub._matterc._udp.local.", type="PTR", ttl=4500, rdata="C._matterc._udp.local."),
        DNSRR(rrname="_matterc._udp.local.", type="PTR", ttl=4500, rdata="C._matterc._udp.local."),
        DNSRRSRV(rrname="C._matterc._udp.local.", ttl=120, target="0E5B8D8A0B3C4D5E.local.", port=5540)])
    pkt = _wire(Ether() / IPv6(src="fd6d:636c:614d::1", dst="ff02::fb") / UDP(sport=5353, dport=5353) / dns, T0 + 0.03)
    _, instances = ps.service_catalog([ps.parse_mdns_answer(pkt, T0) or {}])
    assert [(i["type"], i["name"], i["port"]) for i in instances] == [("_matterc._udp.local.", "C._matterc._udp.local.", 5540)]
