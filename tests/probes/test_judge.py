"""Attribution of data-path observations to layers (pure; recorded error texts from netns-lab.md §4)."""

from __future__ import annotations

from typing import Any

import pytest

from multus_check.checks import datapath as c
from multus_check.domain.cniconf import parse_netconf
from multus_check.model import Finding, Status
from multus_check.probes.cni import CniCall
from multus_check.probes.datapath_probe import DatapathObservation, DatapathOptions, MasterState, SocketState
from multus_check.probes.datapath_verdicts import judge
from tests.e2e.samples import ipv6_observation

SOCK = "/run/cni/dhcp.sock"
CONF = parse_netconf('{"cniVersion":"0.3.1","name":"lan","type":"macvlan","master":"eth1","mode":"bridge",'
                     '"ipam":{"type":"dhcp"}}', "nad.json")
RESULT = {"cniVersion": "0.3.1", "ips": [{"version": "4", "address": "192.168.1.140/24", "gateway": "192.168.1.1"}],
          "routes": [{"dst": "0.0.0.0/0", "gw": "192.168.1.1"}]}
ROUTES = [{"dst": "default", "gateway": "192.168.1.1", "dev": "net1"},
          {"dst": "192.168.1.0/24", "dev": "net1", "protocol": "kernel", "scope": "link", "prefsrc": "192.168.1.140"}]


def _obs(**kw: Any) -> DatapathObservation:
    opts = DatapathOptions(conf=CONF, cni_path=["/opt/cni/bin"], node="n1")
    obs = DatapathObservation(opts, plugins={"macvlan": "/opt/cni/bin/macvlan", "dhcp": "/opt/cni/bin/dhcp"},
                              dhcp_socket=SocketState(SOCK, "socket", True),
                              master=MasterState("eth1", True, True, "UP", ("192.168.1.10/24",)),
                              pod_netns="mc-probe-1", netns_removed=True,
                              dels=[CniCall("macvlan", "DEL", 0, 0.05)])
    for k, v in kw.items():
        setattr(obs, k, v)
    return obs


def _failed_add(msg: str, seconds: float = 0.02) -> CniCall:
    return CniCall("macvlan", "ADD", 1, seconds, None, 999, msg)


def _answered(section: str) -> dict[str, Any]:
    base = {"trials": 1, "sent": 1, "answered": 1, "loss": 0.0, "outcome": "answered", "first_answer_ms": 80.0,
            "errors": [], "responders": ["192.168.1.1"]}
    if section == "mdns":
        return {**base, "service_types": ["_http._tcp.local."], "qu": None, "legacy_unicast": None,
                "services": [{"name": "Web._http._tcp.local.", "type": "_http._tcp.local."}]}
    return {**base, "devices": [{"usn": "uuid:1::upnp:rootdevice", "from": "192.168.1.1:1900"}]}


def _silent(legacy_answered: bool) -> dict[str, Any]:
    legacy = {"outcome": "answered" if legacy_answered else "no-answer",
              "answers": [{"from": "192.168.1.1:5353", "multicast": False}] if legacy_answered else []}
    return {"trials": 1, "sent": 1, "answered": 0, "loss": 1.0, "outcome": "no-answer", "first_answer_ms": None,
            "errors": [], "responders": [], "service_types": [], "services": [], "qu": None, "legacy_unicast": legacy}


def _healthy(**kw: Any) -> DatapathObservation:
    add = CniCall("macvlan", "ADD", 0, 2.9, RESULT)
    probe = {"error": None, "mdns": _answered("mdns"), "ssdp": _answered("ssdp"), "ipv6": ipv6_observation()}
    return _obs(**{"add": add, "pod_addresses": ("192.168.1.140/24",), "pod_routes": ROUTES, "probe": probe, **kw})


def _by_id(findings: list[Finding]) -> dict[str, Finding]:
    assert len({f.check for f in findings}) == len(findings), "one finding per layer"
    return {f.check: f for f in findings}


