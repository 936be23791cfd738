"""NAD keys are read the way Go and libcni read them (audit 10 item 1): encoding/json matches a key to a
struct field in any capitalisation, and libcni hands each plugin its config with the keys sorted, so
among spellings of one field the all-lower-case one (sorted last) wins. The corpus NADs
`mut-keycase-*` prove each verdict against Debian's real plugins (tests/corpus/); these are the
unit-level facts and the probe's side of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from multus_check.domain import cniconf
from multus_check.domain.gotypes import ListOf, decode, fold, go_get
from multus_check.domain.nadrules import binaries, cni_version, config_problems, link_needs, nad_plugins
from multus_check.probes import cni

GOOD = {"cniVersion": "0.3.1", "type": "macvlan", "master": "eth1", "mode": "bridge",
        "ipam": {"type": "static", "addresses": [{"address": "192.0.2.50/24"}]}}


def _fails(conf: dict[str, Any]) -> list[str]:
    return [p.message for p in config_problems(conf) if p.level == "fail"]


def test_keys_fold_as_gos_encoding_json_folds_them() -> None:
    assert fold("Master") == fold("MASTER") == fold("master")
    assert fold("maſter") == fold("master")  # the long s folds with s in Go's simple folding
    assert fold("\u212aind") == fold("kind")  # so does the Kelvin sign with k
    assert fold("vlanID") == fold("vlanId") and fold("mtu") != fold("mtu1")


def test_among_spellings_of_one_key_the_plugin_reads_the_lower_case_one_last() -> None:
    assert go_get({"Master": "eth9", "master": "eth1"}, "master") == "eth1"
    assert go_get({"master": "eth1", "Master": "eth9"}, "master") == "eth1"  # the order written does not matter
    assert go_get({"MASTER": "eth9", "Master": "eth8"}, "master") == "eth8"  # "MASTER" < "Master" in byte order


def test_a_key_spelled_with_other_capitals_is_judged_as_the_field_it_sets() -> None:
    assert any("unknown macvlan mode" in m for m in _fails({**GOOD, "mode": None, "MODE": "bogus"}))
    assert any("CIDR notation" in m for m in _fails({**GOOD, "ipam": {"type": "static",
                                                                     "Addresses": [{"address": "192.0.2.50"}]}}))
    assert any("invalid VLAN ID" in m for m in _fails({"cniVersion": "0.3.1", "type": "vlan", "master": "eth0",
                                                       "vlanID": 5000, "ipam": {"type": "dhcp"}}))
    assert [n.name for n in link_needs({**GOOD, "master": None, "Master": "eth9"})] == ["eth9"]
    assert [n.mtu for n in link_needs({**GOOD, "MTU": 9000})] == [9000]


def test_a_type_in_other_capitals_is_a_plugin_type_but_plugins_must_be_spelled_exactly() -> None:
    conf = {**{k: v for k, v in GOOD.items() if k != "type"}, "Type": "macvlan"}
    assert nad_plugins(conf) == [conf] and not _fails(conf) and binaries(conf) == ["macvlan", "static"]
    listed = {"cniVersion": "0.3.1", "Plugins": [GOOD]}  # libcni reads a list's keys from a Go map: exactly
    assert nad_plugins(listed) is None
    assert any("exact name, not 'Plugins'" in m for m in _fails(listed))


def test_a_vlan_id_spelled_vlanID_gets_no_doubt_about_a_missing_vlan_id() -> None:
    conf = {"cniVersion": "0.3.1", "type": "vlan", "master": "eth0", "vlanID": 5, "ipam": {"type": "dhcp"}}
    assert config_problems(conf) == []


def test_a_wrong_type_in_any_spelling_fails_even_when_another_spelling_is_right() -> None:
    assert any('"MTU" (Go reads it as "mtu") must be an integer' in m for m in _fails({**GOOD, "MTU": "9000", "mtu": 1500}))


def test_a_list_takes_its_cni_version_by_the_exact_key_a_single_plugin_in_any_spelling() -> None:
    assert cni_version({"CNIVersion": "0.4.0", "type": "macvlan"}) == "0.4.0"
    assert cni_version({"CNIVersion": "0.4.0", "plugins": [GOOD]}) == ""


def test_spellings_of_a_struct_field_merge_as_go_decodes_into_an_existing_struct() -> None:
    struct = {"ipam": {"type": "string", "subnet": "string"}, "tags": ListOf("string")}
    view, errors = decode({"IPAM": {"type": "host-local", "subnet": "10.0.0.0/24"}, "ipam": {"Subnet": "10.1.0.0/24"}},
                          struct)
    assert errors == [] and view["ipam"] == {"type": "host-local", "subnet": "10.1.0.0/24"}


def test_the_smaller_false_passes_of_the_audit_now_fail() -> None:
    assert any("below 68" in m for m in _fails({**GOOD, "mtu": 67}))
    assert any("below 68" in m for m in _fails({"cniVersion": "0.3.1", "type": "bridge", "mtu": 50}))
    assert not _fails({**GOOD, "mtu": 68})
    assert any("nameservers" in m for m in _fails({**GOOD, "ipam": {**GOOD["ipam"], "dns": {"nameservers": 5}}}))
    twice = {"type": "static", "addresses": [{"address": "192.0.2.50/24"}, {"address": "192.0.2.50/24"}]}
    assert any("listed twice" in m for m in _fails({**GOOD, "ipam": twice}))
    other_prefix = {"type": "static", "addresses": [{"address": "192.0.2.50/24"}, {"address": "192.0.2.50/25"}]}
    assert not _fails({**GOOD, "ipam": other_prefix})  # IPv4 refuses only the same address and prefix again
    gateway_only = {"type": "host-local", "subnet": "192.168.1.0/24", "rangeStart": "192.168.1.1", "rangeEnd": "192.168.1.1"}
    assert any("holds no address" in m for m in _fails({**GOOD, "ipam": gateway_only}))
    assert not _fails({**GOOD, "ipam": {**gateway_only, "rangeEnd": "192.168.1.2"}})
    resolv = config_problems({**GOOD, "ipam": {"type": "host-local", "subnet": "192.168.1.0/24",
                                               "resolvConf": "/etc/cni/my-resolv.conf"}})
    assert [p.level for p in resolv] == ["warn"] and "resolvConf" in resolv[0].message
    assert config_problems({**GOOD, "ipam": {"type": "host-local", "subnet": "192.168.1.0/24",
                                             "resolvConf": "/etc/resolv.conf"}}) == []


def test_the_probe_runs_a_capitalised_type_and_gives_the_plugin_its_keys_sorted_as_libcni_does(tmp_path: Path) -> None:
    seen = tmp_path / "stdin.json"
    plugin = tmp_path / "bin" / "macvlan"
    plugin.parent.mkdir()
    plugin.write_text(f"#!/bin/sh\ncat > {seen}\necho '{{\"cniVersion\": \"0.3.1\"}}'\n")
    plugin.chmod(0o755)
    conf = cniconf.parse_netconf(json.dumps({"cniVersion": "0.3.1", "name": "n", "Type": "macvlan", "mode": "bridge",
                                         "master": "eth1", "Master": "eth9"}), "nad.json")
    assert conf.main["type"] == "macvlan" and conf.master == "eth1" and conf.binaries() == ["macvlan"]
    att = cni.Attachment("c1", "/proc/self/ns/net", "net1", [str(plugin.parent)])
    assert cni.add(att, conf).ok
    text = seen.read_text()
    assert list(json.loads(text)) == sorted(json.loads(text))
