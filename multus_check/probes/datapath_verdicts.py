"""The verdicts of the node data-path checks: a data-path observation into one finding per layer (pure; no I/O).

Each failure is attributed to its layer with the plugin's exact error; layers after a failed
one are `skip` ("not reached"), never `pass`. Facts: multus-cni.md §4 (error texts), §5-§6,
netns-lab.md §3-§5 (timings, the leak, multicast behaviour).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from multus_check.checks import datapath as c
from multus_check.checks import ipv6 as ipv6_rule
from multus_check.checks import multicast
from multus_check.checks.spec import spec_of
from multus_check.model import Finding, Status
from multus_check.probes.datapath_probe import DatapathObservation


class _Verdicts:
    """Findings by check id for one observation, with helpers that fill in subject and severity."""

    def __init__(self, obs: DatapathObservation) -> None:
        self.obs = obs
        self.subject = f"node/{obs.options.node}"
        self.nad = obs.options.conf.name
        self.out: dict[str, Finding] = {}

    def set(self, cid: str, status: Status, message: str, remediation: str = "", **evidence: Any) -> None:
        self.out[cid] = Finding(cid, status, spec_of(cid).severity, self.subject, message, evidence,
                                remediation if status in (Status.FAIL, Status.WARN, Status.ERROR) else "")

    def skip_rest(self, reason: str) -> None:
        for cid in c.LAYERS:
            self.out.setdefault(cid, Finding(cid, Status.SKIP, spec_of(cid).severity, self.subject,
                                             f"Not reached: {reason}.", {}))


def judge(obs: DatapathObservation) -> list[Finding]:
    v = _Verdicts(obs)
    _plugins(v)
    _dhcp_daemon(v)
    _master(v)
    if obs.add_blocked:
        v.skip_rest(f"CNI ADD was not attempted because {obs.add_blocked}")
    elif obs.add is not None and not obs.add.ok:
        _add_failed(v)
    elif obs.add is not None:
        _attached(v)
    else:
        v.skip_rest("CNI ADD did not run (the throwaway namespace could not be created)")
    _cleanup(v)
    return [v.out[cid] for cid in (*c.LAYERS, c.CLEANUP) if cid in v.out]


def _plugins(v: _Verdicts) -> None:
    path = v.obs.options.cni_path
    missing = [name for name, where in v.obs.plugins.items() if where is None]
    ev: dict[str, Any] = {"cni_path": path, "found": {k: w for k, w in v.obs.plugins.items() if w}, "missing": missing}
    if missing:
        v.set(c.PLUGINS, Status.FAIL, f"NAD {v.nad}: {', '.join(missing)} not found in CNI_PATH; pods fail with "
              f"`failed to find plugin \"{missing[0]}\" in path [{' '.join(path)}]`.",
              f"Install the reference CNI plugins into {path[0] if path else '/opt/cni/bin'} "
              "(Debian: containernetworking-plugins, binaries in /usr/lib/cni).", **ev)
    else:
        v.set(c.PLUGINS, Status.PASS, f"NAD {v.nad}: {', '.join(v.obs.plugins)} found in {' '.join(path)}.", **ev)


def _dhcp_daemon(v: _Verdicts) -> None:
    sock = v.obs.dhcp_socket
    if sock is None:
        ipam = v.obs.options.conf.ipam.get("type") or "none"
        v.set(c.DHCP_DAEMON, Status.SKIP, f"NAD {v.nad} uses IPAM {ipam!r}, which does not use the DHCP daemon.")
        return
    ev: dict[str, Any] = {"socket": sock.path, "kind": sock.kind, "live": sock.live, "connect_error": sock.error}
    fix = (f"Start the CNI DHCP daemon on this node (`rm -f {sock.path}; /opt/cni/bin/dhcp daemon &`, the "
           "reference DaemonSet, or Debian's `systemctl enable --now cni-dhcp.socket`).")
    if sock.kind == "missing":
        v.set(c.DHCP_DAEMON, Status.FAIL, f"No DHCP daemon socket at {sock.path}: no CNI dhcp daemon runs on this "
              "node.", fix, **ev)
    elif sock.kind != "socket":
        v.set(c.DHCP_DAEMON, Status.FAIL, f"{sock.path} is a {sock.kind}, not a socket.", fix, **ev)
    elif not sock.live:
        v.set(c.DHCP_DAEMON, Status.FAIL, f"The DHCP daemon socket {sock.path} is dead ({sock.error}): a stale socket "
              "left by a daemon that exited.", fix, **ev)
    else:
        v.set(c.DHCP_DAEMON, Status.PASS, f"A DHCP daemon answers on {sock.path}.", **ev)


def _master(v: _Verdicts) -> None:
    m = v.obs.master
    where = f"namespace {v.obs.options.node_netns}" if v.obs.options.node_netns else f"node {v.obs.options.node}"
    if m is None:
        v.set(c.MASTER, Status.SKIP, f"NAD {v.nad} names no master (plugin {v.obs.options.conf.main.get('type')}).")
        return
    ev: dict[str, Any] = {"master": m.name, "exists": m.exists, "admin_up": m.admin_up, "operstate": m.operstate,
                          "ipv4": list(m.ipv4)}
    if not m.exists:
        v.set(c.MASTER, Status.FAIL, f"The master {m.name} of NAD {v.nad} does not exist on {where}; the plugin "
              "says only `Link not found`.", "Set \"master\" to this node's LAN NIC.", **ev)
    elif not (m.admin_up and m.operstate in ("UP", "UNKNOWN")):
        state = "administratively down" if not m.admin_up else f"operstate {m.operstate} (no carrier?)"
        v.set(c.MASTER, Status.FAIL, f"The master {m.name} of NAD {v.nad} is {state}; a pod's DHCP would only fail "
              "after ~35 s with `error calling DHCP.Allocate: no more tries`.",
              f"`ip link set {m.name} up` and check its cable/switch port.", **ev)
    else:
        v.set(c.MASTER, Status.PASS, f"The master {m.name} of NAD {v.nad} exists and is up on {where}.", **ev)


def attribute(msg: str, obs: DatapathObservation) -> str:
    """The layer an ADD error belongs to, from the plugin's own message (multus-cni.md §4)."""
    if "failed to find plugin" in msg:
        return c.PLUGINS
    if "error dialing DHCP daemon" in msg:
        return c.DHCP_DAEMON
    if msg.strip() == "Link not found" or "failed to lookup master" in msg:
        return c.MASTER
    if any(s in msg for s in ("no more tries", "no DHCP packet", "unable to receive an offer", "DHCP.Allocate")):
        return c.MASTER if obs.master is not None and not obs.master.exists else c.LEASE
    return c.ATTACH