def test_healthy_path_passes_every_layer_and_warns_about_the_second_default_route() -> None:
    f = _by_id(judge(_healthy()))
    assert {k: v.status for k, v in f.items()} == {
        c.PLUGINS: Status.PASS, c.DHCP_DAEMON: Status.PASS, c.MASTER: Status.PASS, c.ATTACH: Status.PASS,
        c.LEASE: Status.PASS, c.ROUTES: Status.WARN, c.MDNS: Status.PASS, c.SSDP: Status.PASS, c.IPV6: Status.PASS,
        c.THREAD_ROUTES: Status.PASS, c.MATTER: Status.PASS, c.CLEANUP: Status.PASS}
    assert "192.168.1.140/24" in f[c.LEASE].message and "192.168.1.0/24" in f[c.LEASE].message
    assert "second default route" in f[c.ROUTES].message and "Web._http._tcp.local." in f[c.MDNS].message


def test_without_the_ipv6_probe_a_net1_without_ipv4_default_route_does_not_claim_no_default_route_at_all() -> None:
    routes = [r for r in ROUTES if r.get("dst") != "default"]
    assert routes, "the sample has a subnet route"
    looked = _by_id(judge(_healthy(pod_routes=routes)))[c.ROUTES]
    assert looked.status is Status.PASS and looked.message.endswith("and no default route.")
    probe = {"error": None, "mdns": _answered("mdns"), "ssdp": _answered("ssdp")}  # --skip of every IPv6 check
    unseen = _by_id(judge(_healthy(pod_routes=routes, probe=probe)))[c.ROUTES]
    assert "no IPv4 default route" in unseen.message and "IPv6 routes were not looked at" in unseen.message


def test_missing_ipam_binary_is_a_plugins_failure_with_the_exact_text_and_later_layers_skip() -> None:
    msg = 'failed to find plugin "dhcp" in path [/opt/cni/bin]'
    f = _by_id(judge(_obs(plugins={"macvlan": "/opt/cni/bin/macvlan", "dhcp": None}, add=_failed_add(msg))))
    assert f[c.PLUGINS].status is Status.FAIL and msg in f[c.PLUGINS].message
    assert all(f[cid].status is Status.SKIP for cid in (c.ATTACH, c.LEASE, c.ROUTES, c.MDNS, c.SSDP))
    assert "Not reached" in f[c.MDNS].message


def test_missing_main_plugin_blocks_add_and_quotes_libcni() -> None:
    f = _by_id(judge(_obs(plugins={"macvlan": None, "dhcp": "/opt/cni/bin/dhcp"}, pod_netns=None,
                          add_blocked="the main plugin 'macvlan' is not in CNI_PATH", dels=[], netns_removed=None)))
    assert f[c.PLUGINS].status is Status.FAIL
    assert 'failed to find plugin "macvlan" in path [/opt/cni/bin]' in f[c.PLUGINS].message
    assert f[c.ATTACH].status is Status.SKIP and f[c.CLEANUP].status is Status.SKIP


@pytest.mark.parametrize(("sock", "word"), [(SocketState(SOCK, "missing"), "No DHCP daemon socket"),
                                             (SocketState(SOCK, "socket", False, "Connection refused"), "dead")])
def test_dhcp_daemon_missing_or_dead_fails_its_layer_with_the_plugin_error(sock: SocketState, word: str) -> None:
    err = "connect: no such file or directory" if sock.kind == "missing" else "connect: connection refused"
    msg = f"error dialing DHCP daemon: dial unix {SOCK}: {err}"
    f = _by_id(judge(_obs(dhcp_socket=sock, add=_failed_add(msg))))
    assert f[c.DHCP_DAEMON].status is Status.FAIL
    assert word in f[c.DHCP_DAEMON].message and msg in f[c.DHCP_DAEMON].message
    assert f[c.PLUGINS].status is Status.PASS and f[c.LEASE].status is Status.SKIP


def test_missing_master_fails_the_master_layer_with_link_not_found() -> None:
    f = _by_id(judge(_obs(master=MasterState("eth1", False), add=_failed_add("Link not found"))))
    assert f[c.MASTER].status is Status.FAIL and "`Link not found`" in f[c.MASTER].message
    assert f[c.ATTACH].status is Status.SKIP


