"""Judging sample-pod observations: every check, its failure modes and the cause it names."""

from __future__ import annotations

import ipaddress
import json

from multus_check.e2e import checks as ids
from multus_check.e2e.judge import Expectations, judge
from multus_check.model import Finding, Status
from tests.e2e.samples import API_IP, DNS_IP, NET1_MAC, network_status, observation, probe_output

LAN = Expectations(DNS_IP, API_IP, {("default/macvlan-lan", "k3s-agent-1"): [ipaddress.IPv4Network("192.168.77.0/24")]},
                   {})


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def test_healthy_pod_passes_every_check_and_prints_the_static_mac_annotation() -> None:
    got = by_check(judge([observation()], LAN))
    assert {c: f.status for c, f in got.items()} == {c: Status.PASS for c in ids.E2E_CHECKS}
    keep = json.loads(got[ids.ATTACH].evidence["keep_mac_annotation"])
    assert keep == [{"name": "macvlan-lan", "namespace": "default", "mac": NET1_MAC}]
    assert got[ids.ATTACH].evidence["keep_mac_annotation"] in got[ids.ATTACH].message
    assert "_testsvc._tcp.local" in got[ids.MDNS].message and "192.168.77.1" in got[ids.MDNS].message
    assert "multus-check-lab/1.0" in got[ids.SSDP].message


def test_stale_network_status_without_net1_in_the_pod_fails_attach_and_skips_the_rest() -> None:
    out = probe_output()
    out["interfaces"]["net1"] = {"name": "net1", "present": False}
    got = by_check(judge([observation(out)], LAN))
    assert got[ids.ATTACH].status is Status.FAIL and "stale" in got[ids.ATTACH].message
    assert got[ids.LEASE].status is Status.SKIP and got[ids.MDNS].status is Status.SKIP


def test_annotation_mac_differing_from_the_pods_own_fails_as_stale() -> None:
    got = by_check(judge([observation(network_status=network_status(mac="02:00:00:00:00:01"))], LAN))
    assert got[ids.ATTACH].status is Status.FAIL and "stale" in got[ids.ATTACH].message


def test_pod_that_never_started_names_the_known_cause_from_its_events() -> None:
    msg = ('Failed to create pod sandbox: plugin type="multus" name="multus-cni-network" failed (add): '
           '[multus-check/p/uid:macvlan-lan]: error adding container to network "macvlan-lan": error dialing DHCP '
           "daemon: dial unix /run/cni/dhcp.sock: connect: no such file or directory")
    obs = observation(started=False, output=None, phase="Pending", network_status=None, sandbox_failed=True,
                      events=[{"reason": "FailedCreatePodSandBox", "message": msg}])
    got = by_check(judge([obs], LAN))
    assert got[ids.ATTACH].status is Status.FAIL
    assert "F3" in got[ids.ATTACH].message and "dhcp.daemon" in got[ids.ATTACH].message
    assert got[ids.SERVICE_DNS].status is Status.SKIP


def test_timeout_without_events_fails_attach_saying_so() -> None:
    obs = observation(started=False, output=None, phase="Pending", timed_out=True, network_status=None)
    got = by_check(judge([obs], LAN))
    assert got[ids.ATTACH].status is Status.FAIL and "did not start within the timeout" in got[ids.ATTACH].message


def test_lease_outside_the_master_subnet_fails_and_unknown_subnet_is_an_error() -> None:
    got = by_check(judge([observation(probe_output(net1_ip="169.254.3.4"), network_status=network_status(
        ip="169.254.3.4"))], LAN))
    assert got[ids.LEASE].status is Status.FAIL and "169.254.3.4" in got[ids.LEASE].message
    unknown = Expectations(DNS_IP, API_IP, {}, {("default/macvlan-lan", "k3s-agent-1"): "the node facts were not collected"})
    got = by_check(judge([observation()], unknown))
    assert got[ids.LEASE].status is Status.ERROR and "not collected" in got[ids.LEASE].message


def test_service_traffic_via_net1_fails_service_dns_naming_the_interface() -> None:
    got = by_check(judge([observation(probe_output(dev_for_services="net1", dns_error="no answer within 4.0 s"))], LAN))
    f = got[ids.SERVICE_DNS]
    assert f.status is Status.FAIL and "leaves via net1" in f.message and "192.168.77.1" in f.message
    assert "ipam.routes" in f.remediation


def test_routes_via_eth0_but_no_resolution_fails_naming_dns() -> None:
    got = by_check(judge([observation(probe_output(dns_error="gaierror: Name or service not known"))], LAN))
    assert got[ids.SERVICE_DNS].status is Status.FAIL and "does not resolve" in got[ids.SERVICE_DNS].message


def test_dropped_multicast_with_unicast_answered_says_multicast_is_filtered() -> None:
    got = by_check(judge([observation(probe_output(mdns="no-answer", unicast="answered"))], LAN))
    assert got[ids.MDNS].status is Status.FAIL and "multicast towards the node is dropped" in got[ids.MDNS].message
    assert got[ids.SSDP].status is Status.PASS


def test_probe_that_could_not_run_is_an_error_never_a_pass() -> None:
    out = probe_output()
    out["multicast"] = {"error": "the probe could not start (scapy import failed: ModuleNotFoundError)"}
    got = by_check(judge([observation(out)], LAN))
    assert got[ids.MDNS].status is Status.ERROR and got[ids.SSDP].status is Status.ERROR
    unreadable = by_check(judge([observation(output=None, output_problem="the pod's log holds no probe result")],
                                LAN))
    assert unreadable[ids.ATTACH].status is Status.ERROR
