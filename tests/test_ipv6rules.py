"""domain/ipv6rules.py: what a NAD's chain sets for net1's IPv6, judged and repaired as pure functions."""

from __future__ import annotations

import json
from typing import Any

from multus_check.domain.ipv6rules import ra_default_route, readiness, ready_config

MACVLAN = {"type": "macvlan", "master": "eth0", "ipam": {"type": "dhcp"}}
READY = {"net.ipv6.conf.IFNAME.accept_ra": "1", "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"}


def _chain(*plugins: dict[str, Any], main: dict[str, Any] = MACVLAN) -> dict[str, Any]:
    return {"cniVersion": "0.4.0", "name": "lan", "plugins": [main, *plugins]}


def _tuning(sysctl: dict[str, str]) -> dict[str, Any]:
    return {"type": "tuning", "sysctl": sysctl}


def test_the_two_sysctls_through_tuning_after_the_main_plugin_are_ready() -> None:
    verdict = readiness(_chain(_tuning(READY)))
    assert verdict.ready and verdict.main == "macvlan" and verdict.wanted == {}


def test_a_tuning_before_the_interface_plugin_or_keys_on_default_and_all_do_not_count() -> None:
    assert readiness({"cniVersion": "0.4.0", "plugins": [_tuning(READY), MACVLAN]}).skip is not None
    verdict = readiness(_chain(_tuning({"net.ipv6.conf.default.accept_ra_rt_info_max_plen": "64",
                                        "net.ipv6.conf.all.accept_ra_rt_info_max_plen": "64",
                                        "net.ipv6.conf.IFNAME.accept_ra": "1"})))
    assert verdict.wanted == {"accept_ra_rt_info_max_plen": "64"}


def test_forwarding_on_needs_accept_ra_2() -> None:
    verdict = readiness(_chain(_tuning({**READY, "net.ipv6.conf.all.forwarding": "1"})))
    assert verdict.wanted == {"accept_ra": "2"} and "needs 2 because forwarding is on" in verdict.problems[0]