def test_down_master_is_reported_without_waiting_for_dhcp() -> None:
    obs = _obs(master=MasterState("eth1", True, False, "DOWN"), add_blocked="the master eth1 is down",
               pod_netns=None, dels=[], netns_removed=None)
    f = _by_id(judge(obs))
    assert f[c.MASTER].status is Status.FAIL and "administratively down" in f[c.MASTER].message
    assert f[c.LEASE].status is Status.SKIP and "not attempted" in f[c.LEASE].message


def test_no_offer_is_a_lease_failure_that_says_how_long_it_waited() -> None:
    f = _by_id(judge(_obs(add=_failed_add("error calling DHCP.Allocate: no more tries", 14.5))))
    assert f[c.LEASE].status is Status.FAIL
    assert "waited 14.5 s" in f[c.LEASE].message and "no more tries" in f[c.LEASE].message
    assert f[c.ATTACH].status is Status.SKIP and f[c.MASTER].status is Status.PASS


def test_unknown_add_error_is_an_attach_failure_quoting_it() -> None:
    msg = 'failed to rename macvlan to "net1": file exists'
    f = _by_id(judge(_obs(add=_failed_add(msg))))
    assert f[c.ATTACH].status is Status.FAIL and msg in f[c.ATTACH].message


def test_lease_outside_the_master_subnet_fails() -> None:
    res = {**RESULT, "ips": [{"version": "4", "address": "10.0.0.50/24", "gateway": "10.0.0.1"}]}
    obs = _healthy()
    obs.add = CniCall("macvlan", "ADD", 0, 2.9, res)
    f = _by_id(judge(obs))
    assert f[c.LEASE].status is Status.FAIL and "outside" in f[c.LEASE].message and "192.168.1.0/24" in f[c.LEASE].message


def test_lease_without_a_known_subnet_is_not_a_pass() -> None:
    f = _by_id(judge(_healthy(master=MasterState("eth1", True, True, "UP", ()))))
    assert f[c.LEASE].status is Status.WARN and "--lan-subnet" in f[c.LEASE].remediation


def test_no_multicast_answer_while_unicast_works_is_named_as_such() -> None:
    obs = _healthy()
    obs.probe = {"error": None, "mdns": _silent(legacy_answered=True), "ssdp": _answered("ssdp")}
    f = _by_id(judge(obs))
    assert f[c.MDNS].status is Status.FAIL and "while unicast works" in f[c.MDNS].message
    assert f[c.SSDP].status is Status.PASS


def test_no_answer_at_all_and_could_not_send_are_different_verdicts() -> None:
    obs = _healthy()
    send_error = {**_silent(False), "outcome": "send-error", "errors": ["QM: Network is down"]}
    obs.probe = {"error": None, "mdns": _silent(legacy_answered=False), "ssdp": send_error}
    f = _by_id(judge(obs))
    assert f[c.MDNS].status is Status.FAIL and "neither multicast nor legacy unicast" in f[c.MDNS].message
    assert f[c.SSDP].status is Status.ERROR and "Network is down" in f[c.SSDP].message


def test_a_probe_that_could_not_run_is_an_error_never_a_pass() -> None:
    f = _by_id(judge(_healthy(probe=None, probe_error="probe process 7 did not finish within 30 s; killed")))
    assert f[c.MDNS].status is Status.ERROR and f[c.SSDP].status is Status.ERROR


def test_lossy_mdns_is_a_warning_with_the_counts() -> None:
    obs = _healthy()
    obs.probe["mdns"] = {**_answered("mdns"), "trials": 4, "sent": 4, "answered": 3, "loss": 0.25}  # type: ignore[index]
    f = _by_id(judge(obs))
    assert f[c.MDNS].status is Status.WARN and "3/4" in f[c.MDNS].message


def test_namespace_left_behind_fails_cleanup() -> None:
    f = _by_id(judge(_healthy(netns_removed=False, cleanup_error="Device or resource busy")))
    assert f[c.CLEANUP].status is Status.FAIL and "mc-probe-1" in f[c.CLEANUP].message
