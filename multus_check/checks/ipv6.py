"""The one IPv6 verdict (Matter/Thread readiness of net1), for datapath.ipv6/thread-routes/matter and e2e.*.

Why it exists: `multus-check node` (and `lab run`) and the sample pod run the same IPv6 observation
(probes/probe_ipv6.py: sysctls, addresses, routes, the RAs a Router Solicitation brings, mDNS on
ff02::fb for the Matter types, a Matter round trip) and must reach the same status for the same
observation, with the same cause named (docs/ARCHITECTURE.md, like checks/multicast.py for IPv4).
Each path prefixes its subject; status, reason, message, remediation and evidence come from here.
Pure: it touches nothing.

The rules (matter-thread-ipv6.md):

- `ipv6`: IPv6 on, a usable link-local, and a SLAAC address in every autonomous prefix a router
  advertised. `disable_ipv6=1` fails naming the sysctl; a prefix without an address fails naming
  the sysctl that blocks it (`accept_ra`, `autoconf`, `accept_ra_pinfo`, forwarding). No router
  advertising a prefix is a pass (link-local is what Matter needs on one link), said so.
- `thread-routes`: every Route Information Option (RFC 4191) an RA carried is a `proto ra` route.
  RIO seen but no route: fail naming `accept_ra_rt_info_max_plen` and its value, with the NAD patch.
  No RIO at all: no Thread border router advertised a route, which is no fault of net1: `skip`, or
  `warn` when net1 would ignore such a route (`accept_ra_rt_info_max_plen` below 64). A route that
  appeared only after the probe's own RS is a pass with a note (the CNI `tuning` step runs after
  net1's first RA, so a real pod gets the route with the border router's next periodic RA).
- `matter`: mDNS on ff02::fb answered with a Matter node, and a Matter round trip to it. IPv6 mDNS
  silent while IPv4 mDNS answers on the same interface: fail, "IPv6 multicast dropped" (MLD
  snooping). The round trip to a Thread node impossible because the route is missing is `skip`
  (not reached, see thread-routes), never a pass.
- layers: when `ipv6` does not pass, the two others are `skip` (not reached), never `pass`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from multus_check.model import Status

Json = dict[str, Any]
MATTER_NODE_TYPES = ("_matter._tcp.local.", "_matterc._udp.local.")
BORDER_ROUTER_TYPE = "_meshcop._udp.local."
THREAD_SYSCTLS = {"net.ipv6.conf.IFNAME.accept_ra": "1", "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"}
TUNING_STEP = ('{"type": "tuning", "sysctl": {"net.ipv6.conf.IFNAME.accept_ra": "1", '
               '"net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"}}')
NAD_PATCH = (f"Chain {TUNING_STEP} after the NAD's main plugin, or add those two sysctls to the tuning it already "
             "chains (a single-plugin config becomes a conflist; `multus-check explain nad.ipv6-ready`; "
             "`multus-check --fix` plans it), then recreate the pods that use the NAD.")
DEFRTR_STEP = '{"type": "tuning", "sysctl": {"net.ipv6.conf.IFNAME.accept_ra_defrtr": "0"}}'
DEFRTR_PATCH = (f"Chain {DEFRTR_STEP} in the NAD (`net.ipv6.conf.IFNAME.accept_ra_defrtr=0`: net1 keeps SLAAC and the "
                "Thread routes but takes no default route from RAs), then recreate the pods that use the NAD.")

# reasons
PASS_SLAAC, LINK_LOCAL_ONLY, FORWARDING = "slaac", "link-local-only", "forwarding"
DISABLED, NO_IPV6, NO_LINK_LOCAL, NO_SLAAC, COULD_NOT = "disabled", "no-ipv6", "no-link-local", "no-slaac", "could-not"
INSTALLED, LATE, NO_BORDER_ROUTER, MAX_PLEN, BLOCKED = "installed", "after-rs", "no-border-router", "max-plen", "blocked"
ROUND_TRIP, V6_MULTICAST_DROPPED, SILENT, NO_NODE, NO_ADDRESS = ("round-trip", "ipv6-multicast-dropped", "silent",
                                                                  "no-matter-node", "no-address")
UNREACHABLE, NO_ACK, NOT_REACHED = "unreachable", "no-ack", "not-reached"
MULTICAST_DROPPED = "multicast-dropped"


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str
    message: str
    remediation: str = ""
    evidence: Json = field(default_factory=dict)


def judge(v6: Mapping[str, Any] | None, iface: str, ipv4_mdns: Mapping[str, Any] | None,
          ids: tuple[str, str, str]) -> dict[str, Verdict]:
    """Verdicts for (ipv6, thread-routes, matter), keyed by the path's check ids `ids` (in that order)."""
    first = ipv6_verdict(v6, iface)
    if first.reason == COULD_NOT:  # could not look is an error on all three, not "not reached"
        return dict.fromkeys(ids, first)
    if first.status not in (Status.PASS, Status.WARN) or v6 is None:
        why = f"Not reached: {ids[0]} did not pass ({first.reason})."
        return {ids[0]: first, ids[1]: Verdict(Status.SKIP, NOT_REACHED, why),
                ids[2]: Verdict(Status.SKIP, NOT_REACHED, why)}
    routes = thread_routes_verdict(v6, iface)
    return {ids[0]: first, ids[1]: routes, ids[2]: matter_verdict(v6, iface, ipv4_mdns, routes, ids[1])}


