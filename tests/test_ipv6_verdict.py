"""One IPv6 verdict: the same IPv6 observation gets the same status and names the same cause on `node`/`lab`
and in the sample pod (checks/ipv6.py, used by datapath.ipv6/thread-routes/matter and e2e.*)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from multus_check.checks import datapath as dp
from multus_check.checks import e2e as ids
from multus_check.checks import ipv6 as rule
from multus_check.model import Finding, Status
from multus_check.probes.datapath_verdicts import judge as judge_datapath
from tests.e2e.samples import NODE6, ROUTER_LL, THREAD6, ipv6_observation, observation, probe_output
from tests.probes.test_judge import _answered, _healthy, _silent

P, F, W, S, E = Status.PASS, Status.FAIL, Status.WARN, Status.SKIP, Status.ERROR
NODE_IDS, POD_IDS = (dp.IPV6, dp.THREAD_ROUTES, dp.MATTER), (ids.IPV6, ids.THREAD_ROUTES, ids.MATTER)


def _node(v6: dict[str, Any] | None, ipv4_mdns: dict[str, Any] | None = None) -> list[Finding]:
    probe = {"error": None, "mdns": ipv4_mdns or {**_answered("mdns"), "responders": ["192.168.77.1"]}, "ssdp": _answered("ssdp"), "ipv6": v6}
    found = {f.check: f for f in judge_datapath(_healthy(probe=probe))}
    return [found[cid] for cid in NODE_IDS]


def _pod(v6: dict[str, Any] | None, ipv4_mdns: str = "answered", unicast: str | None = None) -> list[Finding]:
    from multus_check.e2e.pod_verdicts import judge_ipv6

    output = probe_output(mdns=ipv4_mdns, unicast=unicast)
    output["multicast"]["ipv6"] = copy.deepcopy(v6)
    return judge_ipv6(observation(output))


def _no_border_router(max_plen: int) -> dict[str, Any]:
    v6 = ipv6_observation()
    v6["ra"]["answers"][0]["routes"], v6["ra"]["route_information"] = [], []
    v6["routes"] = v6["routes_before_rs"] = [r for r in v6["routes"] if r["protocol"] != "ra"]
    v6["sysctls"]["accept_ra_rt_info_max_plen"] = max_plen
    v6["matter"]["targets"][0]["address"] = "fd6d:636c:614d::77"  # a Wi-Fi Matter device on the LAN itself
    return v6


def _late_route() -> dict[str, Any]:
    v6 = ipv6_observation()
    v6["routes_before_rs"] = [r for r in v6["routes"] if r["protocol"] != "ra"]
    return v6


def _no_ack() -> dict[str, Any]:
    v6 = ipv6_observation()
    v6["matter"]["outcome"] = v6["matter"]["targets"][0]["outcome"] = "no-answer"
    return v6


def _no_matter_node() -> dict[str, Any]:
    v6 = ipv6_observation()
    v6["mdns"]["services"] = [s for s in v6["mdns"]["services"] if s["type"] == "_meshcop._udp.local."]
    v6["matter"] = {"outcome": "not-run", "error": None, "reason": "no Matter node was discovered"}
    return v6


def _slaac_blocked() -> dict[str, Any]:
    v6 = ipv6_observation()
    v6["sysctls"]["autoconf"] = 0
    v6["addresses"] = [a for a in v6["addresses"] if a["scope"] == "link"]
    return v6


def _long_rio(plen: int = 128) -> dict[str, Any]:
    """A border router announcing a /128 RIO; net1 has the usual tuning (max_plen 64), so no route."""
    v6 = ipv6_observation("thread-routes")
    v6["sysctls"]["accept_ra_rt_info_max_plen"] = 64
    v6["ra"]["answers"][0]["routes"] = [{"prefix": f"{NODE6}/{plen}", "preference": "high", "lifetime": 1800}]
    return v6


def _no_router_but_a_thread_node() -> dict[str, Any]:
    """radvd (the border router's RAs) gone, its mDNS proxy still answering: the node is off-link and unroutable."""
    v6 = ipv6_observation("thread-routes")
    v6.update(ra=ipv6_observation("no-router")["ra"], addresses=ipv6_observation("no-router")["addresses"])
    v6["sysctls"]["accept_ra_rt_info_max_plen"] = 64
    return v6


def _icmp_error(error: str) -> dict[str, Any]:
    v6 = _no_ack()
    v6["matter"]["targets"][0]["icmp_error"] = error
    return v6


CASES = [  # (name, observation, IPv4 mDNS answered (None: legacy unicast only), statuses, words the first non-pass finding names)
    ("healthy", ipv6_observation(), True, (P, P, P), "acknowledged"),
    ("ipv6 disabled", ipv6_observation("ipv6"), True, (F, S, S), "net.ipv6.conf.net1.disable_ipv6=1"),
    ("no thread route", ipv6_observation("thread-routes"), True, (P, F, S),
     "net.ipv6.conf.net1.accept_ra_rt_info_max_plen=0"),
    ("ipv6 multicast dropped", ipv6_observation("ipv6-multicast"), True, (P, P, F), "IPv6 multicast dropped"),
    ("all mDNS silent", ipv6_observation("ipv6-multicast"), False, (P, P, F), "IPv4 mDNS got none either"),
    ("all multicast dropped", ipv6_observation("ipv6-multicast"), None, (P, P, F), "IPv6 and IPv4 alike"),
    ("no router at all", ipv6_observation("no-router"), True, (P, S, F), "No Thread border router advertised a route"),
    ("no border router, max_plen 0", _no_border_router(0), True, (P, W, P), "accept_ra_rt_info_max_plen=0"),
    ("no border router, max_plen 64", _no_border_router(64), True, (P, S, P), "would accept one"),
    ("route only after the RS", _late_route(), True, (P, P, P), "next periodic RA"),
    ("node does not ack", _no_ack(), True, (P, P, F), "acknowledged a message within"),
    ("RIO /128, max_plen 64", _long_rio(), True, (P, F, S), "this one is /128"),
    ("RAs gone, node still advertised", _no_router_but_a_thread_node(), True, (P, S, F),
     "no router answered a Router Solicitation"),
    ("node port unreachable", _icmp_error("Connection refused"), True, (P, P, F), "ICMPv6 port unreachable"),
    ("node address unreachable", _icmp_error("No route to host"), True, (P, P, F), "drew an ICMPv6 error"),
    ("no Matter node", _no_matter_node(), True, (P, P, W), "no Matter node advertises"),
    ("SLAAC blocked", _slaac_blocked(), True, (F, S, S), "net.ipv6.conf.net1.autoconf=0"),
    ("probe did not run", None, True, (E, E, E), "ould not"),  # each path says which probe could not run
]


@pytest.mark.parametrize(("name", "v6", "ipv4", "statuses", "named"), CASES, ids=[c[0] for c in CASES])
def test_the_node_path_and_the_sample_pod_give_the_same_status_and_name_the_same_cause(
        name: str, v6: dict[str, Any] | None, ipv4: bool | None, statuses: tuple[Status, ...], named: str) -> None:
    if name == "no router at all":  # the RS got no answer and mDNS none either: the matter verdict fails on mDNS
        v6 = copy.deepcopy(v6)
        assert v6 is not None
        v6.update(mdns=ipv6_observation("ipv6-multicast")["mdns"])
    node = _node(copy.deepcopy(v6), None if ipv4 else _silent(ipv4 is None))  # None: only legacy unicast answered
    pod = _pod(v6, "answered" if ipv4 else "no-answer", unicast="answered" if ipv4 is None else None)
    assert tuple(f.status for f in node) == statuses, [f.message for f in node]
    assert tuple(f.status for f in pod) == statuses, [f.message for f in pod]
    first = next((i for i, s in enumerate(statuses) if s is not P),
                  next(i for i, f in enumerate(node) if named in f.message))
    assert named in node[first].message and named in pod[first].message
    for n, p in zip(node, pod, strict=True) if v6 is not None else ():
        said = n.message.replace("datapath.", "e2e.")
        assert p.message == f"Inside {observation().pod}: {said}", "one wording, two subjects"


def test_a_missing_route_names_the_sysctl_its_value_and_the_nad_patch() -> None:
    f = _node(ipv6_observation("thread-routes"))[1]
    assert f.status is F and ROUTER_LL in f.message and THREAD6 in f.message and "/64" in f.message
    assert '"net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"' in f.remediation
    assert "recreate the pods" in f.remediation and f.evidence["accept_ra_rt_info_max_plen"] == 0


def test_an_unreachable_thread_node_is_not_reached_never_a_pass_and_says_what_was_discovered() -> None:
    f = _node(ipv6_observation("thread-routes"))[2]
    assert f.status is S and "Network is unreachable" in f.message and "datapath.thread-routes failed" in f.message
    assert "2 Matter node record(s)" in f.message and "1 Thread border router(s)" in f.message


def test_the_healthy_round_trip_says_it_crossed_the_thread_route() -> None:
    f = _node(ipv6_observation())[2]
    assert f"[{NODE6}]:5540" in f.message and f"across the Thread route {THREAD6}" in f.message


def test_forwarding_on_is_a_warning_naming_the_sysctl() -> None:
    v6 = ipv6_observation()
    v6["sysctls"]["forwarding"] = 1
    node = _node(v6)
    assert node[0].status is W and "net.ipv6.conf.net1.forwarding=1" in node[0].message
    assert node[1].status is P, "a warning on ipv6 does not stop the layers after it"


def test_forwarding_with_accept_ra_1_explains_why_slaac_did_not_happen() -> None:
    v6 = _slaac_blocked()
    v6["sysctls"].update(autoconf=1, forwarding=1)
    assert "unless accept_ra=2" in rule.ipv6_verdict(v6, "net1").message


def test_a_net1_ipv6_default_route_from_an_ra_warns_on_the_node_naming_accept_ra_defrtr() -> None:
    v6 = ipv6_observation()
    v6["routes"].append({"dst": "default", "gateway": ROUTER_LL, "protocol": "ra", "metric": 1024, "pref": "medium",
                         "expires": 1799})
    probe = {"error": None, "mdns": _answered("mdns"), "ssdp": _answered("ssdp"), "ipv6": v6}
    f = {f.check: f for f in judge_datapath(_healthy(probe=probe))}[dp.ROUTES]
    assert f.status is W and "accept_ra_defrtr=1" in f.message and ROUTER_LL in f.message
    assert "net.ipv6.conf.IFNAME.accept_ra_defrtr" in f.remediation and "IPv4 default route" in f.message


def test_in_the_pod_the_ipv6_default_route_warns_only_when_eth0_has_one_too() -> None:
    from multus_check.e2e.pod_verdicts import Expectations, judge_service_dns

    expect = Expectations("10.43.0.10", "10.43.0.1", {}, {})
    output = probe_output()
    output["multicast"]["ipv6"]["routes"].append({"dst": "default", "gateway": ROUTER_LL, "protocol": "ra",
                                                  "metric": 1024, "pref": "medium", "expires": 1799})
    assert judge_service_dns(observation(output), expect).status is P, "no IPv6 on eth0: nothing competes"
    output["eth0_ipv6_routes"] = [{"dst": "default", "gateway": "fe80::1", "protocol": "boot", "metric": 1024}]
    f = judge_service_dns(observation(output), expect)
    assert f.status is W and "accept_ra_defrtr=1" in f.message and "fe80::1" in f.message
    assert "net.ipv6.conf.IFNAME.accept_ra_defrtr" in f.remediation


def test_a_pod_probe_without_an_ipv6_result_is_could_not_look() -> None:
    output = probe_output()
    del output["multicast"]["ipv6"]
    from multus_check.e2e.pod_verdicts import judge_ipv6

    assert {f.status for f in judge_ipv6(observation(output))} == {E}


def test_a_rio_longer_than_64_with_max_plen_64_asks_for_its_length_not_the_patch_the_nad_already_has() -> None:
    f = _node(_long_rio())[1]
    assert f.status is F and "accept_ra_rt_info_max_plen=64" in f.message and "/128" in f.message
    assert '"net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "128"' in f.remediation
    assert '"64"' not in f.remediation and "border router" in f.remediation
    assert _node(ipv6_observation("thread-routes"))[1].remediation == rule.NAD_PATCH, "a /64 RIO keeps the usual patch"


def test_a_thread_node_nobody_advertises_a_route_to_fails_naming_the_missing_router_advertisement() -> None:
    found = _node(_no_router_but_a_thread_node())
    assert found[1].status is S and found[2].status is F
    assert "Network is unreachable" in found[2].message and "Router Advertisements" in found[2].remediation
    assert "no Thread border router advertised one (no router answered a Router Solicitation)" in found[2].message


def test_an_icmpv6_error_to_the_matter_message_names_the_device_not_a_dropping_path() -> None:
    refused = _node(_icmp_error("Connection refused"))[2]
    assert "nothing listens on that port" in refused.message and "drops UDP" not in refused.message
    assert "SRV" in refused.remediation
    gone = _node(_icmp_error("No route to host"))[2]
    assert "No route to host" in gone.message and "device is off" in gone.message
    silent = _node(_no_ack())[2]
    assert "drops UDP" in silent.message, "without an ICMPv6 error the path is still the suspect"
