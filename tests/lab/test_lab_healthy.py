"""The healthy lab: the real macvlan + dhcp plugins get a lease, mDNS and SSDP answer."""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from multus_check.checks import datapath as c
from multus_check.domain.cniconf import parse_netconf
from multus_check.lab.config import SERVICES, SSDP_USN, LabState
from multus_check.model import Status
from multus_check.probes import cni, netns, probe_script
from multus_check.probes.datapath_verdicts import judge
from tests.lab.conftest import lab_fixture, probe

pytestmark = pytest.mark.lab
healthy_lab = lab_fixture("th")


def test_healthy_lab_gives_a_lease_in_its_subnet_and_finds_the_published_services(healthy_lab: LabState) -> None:
    obs = probe(healthy_lab)
    f = {x.check: x for x in judge(obs)}
    assert obs.add is not None and obs.add.ok, obs.add
    address = ipaddress.IPv4Interface(obs.add.result["ips"][0]["address"])  # type: ignore[index]
    first, last = (ipaddress.IPv4Address(a) for a in healthy_lab.dhcp_range)
    assert address.ip in healthy_lab.network and first <= address.ip <= last
    assert {k: v.status for k, v in f.items()} == {
        c.PLUGINS: Status.PASS, c.DHCP_DAEMON: Status.PASS, c.MASTER: Status.PASS, c.ATTACH: Status.PASS,
        c.LEASE: Status.PASS, c.ROUTES: Status.WARN, c.MDNS: Status.PASS, c.SSDP: Status.PASS, c.CLEANUP: Status.PASS,
        c.IPV6: Status.SKIP, c.THREAD_ROUTES: Status.SKIP, c.MATTER: Status.SKIP}  # the IPv6 probe not requested here
    mdns = obs.probe["mdns"]  # type: ignore[index]
    assert set(mdns["service_types"]) == {f"{t}.local." for _, t, _, _ in SERVICES}
    found = {(i["name"], i["port"], tuple(i["txt"])) for i in mdns["services"]}
    assert found == {(f"{n}.{t}.local.", p, (txt,)) for n, t, p, txt in SERVICES}
    assert [d["usn"] for d in obs.probe["ssdp"]["devices"]] == [SSDP_USN]  # type: ignore[index]
    assert f"default via {healthy_lab.router_ip}" in f[c.ROUTES].message or healthy_lab.router_ip in f[c.ROUTES].message


def test_probe_removes_its_pod_namespace_and_releases_the_lease(healthy_lab: LabState) -> None:
    obs = probe(healthy_lab, probes=())
    assert obs.pod_netns is not None and not netns.exists(obs.pod_netns)
    assert netns.listed(healthy_lab.pod_ns_prefix) == []
    assert [(d.plugin, d.ok) for d in obs.dels] == [("tuning", True), ("macvlan", True)]  # DEL in reverse order
    assert "DHCPRELEASE" in (healthy_lab.dir / "dnsmasq.log").read_text()


def test_lab_processes_live_only_in_the_lab_namespaces(healthy_lab: LabState) -> None:
    inside = {pid for ns in healthy_lab.namespaces for pid in netns.pids_in(ns)}
    recorded = {rec["pid"] for rec in healthy_lab.pids.values()}
    assert recorded <= inside, "every daemon the lab started runs inside a lab namespace"


def test_probe_script_runs_standalone_inside_the_pod_namespace(healthy_lab: LabState, tmp_path: Path) -> None:
    """The in-pod probe is the same file (and its IPv6 half beside it), copied and run with python3 + scapy only."""
    script = tmp_path / "probe_script.py"
    shutil.copy(Path(probe_script.__file__), script)
    shutil.copy(Path(probe_script.__file__).with_name("probe_ipv6.py"), tmp_path / "probe_ipv6.py")
    pod = f"{healthy_lab.pod_ns_prefix}-script"
    conf = parse_netconf(healthy_lab.nad_config.read_text(), "nad.json")
    att = cni.Attachment("script-test", netns.netns_path(pod), "net1", [str(healthy_lab.cni_bin)], healthy_lab.node_ns)
    netns.create(pod)
    try:
        assert cni.add(att, conf).ok
        out = subprocess.run(["ip", "netns", "exec", pod, sys.executable, "-I", str(script), "--iface", "net1",
                              "--trials", "2"], capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False)
    finally:
        cni.delete(att, conf, None)
        netns.remove(pod)
    result = json.loads(out.stdout)
    assert out.returncode == 0, out.stderr
    assert result["mdns"]["trials"] == 2 and result["mdns"]["answered"] == 2 and result["mdns"]["loss"] == 0.0
    assert result["ssdp"]["outcome"] == "answered"