# ---------------------------------------------------------------- ipv6


def _sysctl(v6: Mapping[str, Any], key: str) -> int | None:
    value = (v6.get("sysctls") or {}).get(key)
    return value if isinstance(value, int) else None


def ipv6_verdict(v6: Mapping[str, Any] | None, iface: str) -> Verdict:
    if v6 is None:
        return Verdict(Status.ERROR, COULD_NOT, "Could not look: the IPv6 observation did not run.",
                       "Run again with -vv; the probe needs scapy and probe_ipv6.py beside probe_script.py.")
    if v6.get("error"):
        return Verdict(Status.ERROR, COULD_NOT, f"Could not look: {v6['error']}.", "Check the interface.")
    disabled = _sysctl(v6, "disable_ipv6")
    if disabled is None:
        return Verdict(Status.FAIL, NO_IPV6, f"{iface} has no IPv6 at all (no /proc/sys/net/ipv6/conf/{iface}): the "
                       "kernel runs without IPv6 (booted with ipv6.disable=1?). Matter is IPv6 only.",
                       "Boot the node without ipv6.disable=1.", evidence={"sysctls": v6.get("sysctls")})
    if disabled == 1:
        return Verdict(Status.FAIL, DISABLED, f"IPv6 is disabled on {iface}: net.ipv6.conf.{iface}.disable_ipv6=1, so "
                       f"{iface} has no IPv6 address and Matter (IPv6 only) cannot work over it.",
                       "Remove `net.ipv6.conf.IFNAME.disable_ipv6` from the NAD's tuning step (or set it to \"0\"), "
                       "check net.ipv6.conf.default.disable_ipv6 on the node, then recreate the pods.",
                       evidence={"sysctls": v6.get("sysctls")})
    addrs: list[Json] = list(v6.get("addresses") or [])
    ev: Json = {"sysctls": v6.get("sysctls"), "addresses": addrs, "dad_wait_ms": v6.get("dad_wait_ms")}
    link_local = next((a["address"] for a in addrs if a.get("scope") == "link" and not a.get("tentative")
                       and not a.get("dadfailed")), None)
    if link_local is None:
        dadfailed = any(a.get("dadfailed") for a in addrs)
        return Verdict(Status.FAIL, NO_LINK_LOCAL, f"{iface} has no usable IPv6 link-local address"
                       + (" (duplicate address detection failed: another host uses the same MAC?)" if dadfailed
                          else " (still tentative after 1.5 s, or none was made)") + ".",
                       "Check for a duplicate MAC on the LAN and `sysctl net.ipv6.conf.IFNAME.addr_gen_mode`.", evidence=ev)
    return _slaac(v6, iface, link_local, addrs, ev)


def _advertised(v6: Mapping[str, Any]) -> list[Json]:
    """Autonomous prefixes (SLAAC) in the RAs the probe saw, with their router."""
    ra = v6.get("ra") or {}
    out: list[Json] = []
    for answer in ra.get("answers") or []:
        for p in answer.get("prefixes") or []:
            net = ipaddress.IPv6Network(p["prefix"], strict=False)
            if p.get("autonomous") and p.get("valid_lifetime", 1) > 0 and net.prefixlen == 64 \
                    and not any(o["prefix"] == p["prefix"] for o in out):
                out.append({"prefix": p["prefix"], "router": answer.get("from")})
    return out


def _in(address: str, prefix: str) -> bool:
    return ipaddress.IPv6Address(address.split("%")[0]) in ipaddress.IPv6Network(prefix, strict=False)