def test_a_min_plen_above_64_or_a_value_that_is_no_number_is_a_problem() -> None:
    verdict = readiness(_chain(_tuning({**READY, "net.ipv6.conf.IFNAME.accept_ra_rt_info_min_plen": "96"})))
    assert verdict.wanted == {"accept_ra_rt_info_min_plen": "0"}
    verdict = readiness(_chain(_tuning({**READY, "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "sixty-four"})))
    assert verdict.wanted == {"accept_ra_rt_info_max_plen": "64"}


def test_ipvlan_l3_and_non_lan_plugins_are_not_judged() -> None:
    assert "passes no multicast" in str(readiness(_chain(main={"type": "ipvlan", "mode": "l3",
                                                               "ipam": {"type": "dhcp"}})).skip)
    assert "'ptp'" in str(readiness({"cniVersion": "0.4.0", "type": "ptp"}).skip)
    assert readiness({"cniVersion": "0.4.0", "type": "bridge", "bridge": "br-lan"}).skip is None


def test_ready_config_turns_a_single_config_into_a_conflist_keeping_every_key_in_order() -> None:
    single = {"cniVersion": "0.3.1", "name": "lan", "type": "macvlan", "master": "eth0", "mode": "bridge",
              "linkInContainer": False, "ipam": {"type": "dhcp", "request": [{"skipDefault": True}]}}
    conf, what = ready_config(single, readiness(single))
    assert list(conf) == ["cniVersion", "name", "plugins"]
    assert conf["plugins"][0] == {k: v for k, v in single.items() if k not in ("cniVersion", "name")}
    assert list(conf["plugins"][0]) == ["type", "master", "mode", "linkInContainer", "ipam"]
    assert conf["plugins"][1] == _tuning(READY) and readiness(conf).ready
    assert what[0].startswith("turned into a conflist")


def test_ready_config_lifts_an_old_or_missing_cni_version_to_0_3_1_and_says_so() -> None:
    single = {"type": "macvlan", "master": "eth0", "ipam": {"type": "dhcp"}}
    conf, what = ready_config(single, readiness(single))
    assert conf["cniVersion"] == "0.3.1" and "name" not in conf and "-> 0.3.1" in what[0]


def test_ready_config_fixes_values_in_place_in_the_last_tuning_and_enables_ipv6() -> None:
    chain = _chain(_tuning({"net.core.somaxconn": "500"}),
                   _tuning({"net.ipv6.conf.net1.disable_ipv6": "1", "net.ipv6.conf.net1.accept_ra_rt_info_max_plen": "0"}))
    conf, _ = ready_config(chain, readiness(chain))
    assert conf["plugins"][1] == chain["plugins"][1]
    assert conf["plugins"][2]["sysctl"] == {"net.ipv6.conf.net1.disable_ipv6": "0",
                                            "net.ipv6.conf.net1.accept_ra_rt_info_max_plen": "64",
                                            "net.ipv6.conf.IFNAME.accept_ra": "1"}
    assert readiness(conf).ready and json.dumps(chain) != json.dumps(conf)


def test_a_dual_stack_cluster_also_wants_accept_ra_defrtr_0_and_that_ends_the_ra_default_route() -> None:
    chain = _chain(_tuning(READY))
    assert ra_default_route(chain) == ("accepts Router Advertisements (net.ipv6.conf.IFNAME.accept_ra=1) and does not "
                                       "set net.ipv6.conf.IFNAME.accept_ra_defrtr=0")
    verdict = readiness(chain, ipv6_services=True)
    assert verdict.wanted == {"accept_ra_defrtr": "0"}
    conf, _ = ready_config(chain, verdict)
    assert ra_default_route(conf) is None and readiness(conf, ipv6_services=True).ready


def test_capitalised_type_and_sysctl_keys_count_as_the_binaries_read_them() -> None:
    """Go's encoding/json matches keys in any case: `"Type": "macvlan"` is a macvlan, `"Sysctl"` is the
    tuning plugin's sysctl map (the corpus case mut-thread-tuning-capitalised-keys runs the real chain)."""
    single = {"cniVersion": "0.4.0", "name": "lan", "Type": "macvlan", "master": "eth0", "ipam": {}}
    assert readiness(single).skip is None and readiness(single).main == "macvlan"
    assert readiness(_chain(main={"Type": "ipvlan", "Mode": "l3"})).skip is not None
    assert readiness(_chain({"Type": "tuning", "Sysctl": READY})).ready


def test_ready_config_writes_into_the_tuning_plugin_and_sysctl_spelling_already_there() -> None:
    chain = _chain({"Type": "tuning", "mac": "c2:11:22:33:44:55",
                    "Sysctl": {"net.ipv4.conf.IFNAME.arp_ignore": "1", "net.ipv6.conf.net1.accept_ra_rt_info_max_plen": "0"}})
    conf, what = ready_config(chain, readiness(chain))
    assert len(conf["plugins"]) == 2 and "sysctl" not in conf["plugins"][1], "no second tuning, no second map"
    assert conf["plugins"][1]["Sysctl"] == {"net.ipv4.conf.IFNAME.arp_ignore": "1",
                                            "net.ipv6.conf.net1.accept_ra_rt_info_max_plen": "64",
                                            "net.ipv6.conf.IFNAME.accept_ra": "1"}
    assert readiness(conf).ready and "a tuning plugin" not in "; ".join(what)


def test_a_single_config_with_capitalised_cni_version_and_name_keeps_both_as_libcni_reads_a_list() -> None:
    single = {"CNIVersion": "0.4.0", "Name": "lan", "type": "macvlan", "master": "eth0", "ipam": {}}
    conf, _ = ready_config(single, readiness(single))
    assert conf["cniVersion"] == "0.4.0" and conf["name"] == "lan"
    assert set(conf["plugins"][0]) == {"type", "master", "ipam"}


def test_a_tuning_whose_sysctl_values_are_not_strings_is_not_judged_ready() -> None:
    """tuning's sysctl is a Go map[string]string: `64` instead of `"64"` makes the binary refuse the
    whole chain, so no pod starts (corpus case mut-thread-tuning-number-values)."""
    verdict = readiness(_chain({"type": "tuning", "sysctl": {"net.ipv6.conf.IFNAME.accept_ra": 1,
                                                             "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": 64}}))
    assert not verdict.ready and verdict.skip is not None
    assert "refused by the tuning binary" in verdict.skip and "is the number 1" in verdict.skip


def test_values_are_read_as_the_kernel_reads_them_so_064_is_octal_and_below_64() -> None:
    """tests/corpus/test_tuning_ipv6_facts.py settles it with the real tuning binary: "064" sets 52."""
    verdict = readiness(_chain(_tuning({**READY, "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "064"})))
    assert verdict.wanted == {"accept_ra_rt_info_max_plen": "64"}
    assert "(the kernel reads '064' as 52) is below 64" in verdict.problems[0]
    assert readiness(_chain(_tuning({**READY, "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "0x40"}))).ready
    verdict = readiness(_chain(_tuning({**READY, "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "+64"})))
    assert verdict.wanted == {"accept_ra_rt_info_max_plen": "64"} and "no integer the kernel takes" in verdict.problems[0]
