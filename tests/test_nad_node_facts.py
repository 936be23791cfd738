"""The node facts the NAD checks need (plugin CNI versions, Multus's confDir) and the verdicts that
depend on them: collected from a fake host, kept through a snapshot directory, judged per node."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from multus_check.checks import registry
from multus_check.collect import host
from multus_check.model import Finding, Status
from multus_check.snapshot import DirEntry, load_snapshot, write_snapshot
from multus_check.snapshot.data import Section, SectionState, Snapshot
from tests.corpus.cases import profile, synthetic_facts

ABOUT = "#!/bin/sh\necho \"CNI $(basename \"$0\") plugin v1.6.2\" >&2\necho 'CNI protocol versions supported: 0.3.1, 1.0.0, 1.1.0' >&2\n"
OLD = "#!/bin/sh\n[ \"$CNI_COMMAND\" = VERSION ] && echo '{\"cniVersion\":\"0.4.0\",\"supportedVersions\":[\"0.3.1\",\"0.4.0\"]}'\nexit 0\n"


def _script(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)


@pytest.fixture
def plugin_host(tmp_path: Path) -> Path:
    root = tmp_path / "host"
    _script(root / "opt/cni/bin/macvlan", ABOUT)
    _script(root / "usr/lib/cni/dhcp", OLD)
    marker = tmp_path / "ran"
    _script(root / "opt/cni/bin/multus", f"#!/bin/sh\ntouch {marker}\n")  # not a reference plugin: never run
    k3s_bin = root / "var/lib/rancher/k3s/data/abc/bin"
    _script(k3s_bin / "cni", ABOUT)
    (root / "var/lib/rancher/k3s/data/cni").mkdir(parents=True)
    os.symlink("/var/lib/rancher/k3s/data/abc/bin/cni", root / "var/lib/rancher/k3s/data/cni/bridge")
    conf_dir = root / "etc/cni/multus/net.d"
    conf_dir.mkdir(parents=True)
    (conf_dir / "macvlan2.conf").write_text('{"cniVersion": "0.3.1", "name": "macvlan-conf-2", "type": "macvlan"}')
    (conf_dir / "notes.txt").write_text("not a config")
    return root


def test_reference_plugins_are_asked_for_their_version_and_accepted_cni_versions(plugin_host: Path) -> None:
    facts = host.collect_host_facts("n1", root=str(plugin_host))
    opt = {e.name: e for e in facts.dirs["/opt/cni/bin"] or []}
    assert opt["macvlan"].version == "v1.6.2" and opt["macvlan"].cni_versions == ("0.3.1", "1.0.0", "1.1.0")
    assert opt["multus"].cni_versions is None and not (plugin_host.parent / "ran").exists()
    old = {e.name: e for e in facts.dirs["/usr/lib/cni"] or []}["dhcp"]
    assert old.cni_versions == ("0.3.1", "0.4.0")  # an old plugin answers only CNI_COMMAND=VERSION
    bridge = (facts.dirs["/var/lib/rancher/k3s/data/cni"] or [])[0]
    assert (bridge.type, bridge.version) == ("symlink", "v1.6.2")  # k3s's absolute symlink, followed under the root


def test_multus_confdir_is_listed_and_its_configs_copied(plugin_host: Path) -> None:
    facts = host.collect_host_facts("n1", root=str(plugin_host))
    assert [e.name for e in facts.dirs["/etc/cni/multus/net.d"] or []] == ["macvlan2.conf", "notes.txt"]
    assert '"macvlan-conf-2"' in facts.files["/etc/cni/multus/net.d/macvlan2.conf"]
    assert "/etc/cni/multus/net.d/notes.txt" not in facts.files


def test_plugin_versions_survive_a_snapshot_directory(plugin_host: Path, tmp_path: Path) -> None:
    facts = host.collect_host_facts("n1", root=str(plugin_host))
    snap = Snapshot(nodes={"n1": facts}, sections={"node/n1": Section(SectionState.OK)})
    out = write_snapshot(snap, tmp_path / "snap")
    assert json.loads((out / "nodes/n1/dirs.json").read_text())["/opt/cni/bin"][0]["cniVersions"] == [
        "0.3.1", "1.0.0", "1.1.0"]
    assert load_snapshot(out).nodes["n1"].dirs == facts.dirs


# --- verdicts over several nodes --------------------------------------------------------------


def _snap(config: str | None, nodes: dict[str, dict[str, str] | None]) -> Snapshot:
    """NAD `lan` (config None: no spec.config) on nodes whose confDir holds the given files (None: not collected)."""
    objects: list[dict[str, object]] = [{"kind": "Node", "metadata": {"name": n}} for n in nodes]
    objects.append({"kind": "NetworkAttachmentDefinition", "metadata": {"name": "lan", "namespace": "default"},
                    "spec": {"config": config} if config else {}})
    snap = Snapshot(objects=objects, sections={"cluster": Section(SectionState.OK)})
    for name, confdir in nodes.items():
        facts = synthetic_facts(profile("home"), confdir or {})
        facts.name = name
        if confdir is None:
            del facts.dirs["/etc/cni/multus/net.d"]
        snap.nodes[name] = facts
        snap.sections[f"node/{name}"] = Section(SectionState.OK)
    return snap


def _run(cid: str, snap: Snapshot) -> list[Finding]:
    fn = registry.get(cid).fn
    assert fn is not None
    return fn(snap)


GOOD = '{"cniVersion": "0.3.1", "name": "lan", "type": "macvlan", "master": "eth0"}'


def test_a_nad_without_config_fails_naming_the_node_whose_confdir_lacks_the_network() -> None:
    found = _run("nad.config-valid", _snap(None, {"a": {"lan.conf": GOOD}, "b": {"other.conf": GOOD.replace(
        '"lan"', '"other"')}}))
    assert [f.status for f in found] == [Status.FAIL]
    assert "node b: `no network available in the name lan in cni dir /etc/cni/multus/net.d`" in found[0].message
    assert "node a" not in found[0].message


def test_a_nad_without_config_warns_when_a_confdir_was_not_collected() -> None:
    found = _run("nad.config-valid", _snap(None, {"a": {"lan.conf": GOOD}, "b": None}))
    assert [f.status for f in found] == [Status.WARN] and "not collected on b" in found[0].message


def test_a_nad_without_config_passes_when_every_node_has_it_and_is_judged_like_spec_config() -> None:
    both = {"a": {"lan.conf": GOOD}, "b": {"lan.conf": GOOD}}
    assert [f.status for f in _run("nad.config-valid", _snap(None, both))] == [Status.PASS]
    masters = _run("nad.master", _snap(None, both))
    assert {f.subject: f.status for f in masters} == {"node/a nad/default/lan": Status.PASS,
                                                      "node/b nad/default/lan": Status.PASS}


def test_a_cni_version_the_nodes_plugin_does_not_list_fails_plugins_present() -> None:
    snap = _snap(GOOD.replace("0.3.1", "1.1.0"), {"a": {}})
    found = _run("plugins.present", snap)
    assert [f.status for f in found] == [Status.FAIL]
    assert 'config is "1.1.0", plugin supports [0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.0.0]' in found[0].message


def test_a_newer_cni_version_only_warns_when_the_plugins_versions_were_not_collected() -> None:
    snap = _snap(GOOD.replace("0.3.1", "1.1.0"), {"a": {}})
    facts = snap.nodes["a"]
    facts.dirs["/opt/cni/bin"] = [DirEntry(e.name, e.type) for e in facts.dirs["/opt/cni/bin"] or []]
    found = _run("plugins.present", snap)
    assert [f.status for f in found] == [Status.WARN] and "was not collected" in found[0].message
    snap_old = _snap(GOOD, {"a": {}})
    snap_old.nodes["a"].dirs["/opt/cni/bin"] = facts.dirs["/opt/cni/bin"]
    assert [f.status for f in _run("plugins.present", snap_old)] == [Status.PASS]  # 0.3.1: every release takes it


# --- how Go reads the values (domain/gotypes.py) ----------------------------------------------


@pytest.mark.parametrize(("text", "ok"), [("192.168.1.7/24", True), ("fd00::1/64", True), ("192.168.1.7", False),
                                          ("192.168.1.7/255.255.255.0", False), (" 10.0.0.1/8", False)])
def test_cidrs_parse_as_gos_net_parsecidr_does(text: str, ok: bool) -> None:
    from multus_check.domain.gotypes import parse_cidr

    assert (parse_cidr(text) is not None) == ok


@pytest.mark.parametrize(("text", "problem"), [("02:00:5e:00:00:07", None), ("02-00-5e-00-00-07", None),
                                               ("0200.5e00.0007", None), ("01:00:5e:00:00:01", "multicast"),
                                               ("00:00:00:00:00:00", "all-zero"), ("02:00:5e:00:00:01:02:03", "not an")])
def test_macs_are_judged_as_the_kernel_takes_them_for_a_new_link(text: str, problem: str | None) -> None:
    from multus_check.domain.gotypes import unicast_mac_problem

    found = unicast_mac_problem(text)
    assert (found is None) if problem is None else (problem in str(found))


def test_json_numbers_with_a_fraction_do_not_fit_a_go_int() -> None:
    from multus_check.domain.gotypes import type_errors

    assert type_errors({"mtu": 1400.0}, {"mtu": "int"}, "")
    assert not type_errors({"mtu": 1400, "mode": None}, {"mtu": "int", "mode": "string"}, "")


def test_a_thick_multus_without_the_confdir_mount_finds_no_network_even_when_the_host_has_it() -> None:
    snap = _snap(None, {"a": {"lan.conf": GOOD}})
    thick = {"kind": "DaemonSet", "metadata": {"name": "kube-multus-ds", "namespace": "kube-system"},
             "spec": {"template": {"spec": {"containers": [{
                 "name": "kube-multus", "image": "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.1.0-thick",
                 "command": ["/usr/src/multus-cni/bin/multus-daemon"],
                 "volumeMounts": [{"name": "cni", "mountPath": "/host/etc/cni/net.d"}]}],
                 "volumes": [{"name": "cni", "hostPath": {"path": "/etc/cni/net.d"}}]}}}}
    snap.objects.append(thick)
    snap.invalidate()
    found = _run("nad.config-valid", snap)
    assert [f.status for f in found] == [Status.FAIL] and "does not mount /etc/cni/multus/net.d" in found[0].message
    thick["spec"]["template"]["spec"]["containers"][0]["volumeMounts"].append(  # type: ignore[index]
        {"name": "conf", "mountPath": "/etc/cni/multus/net.d"})
    thick["spec"]["template"]["spec"]["volumes"].append(  # type: ignore[index]
        {"name": "conf", "hostPath": {"path": "/etc/cni/multus/net.d"}})
    snap.invalidate()
    assert [f.status for f in _run("nad.config-valid", snap)] == [Status.PASS]
