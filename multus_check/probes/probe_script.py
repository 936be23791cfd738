#!/usr/bin/env python3
"""mDNS and SSDP probes on one interface, as a self-contained script (python3 + scapy only).

Why it exists: the node data-path probe (`multus-check node`) and the in-pod probe of the
end-to-end test must send exactly the same packets and judge answers the same way, and inside
a pod there is no multus-check package. So this file imports nothing from the package; it can
be copied into a pod and run as `python3 probe_script.py --iface net1` and prints one JSON
object. The package imports it too (`multus_check.probes.probe_script`). It reads the interface
with netinfo.py (the project's one interface/route reader, `multus_check.collect.netinfo`), and with
`--probe ipv6` (or `all`) adds the IPv6/Matter/Thread observations of probe_ipv6.py; both must sit
beside it when it is copied (the sample pod's ConfigMap ships all three).

What it touches: it sends a few frames on the given interface (mDNS to 224.0.0.251:5353,
SSDP M-SEARCH to 239.255.255.250:1900, as layer-2 frames with scapy), listens on that
interface, and joins those two groups on it for the duration, as a real application would
(the macvlan multicast filter drops groups nobody joined; netns-lab.md pitfall 9).

Every exchange keeps "could not send" (`send-error`) apart from "no answer within the
timeout" (`no-answer`). Exit status: 0 every probe was answered, 3 a probe got no answer,
4 a probe could not be sent (or the interface is unusable).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import random
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from scapy.config import conf
from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.sendrecv import AsyncSniffer, sendp

_HERE = os.path.dirname(os.path.abspath(__file__))
if not __package__ and _HERE not in sys.path:  # a copy beside its siblings: `python3 -I` leaves its directory out
    sys.path.insert(0, _HERE)
try:
    from multus_check.collect import netinfo
except ImportError:  # shipped into a pod: netinfo.py (the one interface reader) sits beside this file
    import netinfo  # type: ignore[no-redef,import-not-found,unused-ignore]

MDNS_GROUP, MDNS_MAC, MDNS_PORT = "224.0.0.251", "01:00:5e:00:00:fb", 5353
SSDP_GROUP, SSDP_MAC, SSDP_PORT = "239.255.255.250", "01:00:5e:7f:ff:fa", 1900
SERVICES_QNAME = "_services._dns-sd._udp.local."
RESEND_AFTER = 1.0  # RFC 6762 §5.2: a second query at least one second after the first
RR_TYPES = {1: "A", 12: "PTR", 16: "TXT", 28: "AAAA", 33: "SRV", 47: "NSEC"}
Json = dict[str, Any]


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


# ---------------------------------------------------------------- parsing (pure, unit-tested)


def dns_records(dns: Packet) -> list[Json]:
    """The answer and additional records of a DNS packet as plain data."""
    out: list[Json] = []
    for section in ("an", "ar"):
        for rr in getattr(dns, section, None) or []:
            rtype = int(rr.type)
            data: Any
            if rtype == 33:
                data = {"target": _text(rr.target), "port": int(rr.port)}
            elif rtype == 16:
                data = [_text(x) for x in (rr.rdata or [])]
            elif hasattr(rr, "rdata"):
                data = _text(rr.rdata)
            else:
                data = None
            out.append({"section": section, "name": _text(rr.rrname), "type": RR_TYPES.get(rtype, str(rtype)),
                        "ttl": int(rr.ttl), "data": data})
    return out


def _envelope(pkt: Packet, t_send: float) -> Json:
    ms = round((float(pkt.time) - t_send) * 1000, 1)
    if IP not in pkt:  # IPv6: addresses in brackets, as in [fe80::1]:5353
        src, dst = str(pkt[IPv6].src), str(pkt[IPv6].dst)
        return {"ms": ms, "from": f"[{src}]:{pkt[UDP].sport}", "to": f"[{dst}]:{pkt[UDP].dport}",
                "multicast": dst.lower().startswith("ff")}
    return {"ms": ms, "from": f"{pkt[IP].src}:{pkt[UDP].sport}", "to": f"{pkt[IP].dst}:{pkt[UDP].dport}",
            "multicast": _is_multicast(str(pkt[IP].dst))}


def _is_multicast(ip: str) -> bool:
    return 224 <= int(ip.split(".", 1)[0]) <= 239


def parse_mdns_answer(pkt: Packet, t_send: float, query_id: int = 0) -> Json | None:
    """An mDNS response (over IPv4 or IPv6) as plain data; None for queries, other traffic and foreign ids."""
    if (IP not in pkt and IPv6 not in pkt) or UDP not in pkt or DNS not in pkt:
        return None
    dns = pkt[DNS]
    if int(dns.qr) != 1 or (query_id and int(dns.id) != query_id):
        return None
    return {**_envelope(pkt, t_send), "id": int(dns.id), "records": dns_records(dns)}


def parse_ssdp_answer(pkt: Packet, t_send: float) -> Json | None:
    """An SSDP search response (`HTTP/1.1 200 OK` + headers) as plain data; None otherwise."""
    if IP not in pkt or UDP not in pkt or int(pkt[UDP].sport) != SSDP_PORT:
        return None
    raw = bytes(pkt[UDP].payload).decode(errors="replace")
    if not raw.startswith("HTTP/1.1 200"):
        return None
    lines = raw.split("\r\n")
    headers = {ln.split(":", 1)[0].strip().upper(): ln.split(":", 1)[1].strip() for ln in lines[1:] if ":" in ln}
    return {**_envelope(pkt, t_send), "status": lines[0], "headers": headers}


def service_catalog(answers: Sequence[Json]) -> tuple[list[str], list[Json]]:
    """Service types and service instances (SRV target, port, TXT, addresses) in mDNS answers."""
    records = [r for a in answers for r in a.get("records", [])]
    by_type: dict[str, list[Json]] = {}
    for r in records:
        by_type.setdefault(r["type"], []).append(r)
    types = sorted({r["data"] for r in by_type.get("PTR", []) if r["name"].lower() == SERVICES_QNAME})
    addresses: dict[str, set[str]] = {}
    for r in by_type.get("A", []) + by_type.get("AAAA", []):
        addresses.setdefault(r["name"].lower(), set()).add(r["data"])
    instances: list[Json] = []
    for ptr in by_type.get("PTR", []):
        if ptr["name"].lower() == SERVICES_QNAME or any(i["name"] == ptr["data"] for i in instances):
            continue
        if ptr["name"].lower().endswith(".arpa."):  # a responder's reverse mapping (address -> host), not DNS-SD
            continue
        srv = next((r["data"] for r in by_type.get("SRV", []) if r["name"] == ptr["data"]), None)
        txt = next((r["data"] for r in by_type.get("TXT", []) if r["name"] == ptr["data"]), None)
        target = srv["target"] if srv else None
        # a subtype PTR (`_CM._sub._matterc._udp.local.`, RFC 6763 §7.1) names an instance of its base type
        stype = ptr["name"].split("._sub.", 1)[1] if "._sub." in ptr["name"] else ptr["name"]
        instances.append({"type": stype, "name": ptr["data"], "target": target,
                          "port": srv["port"] if srv else None, "txt": txt,
                          "addresses": sorted(addresses.get((target or "").lower(), set()))})
    return types, sorted(instances, key=lambda i: (i["type"], i["name"]))


def ssdp_devices(answers: Sequence[Json]) -> list[Json]:
    """One entry per distinct USN (or responder when a reply has no USN)."""
    seen: dict[str, Json] = {}
    for a in answers:
        h = a["headers"]
        key = h.get("USN") or a["from"]
        seen.setdefault(key, {"usn": h.get("USN"), "st": h.get("ST"), "location": h.get("LOCATION"),
                              "server": h.get("SERVER"), "from": a["from"]})
    return list(seen.values())


def summarize(exchanges: Sequence[Json]) -> Json:
    """Trials sent, answered and the loss; the outcome keeps send errors apart from silence."""
    sent = [e for e in exchanges if e["outcome"] != "send-error"]
    answered = [e for e in sent if e["outcome"] == "answered"]
    outcome = "send-error" if not sent else ("answered" if answered else "no-answer")
    firsts = [e["first_answer_ms"] for e in answered]
    return {"trials": len(exchanges), "sent": len(sent), "answered": len(answered),
            "loss": round(1 - len(answered) / len(sent), 3) if sent else None, "outcome": outcome,
            "first_answer_ms": min(firsts) if firsts else None,
            "errors": sorted({e["error"] for e in exchanges if e["error"]})}


# ---------------------------------------------------------------- packets


def mdns_query(src_mac: str, src_ip: str, qnames: Sequence[str], sport: int = MDNS_PORT,
               qid: int = 0, unicast_response: bool = False) -> Packet:
    questions = [DNSQR(qname=q, qtype="PTR", unicastresponse=int(unicast_response)) for q in qnames]
    return (Ether(src=src_mac, dst=MDNS_MAC) / IP(src=src_ip, dst=MDNS_GROUP, ttl=255)
            / UDP(sport=sport, dport=MDNS_PORT) / DNS(id=qid, rd=0, qd=questions))


def ssdp_search(src_mac: str, src_ip: str, sport: int, st: str = "ssdp:all", mx: int = 1) -> Packet:
    payload = (f"M-SEARCH * HTTP/1.1\r\nHOST: {SSDP_GROUP}:{SSDP_PORT}\r\nMAN: \"ssdp:discover\"\r\n"
               f"MX: {mx}\r\nST: {st}\r\n\r\n").encode()
    return (Ether(src=src_mac, dst=SSDP_MAC) / IP(src=src_ip, dst=SSDP_GROUP, ttl=2)
            / UDP(sport=sport, dport=SSDP_PORT) / Raw(payload))


# ---------------------------------------------------------------- sending and listening


class Interface:
    """The probed interface: its addresses, group memberships and a UDP port to own replies."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.index = socket.if_nametoindex(name)  # OSError when the interface does not exist
        self.mac = netinfo.mac_of(name)
        self.ip = netinfo.require_ipv4(name)
        self._sockets: list[socket.socket] = []

    def join(self, group: str) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                     struct.pack("4s4si", socket.inet_aton(group), b"\0\0\0\0", self.index))
        self._sockets.append(s)

    def own_port(self) -> int:
        """A free UDP port bound on our address, so unicast replies reach an open socket."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((self.ip, 0))
        self._sockets.append(s)
        return int(s.getsockname()[1])

    def close(self) -> None:
        for s in self._sockets:
            s.close()


def not_from(ip: str) -> Callable[[Packet], bool]:
    """The capture filter for IPv4 answers: anything but our own frames."""
    return lambda p: IP in p and p[IP].src != ip


def exchange(iface: str, pkt: Packet, bpf: str, keep: Callable[[Packet], bool],
             parse: Callable[[Packet, float], Json | None], timeout: float, settle: float, label: str,
             resend_after: float | None = RESEND_AFTER) -> Json:
    """Send a query and collect parsed answers until `settle` s after the first, or `timeout`.

    Like a real mDNS querier (RFC 6762 §5.2), the query is sent once more after `resend_after`
    seconds without an answer: a responder stays silent when it multicast the same records
    less than 0.5 s (avahi) to 1 s (RFC) ago, e.g. while it announces its services. `keep`
    drops captured frames that cannot be answers (our own, e.g.).
    """
    got: list[Packet] = []
    started = threading.Event()
    sniffer = AsyncSniffer(iface=iface, filter=bpf, store=False, prn=got.append, lfilter=keep,
                           started_callback=started.set)
    result: Json = {"query": label, "outcome": "send-error", "error": None, "sends": 0, "listen_ms": 0.0,
                    "first_answer_ms": None, "answers": [], "ignored_before_query": 0}
    try:
        sniffer.start()
        if not started.wait(2.0):
            raise OSError(f"could not start capturing on {iface}")
        t_send = time.time()
        sendp(pkt, iface=iface, verbose=False)
        result["sends"] = 1
        if _wait(got, t_send, parse, timeout, settle, resend_after):
            sendp(pkt, iface=iface, verbose=False)
            result["sends"] = 2
            _wait(got, t_send, parse, timeout, settle, None)
    except OSError as exc:
        result["error"] = f"{label}: {exc.strerror or exc}"
        _stop(sniffer)
        return result
    _stop(sniffer)
    result["listen_ms"] = round((time.time() - t_send) * 1000, 1)
    for p in list(got):
        if float(p.time) < t_send:  # unsolicited announcements caught before the query left
            result["ignored_before_query"] += 1
            continue
        answer = parse(p, t_send)
        if answer is not None:
            result["answers"].append(answer)
    result["outcome"] = "answered" if result["answers"] else "no-answer"
    result["first_answer_ms"] = min((a["ms"] for a in result["answers"]), default=None)
    return result


def _wait(got: list[Packet], t_send: float, parse: Callable[[Packet, float], Json | None],
          timeout: float, settle: float, resend_after: float | None) -> bool:
    """Wait for answers; True when it is time to resend (no answer after `resend_after`)."""
    deadline, first = t_send + timeout, None
    while time.time() < deadline:
        if first is None and any(float(p.time) >= t_send and parse(p, t_send) for p in list(got)):
            first = time.time()
            deadline = min(deadline, first + settle)
        if first is None and resend_after is not None and time.time() >= t_send + resend_after < deadline:
            return True
        time.sleep(0.01)
    return False


def _stop(sniffer: AsyncSniffer) -> None:
    if sniffer.running:
        with contextlib.suppress(Exception):  # the sniffer thread may already have died; nothing to free
            sniffer.stop(join=True)


# ---------------------------------------------------------------- probes


def probe_mdns(iface: Interface, trials: int, timeout: float, settle: float, unicast_check: str) -> Json:
    """QM for the service types (N trials), QU for the types found, and a legacy-unicast query.

    The QU query asks for the service types' instances, not the same question again: a
    responder does not multicast records it multicast less than 0.5-1 s ago.
    """
    bpf, keep = f"udp and src port {MDNS_PORT}", not_from(iface.ip)
    parse = parse_mdns_answer
    runs = [exchange(iface.name, mdns_query(iface.mac, iface.ip, [SERVICES_QNAME]), bpf, keep, parse, timeout, settle,
                     f"QM PTR {SERVICES_QNAME}") for _ in range(trials)]
    types, _ = service_catalog([a for r in runs for a in r["answers"]])
    qnames = types or [SERVICES_QNAME]
    qu = exchange(iface.name, mdns_query(iface.mac, iface.ip, qnames, unicast_response=True), bpf, keep, parse,
                  timeout, settle, "QU PTR " + " ".join(qnames))
    answered = any(r["outcome"] == "answered" for r in runs)
    legacy = None
    if unicast_check == "always" or (unicast_check == "auto" and not answered):
        port, qid = iface.own_port(), random.randint(1, 0xFFFF)
        legacy = exchange(iface.name, mdns_query(iface.mac, iface.ip, [SERVICES_QNAME], sport=port, qid=qid),
                          bpf, keep, lambda p, t: parse_mdns_answer(p, t, qid), timeout, settle,
                          f"legacy unicast PTR {SERVICES_QNAME} from port {port}", resend_after=None)
    everything = [a for r in [*runs, qu, legacy] if r for a in r["answers"]]
    types, instances = service_catalog(everything)
    return {**summarize(runs), "exchanges": runs, "qu": qu, "legacy_unicast": legacy,
            "service_types": types, "services": instances,
            "responders": sorted({a["from"].rsplit(":", 1)[0] for a in everything})}


def probe_ssdp(iface: Interface, trials: int, timeout: float, settle: float) -> Json:
    """M-SEARCH ssdp:all (N trials); answers are unicast HTTP 200 replies to our port."""
    runs = []
    for _ in range(trials):
        port = iface.own_port()
        runs.append(exchange(iface.name, ssdp_search(iface.mac, iface.ip, port), f"udp and src port {SSDP_PORT}",
                             not_from(iface.ip), parse_ssdp_answer, timeout, settle, f"M-SEARCH ssdp:all from port {port}"))
    answers = [a for r in runs for a in r["answers"]]
    return {**summarize(runs), "exchanges": runs, "devices": ssdp_devices(answers),
            "responders": sorted({a["from"].rsplit(":", 1)[0] for a in answers})}


def run_probes(iface_name: str, kinds: Sequence[str] = ("mdns", "ssdp"), trials: int = 1, timeout: float = 2.0,
               settle: float = 0.25, promisc: bool = False, unicast_check: str = "auto") -> Json:
    """Run the requested probes (mdns, ssdp, ipv6) on an interface of the current network namespace."""
    conf.verb = 0
    conf.sniff_promisc = promisc
    out: Json = {"probe": "multus-check", "version": 1, "iface": iface_name, "promisc": promisc,
                 "error": None, "src": None}
    # the IPv6 observations (probe_ipv6.py) run beside the IPv4 probes and need no IPv4 address
    ipv6 = _Background(lambda: _observe_ipv6(iface_name, timeout, settle), "ipv6-probe") if "ipv6" in kinds else None
    try:
        _run_ipv4(out, iface_name, kinds, trials, timeout, settle, unicast_check)
    finally:
        if ipv6 is not None:
            out["ipv6"] = ipv6.result()
    return out


def _run_ipv4(out: Json, iface_name: str, kinds: Sequence[str], trials: int, timeout: float, settle: float,
              unicast_check: str) -> None:
    if "mdns" not in kinds and "ssdp" not in kinds:
        return
    try:
        iface = Interface(iface_name)
    except OSError as exc:
        out["error"] = f"interface {iface_name} cannot be probed: {exc.strerror or exc}"
        return
    out["src"] = {"ip": iface.ip, "mac": iface.mac}
    try:
        iface.join(MDNS_GROUP)
        iface.join(SSDP_GROUP)
        # SSDP runs beside mDNS (its own capture filter and port): the probe takes the longer of the two
        ssdp = _Background(lambda: probe_ssdp(iface, trials, timeout, settle), "ssdp-probe") if "ssdp" in kinds else None
        if "mdns" in kinds:
            out["mdns"] = probe_mdns(iface, trials, timeout, settle, unicast_check)
        if ssdp is not None:
            out["ssdp"] = ssdp.result()
    except OSError as exc:
        out["error"] = f"probe on {iface_name} failed: {exc.strerror or exc}"
    finally:
        iface.close()


def _observe_ipv6(iface_name: str, timeout: float, settle: float) -> Json:
    try:
        module = ipv6_module()
    except ImportError as exc:
        return {"iface": iface_name, "error": f"the IPv6 probe could not start: probe_ipv6.py must sit beside "
                                             f"probe_script.py ({type(exc).__name__}: {exc})"}
    result: Json = module.observe(iface_name, timeout, settle)
    return result


def ipv6_module() -> Any:
    """probe_ipv6.py, shipped beside this file: in the package, in the sample pod, or copied by hand."""
    return importlib.import_module(f"{__package__}.probe_ipv6" if __package__ else "probe_ipv6")


class _Background(threading.Thread):
    """Run a probe in a thread (created in this thread's network namespace, so it stays in it)."""

    def __init__(self, fn: Callable[[], Json], name: str) -> None:
        super().__init__(daemon=True, name=name)
        self._fn = fn
        self._value: Json | None = None
        self._error: OSError | None = None
        self.start()

    def run(self) -> None:
        try:
            self._value = self._fn()
        except OSError as exc:
            self._error = exc

    def result(self) -> Json:
        self.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


def exit_code(result: Json) -> int:
    outcomes = [result[k]["outcome"] for k in ("mdns", "ssdp") if k in result]
    v6 = result.get("ipv6") or {}
    outcomes += [v6[k]["outcome"] for k in ("ra", "mdns", "matter") if k in v6]  # "not-run" counts for neither
    if result.get("error") or v6.get("error") or "send-error" in outcomes:
        return 4
    return 3 if "no-answer" in outcomes else 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="mDNS/SSDP and IPv6 (Matter/Thread) probes on one interface; "
                                             "prints one JSON object")
    ap.add_argument("--iface", default="net1")
    ap.add_argument("--probe", choices=["mdns", "ssdp", "ipv6", "all"], default="all",
                    help="ipv6: sysctls, addresses, routes, RAs, mDNS on ff02::fb for Matter, Matter round trips")
    ap.add_argument("--trials", type=int, default=1, help="queries per probe; loss is reported")
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for a first answer")
    ap.add_argument("--settle", type=float, default=0.25, help="seconds to keep listening after it")
    ap.add_argument("--promisc", action="store_true", help="capture promiscuously (hides the macvlan filter)")
    ap.add_argument("--unicast-check", choices=["auto", "always", "never"], default="auto",
                    help="legacy-unicast mDNS query: only when multicast got no answer (auto)")
    a = ap.parse_args(argv)
    if a.trials < 1:
        ap.error("--trials must be at least 1")
    kinds = ("mdns", "ssdp", "ipv6") if a.probe == "all" else (a.probe,)
    result = run_probes(a.iface, kinds, a.trials, a.timeout, a.settle, a.promisc, a.unicast_check)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return exit_code(result)


if __name__ == "__main__":
    sys.exit(main())
