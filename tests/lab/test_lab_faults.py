"""Each injected fault is diagnosed at its layer, with the plugin's exact error text."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from multus_check.checks import datapath as c
from multus_check.lab import faults
from multus_check.lab.config import LabState
from multus_check.model import Finding, Status
from multus_check.probes import netns
from multus_check.probes.datapath_verdicts import judge
from tests.lab.conftest import lab_fixture, probe

pytestmark = pytest.mark.lab
fault_lab = lab_fixture("tf")


@pytest.fixture
def broken(fault_lab: LabState, request: pytest.FixtureRequest) -> Iterator[LabState]:
    """The module's lab with the fault named by the test's parameter, repaired afterwards."""
    fault = request.param
    faults.inject(fault_lab, fault)
    try:
        yield fault_lab
    finally:
        faults.repair(fault_lab, fault)


def _verdicts(state: LabState, **kw: object) -> dict[str, Finding]:
    obs = probe(state, **kw)  # type: ignore[arg-type]
    assert obs.pod_netns is None or not netns.exists(obs.pod_netns), "the throwaway namespace is always removed"
    return {f.check: f for f in judge(obs)}


def _not_reached(f: dict[str, Finding], *ids: str) -> None:
    for cid in ids:
        assert f[cid].status is Status.SKIP and "Not reached" in f[cid].message, f[cid]


@pytest.mark.parametrize("broken", ["dhcp-daemon"], indirect=True)
def test_dead_dhcp_daemon_is_connection_refused_on_its_stale_socket(broken: LabState) -> None:
    f = _verdicts(broken)
    assert f[c.DHCP_DAEMON].status is Status.FAIL
    assert "dead" in f[c.DHCP_DAEMON].message
    assert (f"error dialing DHCP daemon: dial unix {broken.dhcp_socket}: connect: connection refused"
            in f[c.DHCP_DAEMON].message)
    assert f[c.PLUGINS].status is Status.PASS and f[c.MASTER].status is Status.PASS
    _not_reached(f, c.ATTACH, c.LEASE, c.MDNS, c.SSDP)
    assert f[c.CLEANUP].status is Status.PASS  # the leaked macvlan went with the namespace


@pytest.mark.parametrize("broken", ["plugin"], indirect=True)
def test_missing_macvlan_binary_is_a_plugins_failure_and_add_is_not_attempted(broken: LabState) -> None:
    f = _verdicts(broken)
    assert f[c.PLUGINS].status is Status.FAIL
    assert f'failed to find plugin "macvlan" in path [{broken.cni_bin}]' in f[c.PLUGINS].message
    _not_reached(f, c.ATTACH, c.LEASE, c.ROUTES, c.MDNS, c.SSDP)
    assert f[c.CLEANUP].status is Status.SKIP


def test_missing_ipam_binary_shows_the_plugins_own_error(fault_lab: LabState, tmp_path: object) -> None:
    from pathlib import Path

    only_macvlan = Path(str(tmp_path)) / "cni"
    only_macvlan.mkdir()
    (only_macvlan / "macvlan").symlink_to(fault_lab.cni_bin / "macvlan")
    f = _verdicts(fault_lab, cni_path=[str(only_macvlan)])
    assert f[c.PLUGINS].status is Status.FAIL
    assert f'`failed to find plugin "dhcp" in path [{only_macvlan}]`' in f[c.PLUGINS].message


@pytest.mark.parametrize("broken", ["master"], indirect=True)
def test_down_master_is_found_at_once_without_the_35_second_dhcp_wait(broken: LabState) -> None:
    t0 = time.monotonic()
    f = _verdicts(broken)
    assert time.monotonic() - t0 < 2.0
    assert f[c.MASTER].status is Status.FAIL and "lan0" in f[c.MASTER].message and "down" in f[c.MASTER].message
    _not_reached(f, c.ATTACH, c.LEASE, c.MDNS)


def test_missing_master_is_link_not_found(fault_lab: LabState) -> None:
    conf = json.loads(fault_lab.nad_config.read_text())
    conf["plugins"][0]["master"] = "eth9"  # the lab NAD is a conflist: macvlan, then tuning
    f = _verdicts(fault_lab, conf_text=json.dumps(conf))
    assert f[c.MASTER].status is Status.FAIL
    assert "eth9" in f[c.MASTER].message and "`Link not found`" in f[c.MASTER].message
    _not_reached(f, c.LEASE)


@pytest.mark.parametrize("broken", ["dhcp-server"], indirect=True)
def test_stopped_dhcp_server_is_no_offer_with_the_time_waited(broken: LabState) -> None:
    f = _verdicts(broken)
    assert f[c.LEASE].status is Status.FAIL
    assert "No DHCP offer" in f[c.LEASE].message and "`error calling DHCP.Allocate: no more tries`" in f[c.LEASE].message
    assert f[c.MASTER].status is Status.PASS and f[c.DHCP_DAEMON].status is Status.PASS
    _not_reached(f, c.ROUTES, c.MDNS, c.SSDP)


def test_lease_outside_the_expected_subnet_fails(fault_lab: LabState) -> None:
    f = _verdicts(fault_lab, lan_subnet="10.99.0.0/24", probes=())
    assert f[c.LEASE].status is Status.FAIL and "outside" in f[c.LEASE].message and "10.99.0.0/24" in f[c.LEASE].message


@pytest.mark.parametrize("broken", ["multicast"], indirect=True)
def test_dropped_multicast_is_no_multicast_answer_while_unicast_works(broken: LabState) -> None:
    f = _verdicts(broken, probes=("mdns", "ssdp", "ipv6"))
    assert f[c.LEASE].status is Status.PASS
    assert f[c.MDNS].status is Status.FAIL and "while unicast works" in f[c.MDNS].message
    assert f[c.SSDP].status is Status.PASS  # SSDP replies are unicast: the query still got out
    # IPv6 multicast goes too; the IPv4 legacy-unicast answer tells "dropped" apart from "nothing answers"
    assert f[c.MATTER].status is Status.FAIL and "IPv6 and IPv4 alike" in f[c.MATTER].message