def _slaac(v6: Mapping[str, Any], iface: str, link_local: str, addrs: list[Json], ev: Json) -> Verdict:
    prefixes = _advertised(v6)
    ev["advertised_prefixes"] = prefixes
    got = {p["prefix"]: [a for a in addrs if a.get("scope") == "global" and not a.get("dadfailed")
                         and _in(a["address"], p["prefix"])] for p in prefixes}
    missing = [p for p in prefixes if not got[p["prefix"]]]
    if missing:
        blocker = _slaac_blocker(v6, iface)
        return Verdict(Status.FAIL, NO_SLAAC, f"{missing[0]['router']} advertises the prefix {missing[0]['prefix']} for "
                       f"SLAAC, but {iface} has no address in it: {blocker}.",
                       "Set the sysctl named above in the NAD's tuning step (`net.ipv6.conf.IFNAME.<key>`), then "
                       "recreate the pods.", evidence=ev)
    forwarding = _sysctl(v6, "forwarding") == 1
    found = [a for p in prefixes for a in got[p["prefix"]]]
    tentative = " (still tentative: duplicate address detection had not finished)" if any(
        a.get("tentative") for a in found) else ""
    said = (f"{iface} has IPv6: link-local {link_local} and SLAAC "
            f"{', '.join(a['address'] for a in found)} in {', '.join(p['prefix'] for p in prefixes)}{tentative}"
            if prefixes else f"{iface} has IPv6: link-local {link_local}; no router advertised a SLAAC prefix "
            f"({_ra_said(v6)}), and a link-local address is all Matter needs on one link")
    if forwarding:
        return Verdict(Status.WARN, FORWARDING, f"{said}. But IPv6 forwarding is on "
                       f"(net.ipv6.conf.{iface}.forwarding=1): the kernel then skips router reachability probing "
                       "(RFC 4191), so a Thread border router's outage lasts up to 30 minutes.",
                       "Set `net.ipv6.conf.IFNAME.forwarding` to \"0\" in the NAD's tuning step.", evidence=ev)
    return Verdict(Status.PASS, PASS_SLAAC if prefixes else LINK_LOCAL_ONLY, said + ".", evidence=ev)


def _ra_said(v6: Mapping[str, Any]) -> str:
    ra = v6.get("ra") or {}
    if ra.get("outcome") == "answered":
        return f"the RAs from {', '.join(sorted({a['from'] for a in ra.get('answers') or []}))} carry none"
    return "no router answered a Router Solicitation"


def _slaac_blocker(v6: Mapping[str, Any], iface: str) -> str:
    accept_ra, forwarding = _sysctl(v6, "accept_ra"), _sysctl(v6, "forwarding")
    for key, bad in (("accept_ra", accept_ra == 0), ("autoconf", _sysctl(v6, "autoconf") == 0),
                     ("accept_ra_pinfo", _sysctl(v6, "accept_ra_pinfo") == 0)):
        if bad:
            return f"net.ipv6.conf.{iface}.{key}=0, so the kernel ignores it"
    if forwarding == 1 and accept_ra == 1:
        return (f"net.ipv6.conf.{iface}.forwarding=1 with accept_ra=1, and a forwarding interface ignores RAs "
                "unless accept_ra=2")
    return "the sysctls allow SLAAC (accept_ra, autoconf, accept_ra_pinfo), so its duplicate address detection failed"


# ---------------------------------------------------------------- thread-routes


def _rios(v6: Mapping[str, Any]) -> list[Json]:
    out: list[Json] = []
    for answer in (v6.get("ra") or {}).get("answers") or []:
        for r in answer.get("routes") or []:
            if r.get("lifetime", 1) > 0 and not any(o["prefix"] == r["prefix"] for o in out):
                out.append({**r, "router": answer.get("from")})
    return out


def _route_for(routes: Sequence[Json], prefix: str) -> Json | None:
    return next((r for r in routes if r.get("dst") == prefix and r.get("protocol") == "ra"), None)


