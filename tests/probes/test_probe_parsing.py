"""The probe's parsing of recorded mDNS and SSDP answers (packets built with scapy; no network)."""

from __future__ import annotations

from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRSRV
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw

from multus_check.lab import ssdp_responder
from multus_check.probes import probe_script as ps

T0 = 1_000_000.0


def _wire(pkt: Packet, at: float) -> Packet:
    """Serialize and dissect again, as a capture would, with a capture timestamp."""
    out = Ether(bytes(pkt))
    out.time = at
    return out


def _mdns(dns: DNS, src: str = "192.168.77.1", dst: str = "224.0.0.251", dport: int = 5353, at: float = T0 + 0.08) -> Packet:
    return _wire(Ether() / IP(src=src, dst=dst) / UDP(sport=5353, dport=dport) / dns, at)


AVAHI_SERVICES = DNS(id=0, qr=1, aa=1, an=[
    DNSRR(rrname="_services._dns-sd._udp.local.", type="PTR", ttl=4500, rdata="_testsvc._tcp.local."),
    DNSRR(rrname="_services._dns-sd._udp.local.", type="PTR", ttl=4500, rdata="_http._tcp.local."),
])
AVAHI_TESTSVC = DNS(id=0, qr=1, aa=1, an=[
    DNSRR(rrname="_testsvc._tcp.local.", type="PTR", ttl=4500, rdata="Lab Test Service._testsvc._tcp.local."),
    DNSRR(rrname="Lab Test Service._testsvc._tcp.local.", type="TXT", ttl=4500, rdata=[b"lab=1"]),
    DNSRRSRV(rrname="Lab Test Service._testsvc._tcp.local.", ttl=120, target="labrouter.local.", port=4242),
], ar=[DNSRR(rrname="labrouter.local.", type="A", ttl=120, rdata="192.168.77.1")])


def test_mdns_answer_is_parsed_with_latency_source_and_records() -> None:
    answer = ps.parse_mdns_answer(_mdns(AVAHI_SERVICES), T0)
    assert answer is not None
    assert answer["ms"] == 80.0
    assert answer["from"] == "192.168.77.1:5353" and answer["multicast"] is True
    assert [(r["type"], r["data"]) for r in answer["records"]] == [("PTR", "_testsvc._tcp.local."),
                                                                   ("PTR", "_http._tcp.local.")]


def test_mdns_queries_and_foreign_ids_are_not_answers() -> None:
    query = DNS(id=0, qr=0, qd=DNSQR(qname="_services._dns-sd._udp.local.", qtype="PTR"))
    assert ps.parse_mdns_answer(_mdns(query), T0) is None
    legacy = DNS(id=4711, qr=1, an=AVAHI_SERVICES.an)
    assert ps.parse_mdns_answer(_mdns(legacy, dst="192.168.77.120", dport=40000), T0, query_id=4711) is not None
    assert ps.parse_mdns_answer(_mdns(legacy, dst="192.168.77.120", dport=40000), T0, query_id=4712) is None


def test_unicast_reply_is_marked_as_not_multicast() -> None:
    answer = ps.parse_mdns_answer(_mdns(AVAHI_SERVICES, dst="192.168.77.120"), T0)
    assert answer is not None and answer["multicast"] is False


def test_service_catalog_joins_ptr_srv_txt_and_address_records() -> None:
    answers = [ps.parse_mdns_answer(_mdns(d), T0) for d in (AVAHI_SERVICES, AVAHI_TESTSVC)]
    types, instances = ps.service_catalog([a for a in answers if a])
    assert types == ["_http._tcp.local.", "_testsvc._tcp.local."]
    assert instances == [{"type": "_testsvc._tcp.local.", "name": "Lab Test Service._testsvc._tcp.local.",
                          "target": "labrouter.local.", "port": 4242, "txt": ["lab=1"], "addresses": ["192.168.77.1"]}]


