"""Realistic sample-pod observations for the pure e2e tests (shapes as pod_probe.py prints them)."""

from __future__ import annotations

import copy
from typing import Any

from multus_check.e2e.sample_manifest import Target
from multus_check.e2e.sample_pods import PodObservation

NET1_MAC = "3a:21:36:0d:ee:87"
DNS_IP, API_IP = "10.43.0.10", "10.43.0.1"


def probe_output(net1_ip: str = "192.168.77.148", dev_for_services: str = "eth0", dns_error: str | None = None,
                 mdns: str = "answered", ssdp: str = "answered", unicast: str | None = None) -> dict[str, Any]:
    def route(ip: str) -> dict[str, Any]:
        gw = "10.42.0.1" if dev_for_services == "eth0" else "192.168.77.1"
        return {"dev": dev_for_services, "source": "10.42.0.5" if dev_for_services == "eth0" else net1_ip,
                "error": None, "route": {"dev": dev_for_services, "dst": "0.0.0.0", "prefixlen": 0, "gateway": gw,
                                         "flags": 3, "metric": 0}}
    mdns_res = {"outcome": mdns, "sent": 1, "answered": int(mdns == "answered"), "first_answer_ms": 95.0,
                "responders": ["192.168.77.1"] if mdns == "answered" else [], "errors": [],
                "service_types": ["_http._tcp.local.", "_testsvc._tcp.local."] if mdns == "answered" else [],
                "services": [], "legacy_unicast": {"outcome": unicast} if unicast else None}
    ssdp_res = {"outcome": ssdp, "sent": 1, "answered": int(ssdp == "answered"), "first_answer_ms": 12.0,
                "responders": ["192.168.77.1"] if ssdp == "answered" else [], "errors": [],
                "devices": [{"usn": "uuid:lab::upnp:rootdevice", "server": "multus-check-lab/1.0"}] if ssdp == "answered" else []}
    return {
        "probe": "multus-check-e2e", "version": 1, "node": "k3s-agent-1",
        "interfaces": {"net1": {"name": "net1", "present": True, "mac": NET1_MAC, "operstate": "up", "ipv4": net1_ip,
                                "prefixlen": 24},
                       "eth0": {"name": "eth0", "present": True, "mac": "aa:bb:cc:00:00:05", "ipv4": "10.42.0.5",
                                "prefixlen": 24}},
        "routes": {DNS_IP: route(DNS_IP), API_IP: route(API_IP)},
        "dns": {"name": "kubernetes.default.svc", "addresses": [] if dns_error else [API_IP], "error": dns_error,
                "seconds": 0.01},
        "multicast": {"mdns": mdns_res, "ssdp": ssdp_res, "ipv6": ipv6_observation()},
        "eth0_ipv6_routes": [],
    }


def network_status(mac: str = NET1_MAC, ip: str = "192.168.77.148") -> list[dict[str, Any]]:
    return [{"name": "cbr0", "interface": "eth0", "ips": ["10.42.0.5"], "mac": "aa:bb:cc:00:00:05", "default": True},
            {"name": "default/macvlan-lan", "interface": "net1", "ips": [ip], "mac": mac, "dns": {}}]


_HEALTHY: Any = object()


def observation(output: Any = _HEALTHY, **kw: Any) -> PodObservation:
    """A finished sample pod; `output` None means the pod left no probe result."""
    obs = PodObservation(Target("default", "macvlan-lan", "k3s-agent-1"), "multus-check-e2e-x-0", node="k3s-agent-1",
                         phase="Succeeded", started=True, network_status=network_status(),
                         output=probe_output() if output is _HEALTHY else copy.deepcopy(output))
    for key, value in kw.items():
        setattr(obs, key, value)
    return obs


LAN6, THREAD6 = "fd6d:636c:614d::/64", "fd74:6872:644d::/64"
ROUTER_LL, ROUTER6, NODE6 = "fe80::9838:36ff:fe3e:8c33", "fd6d:636c:614d::1", "fd74:6872:644d::5540"
NET1_LL, NET1_SLAAC = "fe80::3821:36ff:fe0d:ee87", "fd6d:636c:614d:0:3821:36ff:fe0d:ee87"
MATTER_SERVICES = [
    {"type": "_matter._tcp.local.", "name": "ABCDEF0123456789-0000000000000001._matter._tcp.local.",
     "target": "0E5B8D8A0B3C4D5E.local.", "port": 5540, "txt": ["SII=5000"], "addresses": [NODE6]},
    {"type": "_matterc._udp.local.", "name": "C0FFEE0123456789._matterc._udp.local.",
     "target": "0E5B8D8A0B3C4D5E.local.", "port": 5540, "txt": ["D=3840", "CM=1"], "addresses": [NODE6]},
    {"type": "_meshcop._udp.local.", "name": "Lab BR._meshcop._udp.local.", "target": "router.local.", "port": 49154,
     "txt": [], "addresses": [ROUTER6]}]


