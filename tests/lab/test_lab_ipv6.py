"""The lab's IPv6 side against the real kernel, radvd, avahi and CNI plugins: what the IPv6 probe observes.

Healthy: net1 gets a link-local and a SLAAC address, the RIO route to the Thread mesh (`proto ra`,
via the border router's link-local), mDNS answers for Matter and Thread over ff02::fb, and the
Matter node behind the border router acks a message. Each IPv6 fault shows in the observation.
The tests assert on the observations and on their verdicts (datapath.ipv6/thread-routes/matter,
judged by checks/ipv6.py): each fault fails the right check naming its cause, the others stay as
they should.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multus_check.checks import datapath as dp
from multus_check.collect import netinfo
from multus_check.domain.cniconf import parse_netconf
from multus_check.lab import faults, thread
from multus_check.lab import lifecycle as lab
from multus_check.lab.config import MATTER_PORT, LabState
from multus_check.model import Finding, Status
from multus_check.probes import cni, netns, probe_script
from multus_check.probes.datapath_probe import DatapathObservation
from multus_check.probes.datapath_verdicts import judge
from tests.lab.conftest import lab_fixture, probe

pytestmark = pytest.mark.lab
ipv6_lab = lab_fixture("t6")
ALL = ("mdns", "ssdp", "ipv6")
TYPES = ["_matter._tcp.local.", "_matterc._udp.local.", "_meshcop._udp.local."]


def _observe(state: LabState) -> tuple[DatapathObservation, dict[str, Any]]:
    obs = probe(state, probes=ALL)
    assert obs.add is not None and obs.add.ok, obs.add
    assert obs.probe is not None and obs.probe_error is None, obs.probe_error
    v6: dict[str, Any] = obs.probe["ipv6"]
    assert v6["error"] is None, v6["error"]
    return obs, v6


@pytest.fixture(scope="module")
def healthy_obs(ipv6_lab: LabState) -> tuple[DatapathObservation, dict[str, Any]]:
    """One node probe of the healthy lab, the first after `lab up` (as `lab run` does), shared by the tests."""
    return _observe(ipv6_lab)


@pytest.fixture
def healthy(healthy_obs: tuple[DatapathObservation, dict[str, Any]]) -> dict[str, Any]:
    return healthy_obs[1]


def _judged(obs: DatapathObservation) -> dict[str, Finding]:
    return {f.check: f for f in judge(obs)}


def _statuses(found: dict[str, Finding]) -> tuple[Status, ...]:
    return tuple(found[c].status for c in (dp.IPV6, dp.THREAD_ROUTES, dp.MATTER))


def _in(prefix: ipaddress.IPv6Network, address: str) -> bool:
    return ipaddress.IPv6Address(address) in prefix


def test_lab_runs_radvd_and_the_matter_node_in_their_own_namespaces(ipv6_lab: LabState) -> None:
    status = lab.status(ipv6_lab.name)
    assert status["state"] == "up" and status["namespaces"][ipv6_lab.thread_ns] is True
    assert status["processes"]["radvd"]["running"] and status["processes"]["matter-node"]["running"]
    assert ipv6_lab.pids["radvd"]["pid"] in netns.pids_in(ipv6_lab.router_ns)
    assert ipv6_lab.pids["matter-node"]["pid"] in netns.pids_in(ipv6_lab.thread_ns)


def test_healthy_net1_has_ipv6_a_link_local_and_a_slaac_address_in_the_advertised_prefix(
        ipv6_lab: LabState, healthy: dict[str, Any]) -> None:
    assert healthy["sysctls"]["disable_ipv6"] == 0 and healthy["sysctls"]["accept_ra"] == 1
    assert healthy["sysctls"]["accept_ra_rt_info_max_plen"] == 64, "set by the NAD's tuning step"
    link_local = [a for a in healthy["addresses"] if a["scope"] == "link"]
    slaac = [a for a in healthy["addresses"] if a["scope"] == "global"]
    assert len(link_local) == 1 and not link_local[0]["tentative"]
    assert len(slaac) == 1 and _in(ipv6_lab.lan6_prefix, slaac[0]["address"]) and not slaac[0]["tentative"]
    assert slaac[0]["origin"] in ("slaac", "dynamic") and slaac[0]["valid_lft"] is not None


def test_healthy_rs_brings_an_ra_with_the_slaac_prefix_and_the_thread_rio_and_the_route_is_installed(
        ipv6_lab: LabState, healthy: dict[str, Any]) -> None:
    ra = healthy["ra"]
    assert ra["outcome"] == "answered" and ra["first_answer_ms"] < 500
    router = ra["answers"][0]
    assert ipaddress.IPv6Address(router["from"]).is_link_local and router["router_lifetime"] == 0
    assert ra["prefixes"] == [str(ipv6_lab.lan6_prefix)] and ra["route_information"] == [str(ipv6_lab.thread_prefix)]
    assert router["routes"] == [{"prefix": str(ipv6_lab.thread_prefix), "preference": "high", "lifetime": 1800}]
    rio = [r for r in healthy["routes"] if r["dst"] == str(ipv6_lab.thread_prefix)]
    assert rio == [{"dst": str(ipv6_lab.thread_prefix), "gateway": router["from"], "protocol": "ra", "metric": 1024,
                    "pref": "high", "expires": rio[0]["expires"]}] and 0 < rio[0]["expires"] <= 1800
    assert not any(r["dst"] == "default" for r in healthy["routes"]), "a border router's RA is no default route"


def test_healthy_mdns_over_ipv6_finds_the_matter_node_and_the_border_router_with_their_addresses(
        ipv6_lab: LabState, healthy: dict[str, Any]) -> None:
    mdns = healthy["mdns"]
    assert mdns["outcome"] == "answered" and mdns["service_types"] == TYPES
    assert mdns["responders"] == [ipv6_lab.router_ip6]
    records = {r["type"] for a in mdns["exchanges"][0]["answers"] for r in a["records"]}
    assert {"PTR", "SRV", "TXT", "AAAA"} <= records
    by_type = {s["type"]: s for s in mdns["services"]}
    node = by_type["_matter._tcp.local."]
    assert (node["target"], node["port"], node["addresses"]) == (thread.MATTER_HOST + ".", MATTER_PORT,
                                                                 [ipv6_lab.matter_node_ip6])
    assert "D=3840" in by_type["_matterc._udp.local."]["txt"]
    assert by_type["_meshcop._udp.local."]["addresses"] == [ipv6_lab.router_ip6]


def test_healthy_matter_node_behind_the_border_router_acks_a_message_sent_across_the_rio_route(
        ipv6_lab: LabState, healthy: dict[str, Any]) -> None:
    matter = healthy["matter"]
    assert matter["outcome"] == "answered"
    trip = matter["targets"][0]
    assert (trip["address"], trip["port"], trip["outcome"]) == (ipv6_lab.matter_node_ip6, MATTER_PORT, "answered")
    assert trip["reply"]["acked"] and trip["reply"]["standalone_ack"] and trip["icmp_error"] is None
    assert _in(ipv6_lab.lan6_prefix, trip["source"]) and trip["source_on_iface"] is True
    assert "acked counter" in (ipv6_lab.dir / "matter-node.log").read_text()


def test_a_round_trip_to_a_port_nothing_listens_on_records_the_icmpv6_port_unreachable(ipv6_lab: LabState) -> None:
    from multus_check.probes import probe_ipv6

    target = {"service": "x._matter._tcp.local.", "address": ipv6_lab.matter_node_ip6, "port": MATTER_PORT + 1}
    result = netns.call_in_netns(ipv6_lab.router_ns, lambda: probe_ipv6.matter_round_trips([target], 0, 1.0), 10)
    trip = result["targets"][0]
    assert result["outcome"] == "no-answer" and trip["outcome"] == "no-answer" and trip["sends"] == 2
    assert trip["icmp_error"] == "Connection refused", "the thread namespace's kernel answers port unreachable"


def test_healthy_lab_passes_the_three_ipv6_checks_and_every_other_layer(
        ipv6_lab: LabState, healthy_obs: tuple[DatapathObservation, dict[str, Any]]) -> None:
    found = _judged(healthy_obs[0])
    assert _statuses(found) == (Status.PASS,) * 3, [found[c].message for c in (dp.IPV6, dp.THREAD_ROUTES, dp.MATTER)]
    assert {c: f.status for c, f in found.items() if c not in (dp.IPV6, dp.THREAD_ROUTES, dp.MATTER)} == {
        c: Status.WARN if c == dp.ROUTES else Status.PASS for c in (*dp.LAYERS[:8], dp.CLEANUP)}
    assert "accept_ra_defrtr" not in found[dp.ROUTES].message, "radvd sends router lifetime 0: no IPv6 default"
    assert str(ipv6_lab.lan6_prefix) in found[dp.IPV6].message
    assert f"across the Thread route {ipv6_lab.thread_prefix}" in found[dp.MATTER].message


def test_ipv4_results_stay_as_they_were_beside_the_ipv6_observation(
        healthy_obs: tuple[DatapathObservation, dict[str, Any]]) -> None:
    obs = healthy_obs[0]
    assert obs.probe is not None and obs.probe["mdns"]["outcome"] == "answered"
    assert set(obs.probe["mdns"]["service_types"]) == {"_testsvc._tcp.local.", "_http._tcp.local."}
    assert obs.probe["ssdp"]["outcome"] == "answered"


def test_standalone_probe_in_a_pod_without_the_package_sees_what_iproute2_sees(ipv6_lab: LabState, tmp_path: Path) -> None:
    """probe_script.py + probe_ipv6.py (+ netinfo.py, the reader they import) copied alone, the package made
    unimportable (as in a pod)."""
    for name in ("probe_script.py", "probe_ipv6.py"):
        shutil.copy(Path(probe_script.__file__).with_name(name), tmp_path / name)
    shutil.copy(Path(netinfo.__file__), tmp_path / "netinfo.py")
    pod = f"{ipv6_lab.pod_ns_prefix}-v6script"
    conf = parse_netconf(ipv6_lab.nad_config.read_text(), "nad.json")
    att = cni.Attachment("v6-script", netns.netns_path(pod), "net1", [str(ipv6_lab.cni_bin)], ipv6_lab.node_ns)
    runner = ("import runpy, sys; sys.modules['multus_check'] = None; "
              f"sys.argv = [{str(tmp_path / 'probe_script.py')!r}, '--iface', 'net1', '--probe', 'ipv6']; "
              "runpy.run_path(sys.argv[0], run_name='__main__')")
    netns.create(pod)
    try:
        assert cni.add(att, conf).ok
        out = subprocess.run(["ip", "netns", "exec", pod, sys.executable, "-I", "-c", runner], capture_output=True,
                             text=True, timeout=60, cwd=tmp_path, check=False)
        shown = json.loads(subprocess.run(["ip", "-n", pod, "-6", "-j", "route", "show", "dev", "net1"],
                                          capture_output=True, text=True, check=True).stdout)
        addrs = json.loads(subprocess.run(["ip", "-n", pod, "-6", "-j", "addr", "show", "dev", "net1"],
                                          capture_output=True, text=True, check=True).stdout)
    finally:
        cni.delete(att, conf, None)
        netns.remove(pod)
    assert out.returncode == 0, out.stderr
    v6 = json.loads(out.stdout)["ipv6"]
    assert {(r["dst"], r.get("gateway"), r["protocol"], r["metric"]) for r in v6["routes"]} == {
        (r["dst"], r.get("gateway"), r["protocol"], r["metric"]) for r in shown}
    assert {a["address"] for a in v6["addresses"]} == {a["local"] for a in addrs[0]["addr_info"]}
    assert v6["matter"]["outcome"] == "answered"


@pytest.fixture
def broken(ipv6_lab: LabState, request: pytest.FixtureRequest) -> Iterator[LabState]:
    fault = request.param
    before = ipv6_lab.nad_config.read_text()
    faults.inject(ipv6_lab, fault)
    try:
        yield ipv6_lab
    finally:
        faults.repair(ipv6_lab, fault)
        assert ipv6_lab.nad_config.read_text() == before, "repair restores the NAD exactly"


@pytest.mark.parametrize("broken", ["ipv6"], indirect=True)
def test_ipv6_disabled_on_net1_shows_as_disable_ipv6_1_no_address_and_nothing_sent(broken: LabState) -> None:
    obs, v6 = _observe(broken)
    assert v6["sysctls"]["disable_ipv6"] == 1 and v6["addresses"] == [] and v6["routes"] == []
    for part in ("ra", "mdns", "matter"):
        assert v6[part]["outcome"] == "send-error" and "disable_ipv6=1" in v6[part]["error"], part
    assert obs.probe is not None and obs.probe["mdns"]["outcome"] == "answered", "IPv4 is untouched"
    found = _judged(obs)
    assert _statuses(found) == (Status.FAIL, Status.SKIP, Status.SKIP)
    assert "net.ipv6.conf.net1.disable_ipv6=1" in found[dp.IPV6].message
    assert found[dp.MDNS].status is Status.PASS and found[dp.LEASE].status is Status.PASS


@pytest.mark.parametrize("broken", ["thread-routes"], indirect=True)
def test_without_tuning_the_ra_carries_the_rio_but_no_route_appears_and_the_node_is_unreachable(broken: LabState) -> None:
    assert '"tuning"' not in broken.nad_config.read_text()
    obs, v6 = _observe(broken)
    found = _judged(obs)
    assert _statuses(found) == (Status.PASS, Status.FAIL, Status.SKIP)
    assert "net.ipv6.conf.net1.accept_ra_rt_info_max_plen=0" in found[dp.THREAD_ROUTES].message
    assert '"net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"' in found[dp.THREAD_ROUTES].remediation
    assert "Network is unreachable" in found[dp.MATTER].message and found[dp.MDNS].status is Status.PASS
    assert v6["sysctls"]["accept_ra_rt_info_max_plen"] == 0
    assert v6["ra"]["outcome"] == "answered" and v6["ra"]["route_information"] == [str(broken.thread_prefix)]
    assert not any(r["dst"] == str(broken.thread_prefix) for r in v6["routes_before_rs"] + v6["routes"])
    assert any(_in(broken.lan6_prefix, a["address"]) for a in v6["addresses"]), "SLAAC still works"
    assert v6["mdns"]["outcome"] == "answered", "the node is still discovered"
    trip = v6["matter"]["targets"][0]
    assert v6["matter"]["outcome"] == "send-error" and "Network is unreachable" in trip["error"]


@pytest.mark.parametrize("broken", ["ipv6-multicast"], indirect=True)
def test_switch_dropping_ipv6_multicast_keeps_slaac_but_mdns_over_ipv6_gets_no_answer_while_ipv4_does(
        broken: LabState) -> None:
    obs, v6 = _observe(broken)
    assert any(_in(broken.lan6_prefix, a["address"]) for a in v6["addresses"]), "RAs and ND still pass"
    assert v6["ra"]["outcome"] == "answered"
    qm = v6["mdns"]["exchanges"][0]
    assert v6["mdns"]["outcome"] == "no-answer" and qm["sends"] == 2 and qm["error"] is None
    assert v6["matter"]["outcome"] == "not-run"
    assert obs.probe is not None and obs.probe["mdns"]["outcome"] == "answered", "IPv4 mDNS still answers"
    found = _judged(obs)
    assert _statuses(found) == (Status.PASS, Status.PASS, Status.FAIL)
    assert "IPv6 multicast dropped" in found[dp.MATTER].message and "MLD snooping" in found[dp.MATTER].message
    assert found[dp.MDNS].status is Status.PASS