def test_ssdp_reply_headers_are_parsed_and_devices_deduplicated_by_usn() -> None:
    body = ssdp_responder.reply("ssdp:all", "http://192.168.77.1:8080/desc.xml", ssdp_responder.DEFAULT_USN)
    assert body is not None
    pkt = _wire(Ether() / IP(src="192.168.77.1", dst="192.168.77.120") / UDP(sport=1900, dport=41000) / Raw(body),
                T0 + 0.012)
    answer = ps.parse_ssdp_answer(pkt, T0)
    assert answer is not None and answer["status"] == "HTTP/1.1 200 OK" and answer["ms"] == 12.0
    assert answer["headers"]["LOCATION"] == "http://192.168.77.1:8080/desc.xml"
    devices = ps.ssdp_devices([answer, answer])
    assert devices == [{"usn": ssdp_responder.DEFAULT_USN, "st": "upnp:rootdevice",
                        "location": "http://192.168.77.1:8080/desc.xml",
                        "server": "Linux UPnP/1.0 multus-check-lab/1.0", "from": "192.168.77.1:1900"}]


def test_ssdp_search_requests_are_not_answers() -> None:
    search = ps.ssdp_search("02:00:00:00:00:01", "192.168.77.120", 41000)
    assert ps.parse_ssdp_answer(_wire(search, T0 + 0.001), T0) is None


def test_summary_keeps_send_errors_apart_from_silence() -> None:
    def ex(outcome: str, error: str | None = None, first: float | None = None) -> dict[str, object]:
        return {"outcome": outcome, "error": error, "first_answer_ms": first}

    assert ps.summarize([ex("send-error", "ENETDOWN")])["outcome"] == "send-error"
    silent = ps.summarize([ex("no-answer"), ex("no-answer")])
    assert silent["outcome"] == "no-answer" and silent["loss"] == 1.0 and silent["sent"] == 2
    lossy = ps.summarize([ex("answered", first=90.0), ex("no-answer"), ex("send-error", "ENOBUFS")])
    assert (lossy["outcome"], lossy["sent"], lossy["answered"], lossy["loss"]) == ("answered", 2, 1, 0.5)
    assert lossy["errors"] == ["ENOBUFS"] and lossy["first_answer_ms"] == 90.0


def test_exit_code_distinguishes_answered_silent_and_unsendable() -> None:
    assert ps.exit_code({"error": None, "mdns": {"outcome": "answered"}, "ssdp": {"outcome": "answered"}}) == 0
    assert ps.exit_code({"error": None, "mdns": {"outcome": "no-answer"}, "ssdp": {"outcome": "answered"}}) == 3
    assert ps.exit_code({"error": None, "mdns": {"outcome": "send-error"}}) == 4
    assert ps.exit_code({"error": "interface net1 cannot be probed: No such device"}) == 4


def test_mdns_query_sets_the_qu_bit_and_legacy_port_and_id() -> None:
    qu = DNS(bytes(ps.mdns_query("02:00:00:00:00:01", "192.168.77.120", ["a.local."], unicast_response=True)[DNS]))
    assert qu.qd[0].unicastresponse == 1 and qu.id == 0
    legacy = ps.mdns_query("02:00:00:00:00:01", "192.168.77.120", ["a.local."], sport=40001, qid=77)
    assert legacy[UDP].sport == 40001 and legacy[DNS].id == 77 and legacy[IP].ttl == 255
    assert legacy[Ether].dst == ps.MDNS_MAC


def test_ssdp_responder_answers_only_searches_for_targets_it_serves() -> None:
    assert ssdp_responder.search_target(b"NOTIFY * HTTP/1.1\r\n\r\n") is None
    st = ssdp_responder.search_target(b"M-SEARCH * HTTP/1.1\r\nST: upnp:rootdevice\r\n\r\n")
    assert st == "upnp:rootdevice"
    assert ssdp_responder.reply("urn:schemas-upnp-org:device:Printer:1", "http://x/", ssdp_responder.DEFAULT_USN) is None