def _add_failed(v: _Verdicts) -> None:
    call = v.obs.add
    assert call is not None
    layer = attribute(call.error_msg, v.obs)
    exact = f"CNI ADD ({call.plugin}) failed after {call.seconds:.1f} s: `{call.error_msg}`"
    ev: dict[str, Any] = {"add": call.to_dict()}
    if layer == c.LEASE:
        v.set(c.LEASE, Status.FAIL, f"No DHCP offer: the dhcp IPAM waited {call.seconds:.1f} s and gave up "
              f"(`{call.error_msg}`). The master is up, so the DHCP server did not answer frames from the macvlan MAC.",
              "Check the DHCP server (does its log show the DISCOVER?), that the switch/AP/hypervisor passes "
              "frames from extra MACs (no Wi-Fi master, promiscuous/forged transmits on VMs), or try "
              "`dhcp daemon -broadcast`.", **ev)
        v.set(c.ATTACH, Status.SKIP, f"CNI ADD failed in its IPAM step (see {c.LEASE}).")
    elif layer == c.ATTACH:
        v.set(c.ATTACH, Status.FAIL, exact + ".", "See the plugin's message; multus-cni.md §4 lists known causes.", **ev)
    else:
        prior = v.out.get(layer)
        base = prior.message + " " if prior is not None and prior.status is Status.FAIL else ""
        evidence = {**(dict(prior.evidence) if prior else {}), **ev}
        v.set(layer, Status.FAIL, base + exact + ".", prior.remediation if prior else "", **evidence)
    v.skip_rest(f"CNI ADD failed at {layer}")


