"""Judging sample-pod observations: every check, its failure modes and the cause it names."""

from __future__ import annotations

import ipaddress
import json

from multus_check.checks import e2e as ids
from multus_check.e2e.pod_verdicts import Expectations, judge
from multus_check.e2e.sample_manifest import Target
from multus_check.e2e.sample_pods import PodObservation as Observation
from multus_check.model import Finding, Status
from tests.e2e.samples import API_IP, DNS_IP, NET1_MAC, network_status, observation, probe_output

LAN = Expectations(DNS_IP, API_IP, {("default/macvlan-lan", "k3s-agent-1"): [ipaddress.IPv4Network("192.168.77.0/24")]},
                   {})


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def test_healthy_pod_passes_every_check_and_prints_the_static_mac_annotation() -> None:
    got = by_check(judge([observation()], LAN))
    assert {c: f.status for c, f in got.items()} == {c: Status.PASS for c in ids.PER_POD_CHECKS} | {
        ids.POD_MULTICAST: Status.SKIP}
    assert "--all-nodes" in got[ids.POD_MULTICAST].message
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


#: what real Multus v4.2.3 (thin) reports when its ServiceAccount may not update pods/status (issue 11; the chain
#: of wrappers is cmdErr + SetPodNetworkStatusAnnotation + the NAD client's SetNetworkStatus)
FORBIDDEN = ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox '
             '"5d0c6b1f0e4a3e2d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d": plugin type="multus" '
             'name="multus-cni-network" failed (add): Multus: [multus-check/multus-check-e2e-x-0/'
             '0a4ad3d5-5c0b-4c55-9f3e-2b8f0c6c9a11]: error setting the networks status: SetPodNetworkStatusAnnotation: '
             "failed to update the pod multus-check-e2e-x-0 in out of cluster comm: SetNetworkStatus: failed to update "
             'the pod multus-check-e2e-x-0 in out of cluster comm: pods "multus-check-e2e-x-0" is forbidden: User '
             '"system:serviceaccount:kube-system:multus" cannot update resource "pods/status" in API group "" in the '
             'namespace "multus-check"')
UNCATALOGUED = ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox '
                '"5d0c": plugin type="multus" name="multus-cni-network" failed (add): [multus-check/'
                'multus-check-e2e-x-0/0a4ad3d5-5c0b-4c55-9f3e-2b8f0c6c9a11:macvlan-lan]: error adding container to '
                'network "macvlan-lan": some future plugin error naming its cause at the very end: disk quota exceeded')


def test_a_sandbox_failure_shows_the_cause_text_whole_and_keeps_the_full_event_in_evidence() -> None:
    obs = observation(started=False, output=None, phase="Pending", network_status=None, sandbox_failed=True,
                      events=[{"reason": "FailedCreatePodSandBox", "message": FORBIDDEN}])
    f = by_check(judge([obs], LAN))[ids.ATTACH]
    assert f.status is Status.FAIL and "catalog F38" in f.message and "multus.installed" in f.message
    assert 'cannot update resource "pods/status" in API group "" in the namespace "multus-check"' in f.message
    assert "0a4ad3d5" not in f.message and "5d0c6b1f" not in f.message  # the prefixes that hid the cause are gone
    assert f.evidence["event_message"] == FORBIDDEN and f.evidence["events"][-1]["message"] == FORBIDDEN
    assert "pods/status" in f.remediation


def test_a_sandbox_failure_the_catalog_does_not_know_still_names_its_cause() -> None:
    obs = observation(started=False, output=None, phase="Pending", network_status=None, sandbox_failed=True,
                      events=[{"reason": "FailedCreatePodSandBox", "message": UNCATALOGUED}])
    f = by_check(judge([obs], LAN))[ids.ATTACH]
    assert f.status is Status.FAIL and "does not know this message" in f.message
    assert f.message.endswith('error adding container to network "macvlan-lan": some future plugin error naming its '
                              "cause at the very end: disk quota exceeded")
    assert f.evidence["event_message"] == UNCATALOGUED and "report it" in f.remediation


def test_the_static_mac_hint_says_the_old_pod_must_be_gone_first() -> None:
    f = by_check(judge([observation()], LAN))[ids.ATTACH]
    assert "Recreate" in f.message and "address already in use" in f.message


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


# -- pod-to-pod multicast across nodes ------------------------------------------------------------


def peer_pod(index: int, node: str, heard: dict[int, str], *, started: float = 100.0, ended: float = 110.0,
             error: str | None = None, attached: bool = True, heard6: dict[int, str] | None = None) -> Observation:
    """`heard6`: the peers heard on ff02::fb (default: the same as on 224.0.0.251)."""
    out = probe_output()
    for key, got in (("peers", heard), ("peers6", heard if heard6 is None else heard6)):
        out[key] = {"index": index, "group": "ab12cd34", "peers": [], "sent": 20, "error": error,
                    "started": started, "ended": ended,
                    "heard": {str(i): {"from": ip, "first_ms": 40} for i, ip in got.items()}}
    obs = observation(out, node=node, target=Target("default", "macvlan-lan", node), pod=f"p-{index}")
    if not attached:
        obs.output["interfaces"]["net1"] = {"name": "net1", "present": False}
    return obs


