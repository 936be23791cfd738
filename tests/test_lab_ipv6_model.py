"""The lab's IPv6 side as data (no root): the NAD conflist and its faults, prefixes, radvd and avahi files."""

from __future__ import annotations

import ipaddress
import xml.etree.ElementTree as ET

from multus_check.lab import thread
from multus_check.lab.config import FAULTS, NS_PREFIX, THREAD_SYSCTLS, LabState


def test_lab_nad_is_macvlan_with_dhcp_then_tuning_with_what_thread_needs() -> None:
    nad = LabState("six", "192.168.80.0/24").nad()
    assert [p["type"] for p in nad["plugins"]] == ["macvlan", "tuning"]
    assert nad["plugins"][0]["ipam"]["type"] == "dhcp" and nad["plugins"][0]["master"] == "lan0"
    assert nad["plugins"][1]["sysctl"] == {"net.ipv6.conf.IFNAME.accept_ra": "1",
                                           "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"} == THREAD_SYSCTLS
    assert nad["cniVersion"] == "0.3.1" and nad["name"] == "lab-six"


def test_nad_faults_drop_the_tuning_step_or_disable_ipv6_through_it() -> None:
    no_tuning = LabState("six", "192.168.80.0/24", breaks=["thread-routes"]).nad()
    assert "plugins" not in no_tuning and no_tuning["type"] == "macvlan"  # the single-plugin NAD most users have
    disabled = LabState("six", "192.168.80.0/24", breaks=["ipv6"]).nad()
    assert disabled["plugins"][1]["sysctl"]["net.ipv6.conf.IFNAME.disable_ipv6"] == "1"
    both = LabState("six", "192.168.80.0/24", breaks=["thread-routes", "ipv6"]).nad()
    assert both["plugins"][1]["sysctl"] == {"net.ipv6.conf.IFNAME.disable_ipv6": "1"}
    assert {"ipv6", "thread-routes", "ipv6-multicast"} <= set(FAULTS)


def test_each_lab_has_its_own_ula_lan_and_thread_prefixes() -> None:
    a, b = LabState("a", "192.168.77.0/24"), LabState("b", "192.168.78.0/24")
    assert str(a.lan6_prefix) == "fd6d:636c:614d::/64" and str(a.thread_prefix) == "fd74:6872:644d::/64"
    assert a.lan6_prefix != b.lan6_prefix and a.thread_prefix != b.thread_prefix
    ula = ipaddress.IPv6Network("fc00::/7")
    assert all(p.subnet_of(ula) and p.prefixlen == 64 for p in (a.lan6_prefix, a.thread_prefix))
    assert ipaddress.IPv6Address(a.router_ip6) in a.lan6_prefix
    assert ipaddress.IPv6Address(a.matter_node_ip6) in a.thread_prefix
    assert [n.removeprefix(NS_PREFIX) for n in a.namespaces] == ["a-router", "a-node", "a-thread"]


def test_radvd_advertises_the_lan_prefix_for_slaac_and_the_thread_prefix_as_a_route_only() -> None:
    state = LabState("a", "192.168.77.0/24")
    conf = thread.radvd_conf(state)
    assert "interface rtr0 {" in conf and "AdvDefaultLifetime 0;" in conf
    assert "prefix fd6d:636c:614d::/64 { AdvOnLink on; AdvAutonomous on; };" in conf
    assert "route fd74:6872:644d::/64 { AdvRoutePreference high; AdvRouteLifetime 1800; };" in conf


def test_border_router_publishes_matter_services_over_ipv6_only_with_the_thread_address(tmp_path: object) -> None:
    from pathlib import Path

    state = LabState("a", "192.168.77.0/24")
    services, hosts = Path(str(tmp_path)) / "services", Path(str(tmp_path)) / "hosts"
    services.mkdir()
    entries = thread.write_avahi_records(state, services, hosts)
    assert entries == 4 and hosts.read_text() == f"{state.matter_node_ip6} {thread.MATTER_HOST}\n"
    matter = ET.fromstring((services / "matter.service").read_text().split("\n", 2)[2])
    svc = matter.find("service")
    assert svc is not None and svc.get("protocol") == "ipv6"
    assert svc.findtext("type") == "_matter._tcp" and svc.findtext("host-name") == thread.MATTER_HOST
    assert svc.findtext("port") == "5540"
    assert [s.text for s in svc.findall("subtype")] == ["_I2906C908D115D362._sub._matter._tcp"]
    meshcop = ET.fromstring((services / "meshcop.service").read_text().split("\n", 2)[2]).find("service")
    assert meshcop is not None and meshcop.findtext("host-name") is None  # the border router itself
    assert sorted(p.name for p in services.iterdir()) == ["matter.service", "matterc.service", "meshcop.service"]