def _attached(v: _Verdicts) -> None:
    call = v.obs.add
    assert call is not None
    ifname = v.obs.options.ifname
    v.set(c.ATTACH, Status.PASS, f"CNI ADD of NAD {v.nad} created {ifname} in {call.seconds:.1f} s.",
          add=call.to_dict(), addresses=list(v.obs.pod_addresses))
    ips = [ip for ip in (call.result or {}).get("ips", []) if ":" not in str(ip.get("address", ""))]
    if not ips:
        v.set(c.LEASE, Status.FAIL, f"CNI ADD returned no IPv4 address for {ifname}.", "Check the NAD's ipam section.",
              result=call.result)
        v.skip_rest(f"{ifname} has no IPv4 address")
        return
    _lease(v, str(ips[0]["address"]), ips[0].get("gateway"))
    _routes(v, ips[0].get("gateway"))
    _mdns(v)
    _ssdp(v)
    _ipv6(v)


def _lease_subnets(v: _Verdicts) -> tuple[list[ipaddress.IPv4Network], str]:
    if v.obs.options.lan_subnet:
        return [ipaddress.IPv4Network(v.obs.options.lan_subnet, strict=False)], "--lan-subnet"
    m = v.obs.master
    nets = [ipaddress.IPv4Interface(a).network for a in (m.ipv4 if m else ())]
    return nets, f"master {m.name}" if m else "master"


def _lease(v: _Verdicts, address: str, gateway: Any) -> None:
    iface = ipaddress.IPv4Interface(address)
    nets, source = _lease_subnets(v)
    ev: dict[str, Any] = {"address": address, "gateway": gateway, "expected_subnets": [str(n) for n in nets],
                          "subnet_source": source,
          "add_seconds": round(v.obs.add.seconds, 3) if v.obs.add else None}
    if not nets:
        v.set(c.LEASE, Status.WARN, f"Got {address} via {gateway}, but the {source} has no IPv4 address to compare "
              "it with.", "Pass --lan-subnet CIDR to check that the lease comes from the LAN.", **ev)
    elif not any(iface.ip in n for n in nets):
        v.set(c.LEASE, Status.FAIL, f"The lease {address} lies outside the {source} subnet "
              f"{', '.join(map(str, nets))}: another DHCP server answered, or the master is on the wrong VLAN.",
              "Find the rogue DHCP server (its address is the gateway) or fix the master/VLAN.", **ev)
    else:
        v.set(c.LEASE, Status.PASS, f"DHCP lease {address} (gateway {gateway}) lies in the {source} subnet "
              f"{', '.join(map(str, nets))}.", **ev)


def _routes(v: _Verdicts, gateway: Any) -> None:
    ifname = v.obs.options.ifname
    mine = [r for r in v.obs.pod_routes if r.get("dev") == ifname]
    defaults = [r for r in mine if r.get("dst") == "default"]
    ev: dict[str, Any] = {"routes": mine}
    v6_defaults = ipv6_rule.ra_default_routes((v.obs.probe or {}).get("ipv6"))
    if not mine:
        v.set(c.ROUTES, Status.FAIL, f"No route uses {ifname} after ADD.", "Check the IPAM result.", **ev)
    elif v6_defaults:
        _ipv6_default_route(v, v6_defaults, defaults, ev)
    elif defaults:
        gw = defaults[0].get("gateway")
        v.set(c.ROUTES, Status.WARN, f"{ifname} installs a default route via {gw} (DHCP option 3). In a Multus pod "
              "this is a second default route, listed before eth0's, so traffic for the Service CIDR and cluster "
              "DNS can leave via the LAN (flannel-k3s.md §3.3).",
              "Make sure Service and pod CIDRs stay routed via eth0 (see `multus-check explain cidr.service-routing`), "
              "or have the DHCP server omit the router option for these clients.", gateway=gw, **ev)
    elif not isinstance((v.obs.probe or {}).get("ipv6"), dict):  # IPv6 probe off: an RA default route unseen
        v.set(c.ROUTES, Status.PASS, f"{ifname} has {len(mine)} route(s) and no IPv4 default route; its IPv6 routes "
              "were not looked at (the IPv6 probe did not run: --no-probe, or every IPv6 check skipped).", **ev)
    else:
        v.set(c.ROUTES, Status.PASS, f"{ifname} has {len(mine)} route(s) and no default route.", **ev)