def test_node_command_against_the_lab_prints_one_finding_per_layer(
        healthy_lab: LabState, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from multus_check import cli

    code = cli.main(["node", "--nad-config", str(healthy_lab.nad_config), "--cni-bin-dir", str(healthy_lab.cni_bin),
                     "--node-netns", healthy_lab.node_ns, "--pod-netns-prefix", healthy_lab.pod_ns_prefix,
                     "--lan-subnet", healthy_lab.subnet, "--no-static", "--node", "labnode", "--format", "json",
                     "--report-dir", str(tmp_path), "--skip", "datapath.ssdp"])
    out = json.loads(capsys.readouterr().out)
    statuses = {f["check"]: f["status"] for f in out["findings"]}
    assert code == 0
    assert statuses == {"datapath.plugins": "pass", "datapath.dhcp-daemon": "pass", "datapath.master": "pass",
                        "datapath.attach": "pass", "datapath.lease": "pass", "datapath.routes": "warn",
                        "datapath.mdns": "pass", "datapath.cleanup": "pass", "datapath.ipv6": "pass",
                        "datapath.thread-routes": "pass", "datapath.matter": "pass"}, "node judges Matter by default"
    assert {f["subject"] for f in out["findings"]} == {"node/labnode"}


def test_node_command_reads_the_nad_from_the_cluster_with_nad_name(
        healthy_lab: LabState, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--nad NS/NAME` instead of a file: the config comes from the API (emulator), the probe is the same."""
    from multus_check import cli
    from tests.api.emulator import ClusterEmulator
    from tests.api.harness import EmulatorHarness

    em = ClusterEmulator()
    em.install_nad_crd()
    em.put({"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": "macvlan-lan", "namespace": "home"}, "spec": {"config": healthy_lab.nad_config.read_text()}})
    with EmulatorHarness(em, tmp_path / "kubeconfig") as h:
        code = cli.main(["node", "--nad", "home/macvlan-lan", "--kubeconfig", str(h.kubeconfig), "--cni-bin-dir",
                         str(healthy_lab.cni_bin), "--node-netns", healthy_lab.node_ns, "--pod-netns-prefix",
                         healthy_lab.pod_ns_prefix, "--lan-subnet", healthy_lab.subnet, "--no-static", "--node",
                         "labnode", "--format", "json", "--report-dir", str(tmp_path), "--no-probe"])
    out = json.loads(capsys.readouterr().out)
    statuses = {f["check"]: f["status"] for f in out["findings"]}
    assert code == 0, statuses
    assert statuses["datapath.attach"] == "pass" and statuses["datapath.lease"] == "pass"
    assert out["source"]["nad"] == "home/macvlan-lan" and "NAD home/macvlan-lan" in out["source"]["description"]
    assert em.count_calls("GET", "/namespaces/home/network-attachment-definitions$") == 1


def test_node_command_with_credentials_in_the_nad_attaches_with_them_and_writes_none_of_them(
        healthy_lab: LabState, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The real plugins get the NAD config as it is; results.json, junit.xml, --output and --save-snapshot
    get it redacted (nad.config-valid shows the config as evidence)."""
    from multus_check import cli

    conf = json.loads(healthy_lab.nad_config.read_text())
    conf["plugins"][0]["apiKey"] = "LABSECRET1"
    conf["plugins"][0]["webhook"] = "https://bot:LABSECRET2@hooks.lan/x"
    nad = tmp_path / "nad.json"
    nad.write_text(json.dumps(conf, indent=2))
    code = cli.main(["node", "--nad-config", str(nad), "--cni-bin-dir", str(healthy_lab.cni_bin),
                     "--node-netns", healthy_lab.node_ns, "--pod-netns-prefix", healthy_lab.pod_ns_prefix,
                     "--lan-subnet", healthy_lab.subnet, "--node", "labnode", "--no-probe", "--format", "json",
                     "--output", str(tmp_path / "out.json"), "--report-dir", str(tmp_path / "report"),
                     "--save-snapshot", str(tmp_path / "snap")])
    stdout = capsys.readouterr().out
    statuses = {f["check"]: f["status"] for f in json.loads((tmp_path / "out.json").read_text())["findings"]}
    assert statuses["datapath.attach"] == "pass" and statuses["nad.config-valid"] == "pass", (code, statuses)
    written = {p: p.read_text() for p in tmp_path.rglob("*") if p.is_file() and p != nad}
    assert {p.name for p in written} >= {"out.json", "results.json", "junit.xml", "cluster.yaml"}
    assert [str(p) for p, text in written.items() if "LABSECRET" in text] == [] and "LABSECRET" not in stdout