def thread_routes_verdict(v6: Mapping[str, Any], iface: str) -> Verdict:
    rios, routes = _rios(v6), list(v6.get("routes") or [])
    max_plen = _sysctl(v6, "accept_ra_rt_info_max_plen")
    ev: Json = {"route_information": rios, "routes": routes, "routes_before_rs": v6.get("routes_before_rs"),
                "accept_ra_rt_info_max_plen": max_plen}
    if not rios:
        return _no_border_router(v6, iface, max_plen, ev)
    missing = [r for r in rios if _route_for(routes, r["prefix"]) is None]
    if missing:
        return _route_missing(v6, iface, missing, max_plen, ev)
    before = list(v6.get("routes_before_rs") or [])
    late = [r["prefix"] for r in rios if _route_for(before, r["prefix"]) is None]
    ev["appeared_after_rs"] = late
    said = "; ".join(f"{r['prefix']} via {(_route_for(routes, r['prefix']) or {}).get('gateway')}" for r in rios)
    if late:
        return Verdict(Status.PASS, LATE, f"The Thread route(s) a border router advertises (RIO) are installed on "
                       f"{iface} (proto ra): {said}. {', '.join(late)} appeared only after the probe's Router "
                       "Solicitation: the CNI tuning step sets the sysctl after net1 has processed its first RA, so a "
                       "new pod reaches Thread devices only after the border router's next periodic RA (seconds to "
                       "a few minutes).", evidence=ev)
    return Verdict(Status.PASS, INSTALLED, f"The Thread route(s) a border router advertises (RIO) are installed on "
                   f"{iface} (proto ra): {said}.", evidence=ev)


def _no_border_router(v6: Mapping[str, Any], iface: str, max_plen: int | None, ev: Json) -> Verdict:
    ev["ra_said"] = _ra_said(v6).replace("carry none", "carry no RIO")
    said = f"No Thread border router advertised a route ({ev['ra_said']})"
    if max_plen is not None and max_plen >= 64:
        return Verdict(Status.SKIP, NO_BORDER_ROUTER, f"{said}; {iface} would accept one "
                       f"(accept_ra_rt_info_max_plen={max_plen}). Nothing to check unless Thread devices are used.", evidence=ev)
    return Verdict(Status.WARN, NO_BORDER_ROUTER, f"{said}. Were one on the LAN, {iface} would ignore its route: "
                   f"net.ipv6.conf.{iface}.accept_ra_rt_info_max_plen={max_plen} (a Thread prefix is a /64), so "
                   "Thread devices would be unreachable.", NAD_PATCH, evidence=ev)


def _long_rio_patch(plen: int) -> str:
    """A RIO longer than the /64 the usual patch covers: the border router's choice, or a larger max_plen."""
    return (f"A Thread mesh prefix is a /64, so check the border router's configuration first; to accept this /{plen} "
            f"route anyway, set \"net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen\": \"{plen}\" in the NAD's tuning "
            "step, then recreate the pods that use the NAD.")


def _route_missing(v6: Mapping[str, Any], iface: str, missing: list[Json], max_plen: int | None,
                   ev: Json) -> Verdict:
    rio = missing[0]
    plen = ipaddress.IPv6Network(rio["prefix"], strict=False).prefixlen
    head = (f"{rio['router']} advertises the Thread route {rio['prefix']} (RIO, {rio.get('preference')} preference), "
            f"but {iface} has no route to it, so Thread devices behind the border router are unreachable: ")
    if max_plen is None or max_plen < plen:
        return Verdict(Status.FAIL, MAX_PLEN, head + f"net.ipv6.conf.{iface}.accept_ra_rt_info_max_plen={max_plen}, "
                       f"and the kernel ignores Route Information Options longer than it (this one is /{plen}; a fresh "
                       "pod namespace has 0).", NAD_PATCH if plen <= 64 else _long_rio_patch(plen), evidence=ev)
    min_plen = _sysctl(v6, "accept_ra_rt_info_min_plen")
    for key, bad in (("accept_ra", _sysctl(v6, "accept_ra") == 0),
                     ("accept_ra_rt_info_min_plen", min_plen is not None and min_plen > plen)):
        if bad:
            return Verdict(Status.FAIL, BLOCKED, head + f"net.ipv6.conf.{iface}.{key}={_sysctl(v6, key)}.", NAD_PATCH,
                           evidence=ev)
    if _sysctl(v6, "forwarding") == 1 and _sysctl(v6, "accept_ra") == 1:
        return Verdict(Status.FAIL, BLOCKED, head + f"net.ipv6.conf.{iface}.forwarding=1 with accept_ra=1 (a "
                       "forwarding interface ignores RAs unless accept_ra=2).", NAD_PATCH, evidence=ev)
    return Verdict(Status.FAIL, BLOCKED, head + "the sysctls allow it (the kernel lacks CONFIG_IPV6_ROUTE_INFO?).",
                   "Check the node kernel's CONFIG_IPV6_ROUTE_INFO and CONFIG_IPV6_ROUTER_PREF.", evidence=ev)