def _ipv6_default_route(v: _Verdicts, v6: list[dict[str, Any]], v4: list[dict[str, Any]], ev: dict[str, Any]) -> None:
    """The IPv6 twin of the DHCP default route: net1 takes a default route from a router's RA."""
    ifname = v.obs.options.ifname
    also = (f" It also has an IPv4 default route via {v4[0].get('gateway')} (DHCP option 3), listed before eth0's."
            if v4 else "")
    v.set(c.ROUTES, Status.WARN, f"{ifname} learns an IPv6 default route via {v6[0].get('gateway')} from a router's RA "
          f"(proto ra, net.ipv6.conf.{ifname}.accept_ra_defrtr=1). In a dual-stack cluster it competes with eth0's "
          f"IPv6 default route, so IPv6 Service and cluster traffic can leave via the LAN.{also}",
          ipv6_rule.DEFRTR_PATCH + (" For IPv4: see `multus-check explain cidr.service-routing`." if v4 else ""),
          ipv6_defaults=v6, **ev)


def _ipv6(v: _Verdicts) -> None:
    """datapath.ipv6/thread-routes/matter by the one IPv6 verdict (checks/ipv6.py) the sample pod uses too."""
    ids = (c.IPV6, c.THREAD_ROUTES, c.MATTER)
    if "ipv6" not in v.obs.options.probes:
        for cid in ids:
            v.set(cid, Status.SKIP, "The IPv6 probe was not requested (--no-probe).")  # or every IPv6 check --skip'ped
        return
    if v.obs.probe_error or v.obs.probe is None:
        for cid in ids:
            v.set(cid, Status.ERROR, f"Could not probe: {v.obs.probe_error or 'the probe did not run'}.",
                  "Run again with -vv; the probe needs scapy and libpcap.")
        return
    verdicts = ipv6_rule.judge(v.obs.probe.get("ipv6"), v.obs.options.ifname, v.obs.probe.get("mdns"), ids)
    for cid, verdict in verdicts.items():
        v.set(cid, verdict.status, verdict.message, verdict.remediation, **verdict.evidence)


def _probe_section(v: _Verdicts, cid: str, key: str) -> dict[str, Any] | None:
    if key not in v.obs.options.probes:
        v.set(cid, Status.SKIP, f"The {key} probe was not requested (--no-probe).")
        return None
    if v.obs.probe_error or v.obs.probe is None:
        v.set(cid, Status.ERROR, f"Could not probe: {v.obs.probe_error or 'the probe did not run'}.",
              "Run again with -vv; the probe needs scapy and libpcap.")
        return None
    if v.obs.probe.get("error"):
        v.set(cid, Status.ERROR, f"Could not probe: {v.obs.probe['error']}.", "Check the interface inside the pod.")
        return None
    section = v.obs.probe.get(key)
    if section is None:
        v.set(cid, Status.ERROR, f"Could not probe: the probe returned no {key} result.")
        return None
    if section["outcome"] == multicast.SEND_ERROR:  # the one verdict: could not send is an error
        v.set(cid, Status.ERROR, f"Could not send the {key} query: {'; '.join(section['errors'])}.",
              "Check that the interface is up and has an address.", probe=_brief(section))
        return None
    return dict(section)


def _brief(section: dict[str, Any]) -> dict[str, Any]:
    keep = ("trials", "sent", "answered", "loss", "outcome", "first_answer_ms", "errors", "responders",
            "service_types", "services", "devices")
    return {k: section[k] for k in keep if k in section}