def ipv6_observation(fault: str | None = None) -> dict[str, Any]:
    """probe_ipv6.observe()'s shape for a healthy lab LAN, or with one fault: `ipv6` (disable_ipv6=1),
    `thread-routes` (accept_ra_rt_info_max_plen 0), `ipv6-multicast` (ff02::fb dropped), `no-router` (no RA)."""
    sysctls = {"disable_ipv6": 0, "accept_ra": 1, "autoconf": 1, "accept_ra_pinfo": 1, "accept_ra_defrtr": 1,
               "accept_ra_rt_info_min_plen": 0, "accept_ra_rt_info_max_plen": 64, "forwarding": 0}
    addrs = [{"address": NET1_SLAAC, "prefixlen": 64, "scope": "global", "origin": "slaac", "tentative": False,
              "dadfailed": False, "valid_lft": 86400, "preferred_lft": 14400},
             {"address": NET1_LL, "prefixlen": 64, "scope": "link", "origin": "link-local", "tentative": False,
              "dadfailed": False, "valid_lft": None, "preferred_lft": None}]
    prefix_route = {"dst": LAN6, "gateway": None, "protocol": "kernel", "metric": 256, "pref": "medium", "expires": 86398}
    rio_route = {"dst": THREAD6, "gateway": ROUTER_LL, "protocol": "ra", "metric": 1024, "pref": "high", "expires": 1799}
    ra_answer = {"ms": 12.0, "from": ROUTER_LL, "to": NET1_LL, "router_lifetime": 0, "preference": "medium",
                 "managed": False, "other": False, "mtu": None, "lladdr": "9a:38:36:3e:8c:33",
                 "prefixes": [{"prefix": LAN6, "on_link": True, "autonomous": True, "valid_lifetime": 86400,
                               "preferred_lifetime": 14400}],
                 "routes": [{"prefix": THREAD6, "preference": "high", "lifetime": 1800}]}
    ra = {"outcome": "answered", "error": None, "sends": 1, "first_answer_ms": 12.0, "answers": [ra_answer],
          "prefixes": [LAN6], "route_information": [THREAD6]}
    mdns = {"trials": 1, "sent": 1, "answered": 1, "loss": 0.0, "outcome": "answered", "first_answer_ms": 88.0,
            "errors": [], "exchanges": [], "qu": {"outcome": "answered"},
            "service_types": sorted({s["type"] for s in MATTER_SERVICES}), "services": MATTER_SERVICES,
            "responders": [ROUTER6]}
    trip = {"service": MATTER_SERVICES[0]["name"], "address": NODE6, "port": 5540, "outcome": "answered", "error": None,
            "source": NET1_SLAAC, "sends": 1, "rtt_ms": 0.6, "source_on_iface": True,
            "reply": {"opcode": 0x10, "protocol": 0, "exchange": 7, "ack_counter": 99, "acked": True,
                      "standalone_ack": True}}
    out: dict[str, Any] = {"iface": "net1", "error": None, "sysctls": sysctls, "addresses": addrs,
                           "routes_before_rs": [prefix_route, rio_route], "routes": [prefix_route, rio_route],
                           "dad_wait_ms": {"link_local": 0.0, "global": 0.0}, "ra": ra, "mdns": mdns,
                           "matter": {"outcome": "answered", "error": None, "timeout_s": 2.0, "targets": [trip]},
                           "ms": 950.0}
    if fault == "ipv6":
        err = {"outcome": "send-error", "error": "IPv6 is disabled on net1 (disable_ipv6=1)"}
        out.update(sysctls={**sysctls, "disable_ipv6": 1}, addresses=[], routes=[], routes_before_rs=[], ra=err,
                   mdns=err, matter=err)
    elif fault == "thread-routes":
        unreachable = {**trip, "outcome": "send-error", "error": f"[{NODE6}]:5540: Network is unreachable",
                       "source": None, "sends": 0, "rtt_ms": None, "reply": None, "source_on_iface": None}
        out.update(sysctls={**sysctls, "accept_ra_rt_info_max_plen": 0}, routes=[prefix_route],
                   routes_before_rs=[prefix_route],
                   matter={"outcome": "send-error", "error": unreachable["error"], "timeout_s": 2.0,
                           "targets": [unreachable]})
    elif fault == "ipv6-multicast":
        out.update(mdns={**mdns, "answered": 0, "loss": 1.0, "outcome": "no-answer", "first_answer_ms": None,
                         "qu": {"outcome": "no-answer"}, "service_types": [], "services": [], "responders": []},
                   matter={"outcome": "not-run", "error": None, "reason": "no Matter node was discovered over mDNS"})
    elif fault == "no-router":
        out.update(ra={"outcome": "no-answer", "error": None, "sends": 1, "answers": [], "prefixes": [],
                       "route_information": []}, addresses=addrs[1:], routes=[], routes_before_rs=[])
    return out