# ---------------------------------------------------------------- matter


def _brief_mdns(mdns: Mapping[str, Any]) -> Json:
    keep = ("outcome", "sent", "answered", "first_answer_ms", "responders", "service_types", "services", "error")
    return {k: mdns.get(k) for k in keep if k in mdns}


def matter_verdict(v6: Mapping[str, Any], iface: str, ipv4_mdns: Mapping[str, Any] | None, routes: Verdict,
                   routes_id: str) -> Verdict:
    mdns, trip = dict(v6.get("mdns") or {}), dict(v6.get("matter") or {})
    ev: Json = {"mdns": _brief_mdns(mdns), "matter": trip}
    if "answered" not in (mdns.get("outcome"), (mdns.get("qu") or {}).get("outcome")):
        return _mdns_silent(mdns, iface, ipv4_mdns, ev)
    services = list(mdns.get("services") or [])
    nodes = [s for s in services if s.get("type") in MATTER_NODE_TYPES]
    routers = [s["name"] for s in services if s.get("type") == BORDER_ROUTER_TYPE]
    found = (f"mDNS on ff02::fb found {len(nodes)} Matter node record(s) "
             f"({', '.join(sorted({s['type'].rstrip('.') for s in nodes}))})"
             + (f" and {len(routers)} Thread border router(s)" if routers else "")
             + f", answered by {', '.join(mdns.get('responders') or [])}")
    if not nodes:
        return Verdict(Status.WARN, NO_NODE, f"mDNS over IPv6 works on {iface} (answered by "
                       f"{', '.join(mdns.get('responders') or [])}), but no Matter node advertises _matter._tcp or "
                       f"_matterc._udp{' (Thread border routers: ' + ', '.join(routers) + ')' if routers else ''}: "
                       "no Matter device to reach.", "Check that the Matter devices are powered and on this LAN "
                       "(or, for Thread devices, that the border router proxies their records).", evidence=ev)
    return _round_trip(trip, iface, found, routes, routes_id, ev)


def _mdns_silent(mdns: Mapping[str, Any], iface: str, ipv4_mdns: Mapping[str, Any] | None, ev: Json) -> Verdict:
    if mdns.get("outcome") in ("send-error", "not-run"):
        why = mdns.get("error") or "; ".join(mdns.get("errors") or []) or mdns.get("reason") or "unknown"
        return Verdict(Status.ERROR, COULD_NOT, f"Could not send mDNS on ff02::fb from {iface}: {why}.",
                       "Check that the interface is up and has an IPv6 link-local address.", evidence=ev)
    ipv4_ok = bool(ipv4_mdns) and (ipv4_mdns or {}).get("outcome") == "answered"
    ev["ipv4_mdns"] = (ipv4_mdns or {}).get("outcome")
    if ipv4_ok:
        return Verdict(Status.FAIL, V6_MULTICAST_DROPPED, f"IPv6 multicast dropped: mDNS on ff02::fb (QM, resent, and "
                       f"QU) got no answer on {iface}, while IPv4 mDNS on 224.0.0.251 is answered on "
                       f"the same interface by {', '.join((ipv4_mdns or {}).get('responders') or [])}. A switch or access "
                       "point with MLD snooping and no MLD querier (or a filter) drops IPv6 multicast, so no Matter "
                       "device can be discovered.", "Turn off MLD snooping on the switch/AP, or make something on the "
                       "LAN an MLD querier; check nftables/ip6tables on the node for dropped ff02::fb.", evidence=ev)
    if ((ipv4_mdns or {}).get("legacy_unicast") or {}).get("outcome") == "answered":
        ev["ipv4_legacy_unicast"] = "answered"
        return Verdict(Status.FAIL, MULTICAST_DROPPED, f"Multicast dropped: no mDNS answer on ff02::fb reached {iface}, "
                       "and IPv4 mDNS answered only its legacy-unicast query: a responder is there, but multicast "
                       f"towards {iface} is dropped, IPv6 and IPv4 alike, so no Matter device can be discovered.",
                       "Turn off IGMP/MLD snooping on the switch/AP (or make something on the LAN a querier) and "
                       "check nftables/ip6tables on the node (see datapath.mdns/e2e.mdns).", evidence=ev)
    return Verdict(Status.FAIL, SILENT, f"No mDNS answer on ff02::fb reached {iface}, and IPv4 mDNS "
                   "got none either: nothing on this LAN answers mDNS, or multicast is dropped both ways. No Matter "
                   "device can be discovered.", "See datapath.mdns/e2e.mdns for IPv4; check that the Matter devices "
                   "and border routers are on this LAN segment.", evidence=ev)


