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
        "multicast": {"mdns": mdns_res, "ssdp": ssdp_res},
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