def matrix_finding(observations: list[Observation]) -> Finding:
    lan = Expectations(DNS_IP, API_IP, {("default/macvlan-lan", o.node or ""): [ipaddress.IPv4Network("192.168.77.0/24")]
                                        for o in observations}, {})
    found = [f for f in judge(observations, lan) if f.check == ids.POD_MULTICAST]
    assert len(found) == 1, found
    return found[0]


def test_three_nodes_hearing_each_other_pass_with_the_matrix_in_the_message() -> None:
    f = matrix_finding([peer_pod(0, "n-a", {1: "x", 2: "y"}), peer_pod(1, "n-b", {0: "x", 2: "y"}),
                        peer_pod(2, "n-c", {0: "x", 1: "y"})])
    assert f.status is Status.PASS and f.subject == "nad/default/macvlan-lan"
    assert f.evidence["matrix"] == {"n-a": {"n-b": "heard", "n-c": "heard"}, "n-b": {"n-a": "heard", "n-c": "heard"},
                                    "n-c": {"n-a": "heard", "n-b": "heard"}}
    assert f.evidence["matrix_ipv6"] == f.evidence["matrix"]
    rows = f.message.splitlines()
    assert rows[1].strip() == "IPv4, 224.0.0.251:" and rows[6].strip() == "IPv6, ff02::fb:"
    assert rows[2].split() == ["n-a", "n-b", "n-c"] and rows[3].split() == ["n-a", "-", "yes", "yes"]


def test_ipv6_multicast_lost_between_pods_while_ipv4_gets_through_fails_naming_the_ipv6_pair() -> None:
    f = matrix_finding([peer_pod(0, "n-a", {1: "x"}, heard6={}), peer_pod(1, "n-b", {0: "y"}, heard6={})])
    assert f.status is Status.FAIL and "n-a -> n-b (IPv6)" in f.message and "n-b -> n-a (IPv6)" in f.message
    assert set(f.evidence["matrix"]["n-a"].values()) == {"heard"} and f.evidence["matrix_ipv6"]["n-a"]["n-b"] == "missed"


def test_ipv6_off_on_net1_leaves_the_ipv6_pairs_unjudged_and_the_ipv4_matrix_decides() -> None:
    pods = [peer_pod(0, "n-a", {1: "x"}, heard6={}), peer_pod(1, "n-b", {0: "y"}, heard6={})]
    for pod in pods:  # the NAD sets disable_ipv6=1: no IPv6 beacon goes out, e2e.ipv6 fails on it
        pod.output["multicast"]["ipv6"]["sysctls"]["disable_ipv6"] = 1
        pod.output["peers6"].update(sent=0, send_errors=6)  # what Peers6 reports on a net1 with disable_ipv6=1
    f = matrix_finding(pods)
    assert f.status is Status.PASS, f.message
    assert f.evidence["matrix_ipv6"]["n-a"]["n-b"] == "ipv6 off" and "IPv6 is off on net1 on n-a, n-b" in f.message
    assert ids.IPV6 in f.message
    lost = [peer_pod(0, "n-a", {}, heard6={}), peer_pod(1, "n-b", {0: "y"}, heard6={})]
    lost[0].output["multicast"]["ipv6"]["sysctls"]["disable_ipv6"] = 1
    assert matrix_finding(lost).status is Status.FAIL, "the IPv4 matrix still fails"


def test_a_probe_without_ipv6_beacons_leaves_the_ipv6_matrix_not_measured() -> None:
    pods = [peer_pod(0, "n-a", {1: "x"}), peer_pod(1, "n-b", {0: "y"})]
    for pod in pods:
        del pod.output["peers6"]
    f = matrix_finding(pods)
    assert f.status is Status.ERROR and f.evidence["matrix_ipv6"]["n-a"]["n-b"] == "not measured"


def test_one_direction_missing_over_overlapping_windows_fails_naming_the_pair() -> None:
    f = matrix_finding([peer_pod(0, "n-a", {1: "x"}), peer_pod(1, "n-b", {})])
    assert f.status is Status.FAIL and "n-a -> n-b" in f.message and "IGMP snooping" in f.remediation
    assert f.evidence["matrix"]["n-a"]["n-b"] == "missed" and f.evidence["matrix"]["n-b"]["n-a"] == "heard"


def test_windows_that_never_overlapped_are_not_measured_never_missed_or_passed() -> None:
    f = matrix_finding([peer_pod(0, "n-a", {}, started=100, ended=130), peer_pod(1, "n-b", {}, started=129, ended=159)])
    assert f.status is Status.ERROR and f.evidence["matrix"]["n-a"]["n-b"] == "not measured"
    assert "--e2e-peer-window" in f.remediation


def test_a_beacon_that_could_not_start_is_an_error_not_a_miss() -> None:
    f = matrix_finding([peer_pod(0, "n-a", {}, error="OSError: [Errno 98] Address in use"), peer_pod(1, "n-b", {})])
    assert f.status is Status.ERROR and f.evidence["matrix"]["n-b"]["n-a"] == "error"


def test_pods_that_did_not_attach_leave_the_matrix_not_reached() -> None:
    f = matrix_finding([peer_pod(0, "n-a", {}), peer_pod(1, "n-b", {}, attached=False)])
    assert f.status is Status.SKIP and "n-b" in f.message
    three = matrix_finding([peer_pod(0, "n-a", {1: "x"}), peer_pod(1, "n-b", {0: "y"}),
                            peer_pod(2, "n-c", {}, attached=False)])
    assert three.status is Status.PASS and three.evidence["unreached"] == ["n-c"] and "Not reached: n-c" in three.message