def _round_trip(trip: Json, iface: str, found: str, routes: Verdict, routes_id: str, ev: Json) -> Verdict:
    targets: list[Json] = list(trip.get("targets") or [])
    rio = [r["prefix"] for r in routes.evidence.get("route_information") or []]
    answered = [t for t in targets if t.get("outcome") == "answered"]
    if answered:
        t = answered[0]
        across = next((f" across the Thread route {p}" for p in rio if _in(t["address"], p)), "")
        return Verdict(Status.PASS, ROUND_TRIP, f"{found}; the Matter node at [{t['address']}]:{t['port']} acknowledged "
                       f"a message from {t.get('source')}{across} in {t.get('rtt_ms')} ms.", evidence=ev)
    if trip.get("outcome") == "not-run" or not targets:
        return Verdict(Status.WARN, NO_ADDRESS, f"{found}, but none names an IPv6 address and port to reach "
                       f"({trip.get('reason') or 'no target'}).", "Check the devices' AAAA records.", evidence=ev)
    t = targets[0]
    if trip.get("outcome") == "send-error":
        if routes.status is Status.FAIL:
            return Verdict(Status.SKIP, NOT_REACHED, f"{found}; the round trip to [{t['address']}]:{t['port']} was not "
                           f"possible ({t.get('error')}): not reached, {routes_id} failed.", evidence=ev)
        if routes.reason == NO_BORDER_ROUTER:
            return Verdict(Status.FAIL, UNREACHABLE, f"{found}, but {iface} has no route to the Matter node "
                           f"({t.get('error')}), and no Thread border router advertised one "
                           f"({routes.evidence.get('ra_said')}).",
                           "Check that the Thread border router is up and that its Router Advertisements reach this "
                           "LAN (`ip -6 route show dev net1` should list the Thread prefix `proto ra`).", evidence=ev)
        return Verdict(Status.FAIL, UNREACHABLE, f"{found}, but {iface} cannot send to the Matter node: {t.get('error')}.",
                       "Check the IPv6 routes of net1 (`ip -6 route`) and the border router.", evidence=ev)
    refused = [x for x in targets if x.get("icmp_error")]
    if refused and len(refused) == len(targets):
        return _icmp_error(refused[0], iface, found, ev)
    where = ", ".join(f"[{x['address']}]:{x['port']}" for x in targets)
    return Verdict(Status.FAIL, NO_ACK, f"{found}, but no Matter node ({where}) acknowledged a message within "
                   f"{trip.get('timeout_s')} s: the path to it drops UDP (a firewall, or the border router does not "
                   "forward to the Thread mesh).", "Check the border router and any IPv6 firewall between net1 and "
                   "the devices (sleepy Thread devices may also need longer).", evidence=ev)


def _icmp_error(t: Json, iface: str, found: str, ev: Json) -> Verdict:
    """The round trip drew an ICMPv6 error: the host or its border router answered, the Matter node did not."""
    at, err = f"[{t['address']}]:{t['port']}", t["icmp_error"]
    if "refused" in err.lower():  # ICMPv6 port unreachable
        return Verdict(Status.FAIL, NO_ACK, f"{found}, but {at} answered the Matter message with ICMPv6 port "
                       f"unreachable ({err}): the path from {iface} works, and nothing listens on that port (the "
                       "device's Matter stack is not running, or the advertised port is stale).",
                       "Restart or power-cycle the Matter device and look at the port in its SRV record "
                       "(`_matter._tcp`); a stale record clears when the device re-announces.", evidence=ev)
    return Verdict(Status.FAIL, NO_ACK, f"{found}, but the Matter message to {at} drew an ICMPv6 error ({err}): the "
                   "device is off or has left the Thread mesh, or a router or firewall on the way rejects the "
                   "traffic.", "Check that the device is powered and joined to the Thread network, and any IPv6 "
                   "firewall between net1 and the border router.", evidence=ev)


# ---------------------------------------------------------------- the IPv6 twin of the DHCP default route


def ra_default_routes(v6: Mapping[str, Any] | None, dev: str | None = None) -> list[Json]:
    """IPv6 default routes learned from RAs (`proto ra`), on `dev` when the routes name devices."""
    routes = list((v6 or {}).get("routes") or [])
    return [r for r in routes if r.get("dst") == "default" and r.get("protocol") == "ra"
            and (dev is None or r.get("dev") in (None, dev))]