def _mdns(v: _Verdicts) -> None:
    s = _probe_section(v, c.MDNS, "mdns")
    if s is None:
        return
    legacy, qu = s.get("legacy_unicast") or {}, s.get("qu") or {}
    qu_unicast = any(not a["multicast"] for a in qu.get("answers", []))
    ev: dict[str, Any] = {**_brief(s), "qu": qu.get("outcome"), "qu_unicast_reply": qu_unicast,
          "legacy_unicast": legacy.get("outcome")}
    verdict = multicast.mdns_verdict(s)
    if verdict.reason in (multicast.ANSWERED, multicast.LOSSY):
        names = ", ".join(i["name"] for i in s["services"]) or ", ".join(s["service_types"]) or "no services"
        loss = f" ({s['answered']}/{s['sent']} queries answered)" if verdict.reason == multicast.LOSSY else ""
        v.set(c.MDNS, verdict.status, f"mDNS answered from {', '.join(s['responders'])} in {s['first_answer_ms']} ms"
              f"{loss}: {names}.", "Some queries went unanswered: multicast is lossy on this LAN (Wi-Fi, IGMP snooping).",
              **ev)
    elif verdict.reason == multicast.UNICAST_ONLY:
        v.set(c.MDNS, verdict.status, f"No multicast mDNS answer within {v.obs.options.probe_timeout:.0f} s while "
              f"unicast works: a legacy-unicast query was answered by {legacy['answers'][0]['from']}. Multicast towards "
              "this node is dropped (switch/AP IGMP snooping, Wi-Fi, or a filter on the master).",
              "Disable IGMP snooping or add an mDNS reflector/querier on the LAN; check firewalls on the node.", **ev)
    else:
        v.set(c.MDNS, verdict.status, f"No mDNS answer within {v.obs.options.probe_timeout:.0f} s, neither multicast "
              "nor legacy unicast: nothing on this LAN answers mDNS, or the LAN drops it both ways.",
              "Check that an mDNS responder runs on the LAN and that the master is on the same L2 segment.", **ev)


def _ssdp(v: _Verdicts) -> None:
    s = _probe_section(v, c.SSDP, "ssdp")
    if s is None:
        return
    ev = _brief(s)
    verdict = multicast.ssdp_verdict(s, multicast.answered((v.obs.probe or {}).get("mdns")))
    if verdict.reason in (multicast.ANSWERED, multicast.LOSSY):
        devices = ", ".join(d.get("usn") or d["from"] for d in s["devices"])
        v.set(c.SSDP, verdict.status, f"SSDP answered from {', '.join(s['responders'])} in {s['first_answer_ms']} ms: "
              f"{devices}.", "Some searches went unanswered.", **ev)
    elif verdict.reason == multicast.QUIET:
        v.set(c.SSDP, verdict.status, f"No SSDP answer within {v.obs.options.probe_timeout:.0f} s although mDNS "
              "works: maybe no UPnP/DLNA device is on this LAN.", "Check that an SSDP device is on the LAN.", **ev)
    else:
        v.set(c.SSDP, verdict.status, f"No SSDP answer within {v.obs.options.probe_timeout:.0f} s.",
              "Check multicast on the LAN (see datapath.mdns) and that an SSDP device is present.", **ev)


def _cleanup(v: _Verdicts) -> None:
    obs = v.obs
    if obs.pod_netns is None:
        v.set(c.CLEANUP, Status.SKIP, "Nothing was created.")
        return
    dels = [d.to_dict() for d in obs.dels]
    ev: dict[str, Any] = {"netns": obs.pod_netns, "removed": obs.netns_removed, "del": dels, "error": obs.cleanup_error}
    failed = [d for d in obs.dels if not d.ok]
    if not obs.netns_removed:
        v.set(c.CLEANUP, Status.FAIL, f"The throwaway namespace {obs.pod_netns} could not be removed: "
              f"{obs.cleanup_error}.", f"`ip netns del {obs.pod_netns}`", **ev)
    elif failed and obs.add is not None and obs.add.ok:
        v.set(c.CLEANUP, Status.WARN, f"CNI DEL failed (`{failed[0].error_msg}`); the lease may not be released. The "
              f"namespace {obs.pod_netns} was removed.", "Restart the DHCP daemon if leases pile up.", **ev)
    else:
        note = f" (DEL after the failed ADD said `{failed[0].error_msg}`)" if failed else ""
        v.set(c.CLEANUP, Status.PASS, f"CNI DEL ran and the namespace {obs.pod_netns} was removed{note}.", **ev)
