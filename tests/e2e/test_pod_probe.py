"""The sample pod's own evidence: route decisions from /proc/net/route and from the kernel."""

from __future__ import annotations

from multus_check.collect import netinfo
from multus_check.e2e import pod_probe

HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
# net1's DHCP default route was prepended before eth0's (flannel-k3s.md §3.3)
TWO_DEFAULTS = HEADER + "\n".join([
    "net1\t00000000\t014DA8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0",
    "eth0\t00000000\t01002A0A\t0003\t0\t0\t0\t00000000\t0\t0\t0",
    "eth0\t00002A0A\t01002A0A\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0",
    "eth0\t00002A0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
    "net1\t004DA8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
]) + "\n"
SERVICE_ROUTE = "eth0\t00002B0A\t01002A0A\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0\n"


def test_proc_route_is_parsed_with_addresses_in_dotted_form() -> None:
    routes = netinfo.parse_proc_route(TWO_DEFAULTS)
    assert routes[0]["dev"] == "net1" and routes[0]["gateway"] == "192.168.77.1" and routes[0]["prefixlen"] == 0
    assert routes[2]["dst"] == "10.42.0.0" and routes[2]["prefixlen"] == 16


def test_service_ip_follows_the_first_default_route_when_no_specific_route_exists() -> None:
    chosen = netinfo.lookup(netinfo.parse_proc_route(TWO_DEFAULTS), "10.43.0.10")
    assert chosen is not None and chosen["dev"] == "net1" and chosen["gateway"] == "192.168.77.1"


def test_a_service_cidr_route_keeps_service_traffic_on_eth0() -> None:
    chosen = netinfo.lookup(netinfo.parse_proc_route(TWO_DEFAULTS + SERVICE_ROUTE), "10.43.0.10")
    assert chosen is not None and chosen["dev"] == "eth0" and chosen["prefixlen"] == 16


def test_pod_network_uses_the_flannel_route_and_lower_metric_wins() -> None:
    routes = netinfo.parse_proc_route(TWO_DEFAULTS)
    assert (netinfo.lookup(routes, "10.42.7.9") or {})["dev"] == "eth0"
    metric = HEADER + "net1\t00000000\t014DA8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" \
        "eth0\t00000000\t01002A0A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    assert (netinfo.lookup(netinfo.parse_proc_route(metric), "10.43.0.10") or {})["dev"] == "eth0"


def test_the_kernel_names_loopback_for_a_loopback_address() -> None:
    choice = netinfo.kernel_choice("127.0.0.1", netinfo.all_interfaces())
    assert choice["dev"] == "lo" and choice["source"] == "127.0.0.1"


def test_a_missing_interface_is_reported_absent_not_invented() -> None:
    assert netinfo.interface("nosuchif0") == {"name": "nosuchif0", "present": False}


def test_exit_code_says_net1_missing_apart_from_no_answer() -> None:
    base = {"interfaces": {"net1": {"present": False}}, "multicast": {}}
    assert pod_probe.exit_code(base) == 4
    ok = {"interfaces": {"net1": {"present": True, "ipv4": "192.168.77.5"}},
          "multicast": {"mdns": {"outcome": "answered"}, "ssdp": {"outcome": "no-answer"}}, "dns": {"error": None}}
    assert pod_probe.exit_code(ok) == 3


def test_peer_beacons_round_trip_and_other_groups_or_answers_are_ignored() -> None:
    name = pod_probe.beacon_name("ab12cd34", 5, [0, 2, 7])
    assert name == "h85.mc-ab12cd34-5._multus-check._udp.local"
    packet = pod_probe.encode_query(name)
    assert pod_probe.parse_beacon(packet, "ab12cd34") == (5, [0, 2, 7])
    assert pod_probe.parse_beacon(packet, "ffffffff") is None, "another NAD's group"
    answer = packet[:2] + b"\x84\x00" + packet[4:]
    assert pod_probe.parse_beacon(answer, "ab12cd34") is None, "a response is not a beacon"
    assert pod_probe.parse_beacon(b"\x00" * 12, "ab12cd34") is None
    assert pod_probe.parse_beacon(pod_probe.encode_query("_services._dns-sd._udp.local"), "ab12cd34") is None


def test_a_beacon_is_a_well_formed_mdns_query_scapy_can_read() -> None:
    from scapy.layers.dns import DNS

    dns = DNS(pod_probe.encode_query(pod_probe.beacon_name("ab12cd34", 1, [])))
    assert dns.qr == 0 and dns.qdcount == 1 and dns.qd[0].qtype == 12
    assert dns.qd[0].qname == b"h0.mc-ab12cd34-1._multus-check._udp.local."
