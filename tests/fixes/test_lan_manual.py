"""lan-manual: Wi-Fi masters, hypervisor MAC filtering (F8) and dropped multicast become manual steps, never writes.

The findings come from the real judges (nad.master on node facts, events.known-failures on events,
the e2e and data-path mDNS judges on probe output), so a change to the evidence they carry shows here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from multus_check.checks import datapath
from multus_check.cli import main
from multus_check.domain.cniconf import parse_netconf
from multus_check.e2e.pod_verdicts import judge_multicast
from multus_check.e2e.sample_manifest import Target
from multus_check.e2e.sample_pods import PodObservation
from multus_check.fixes.plan import PlanContext
from multus_check.fixes.registry import FIXES, plan_all
from multus_check.fixes.render import render_plan
from multus_check.model import Finding, Status
from multus_check.pipeline.fix_run import static_findings
from multus_check.probes.cni import CniCall
from multus_check.probes.datapath_probe import DatapathObservation, DatapathOptions, MasterState, SocketState
from multus_check.probes.datapath_verdicts import judge as judge_datapath
from multus_check.snapshot import Snapshot, load_snapshot
from tests.api.scenario import FIXTURES
from tests.fixes.world import variant, world

CTX = PlanContext(now="2026-11-28T05:00:00Z")
F8_MESSAGE = ('Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "7c": '
              'plugin type="multus" name="multus-cni-network" failed (add): [default/plex-0/uid-9:macvlan-lan]: error '
              'adding container to network "macvlan-lan": error calling DHCP.Allocate: no more tries')


def _lan(snap: Snapshot, findings: list[Finding]) -> Any:
    return FIXES["lan-manual"].plan(snap, findings, CTX)


def _args(kubeconfig: Path, report: Path, *extra: str) -> list[str]:
    return ["--no-e2e", "--kubeconfig", str(kubeconfig), "--report-dir", str(report), "--format", "json",
            "--output", str(report / "report.json"), *extra]


# -- Wi-Fi master ----------------------------------------------------------------------------------


def test_a_wireless_master_with_no_wired_alternative_gets_a_wifi_step_naming_the_node_and_no_change() -> None:
    snap = load_snapshot(FIXTURES / "nad-master-broken")  # enp3s0 is Wi-Fi on k3s-agent-2 and DOWN on k3s-agent-1
    plan = _lan(snap, static_findings(snap))

    assert plan.manual_only and plan.changes == () and plan.repairs == {"nad.master"}
    (step,) = plan.manual
    assert "node k3s-agent-2: enp3s0 is a wireless NIC" in step.why and "k3s-agent-1" not in step.why
    commands = "\n".join(step.commands)
    assert '"type": "ipvlan", "master": "enp3s0", "mode": "l2"' in commands
    assert "metadata: {name: macvlan-lan-ipvlan, namespace: default}" in commands


def test_the_printed_heredoc_pastes_as_is_and_its_manifest_is_valid() -> None:
    """What a user copies from the plan output: the heredoc body and its terminator at column 0."""
    import yaml

    snap = load_snapshot(FIXTURES / "nad-master-broken")
    lines = render_plan([_lan(snap, static_findings(snap))]).splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("$ kubectl apply -f - <<'EOF'"))
    end = lines.index("EOF", start)
    manifest = yaml.safe_load("\n".join(lines[start + 1:end]))
    assert manifest["kind"] == "NetworkAttachmentDefinition"
    assert json.loads(manifest["spec"]["config"])["type"] == "ipvlan"


def _wifi_master_with_wired_eth0(snap: Snapshot) -> Snapshot:
    """Every node also has an up, addressed wlan0, and the NAD names it: eth0 stays the wired default-route NIC."""
    for facts in snap.nodes.values():
        assert facts.ip_addr is not None
        eth0 = next(link for link in facts.ip_addr if link.get("ifname") == "eth0")
        facts.ip_addr.append({**json.loads(json.dumps(eth0)), "ifname": "wlan0", "ifindex": 9,
                              "addr_info": [{"family": "inet", "local": "192.168.50.7", "prefixlen": 24}]})
        facts.files["/sys/class/net/wlan0/uevent"] = "DEVTYPE=wlan\nINTERFACE=wlan0\n"
    for obj in snap.objects:
        if obj["kind"] == "NetworkAttachmentDefinition":
            conf = json.loads(obj["spec"]["config"])
            conf["plugins"][0]["master"] = "wlan0"  # the seed NAD is a conflist: macvlan, then tuning
            obj["spec"]["config"] = json.dumps(conf)
    snap.invalidate()
    return snap


def test_a_wireless_master_that_nad_repair_can_replace_gets_no_manual_step() -> None:
    snap = _wifi_master_with_wired_eth0(load_snapshot(FIXTURES / "healthy-k3s"))
    findings = static_findings(snap)
    assert {f.status for f in findings if f.check == "nad.master"} == {Status.FAIL}

    plans = plan_all(snap, findings, CTX)

    assert [p.fix_id for p in plans] == ["nad-repair"]
    assert "master 'wlan0' -> 'eth0'" in plans[0].changes[0].why


def test_fix_on_a_cluster_with_a_wifi_master_prints_the_manual_step_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with world(FIXTURES / "nad-master-broken", tmp_path) as w:
        code = main(_args(w.sc.harness.kubeconfig, tmp_path / "r", "--fix", "--yes"))
        out = capsys.readouterr().out

        assert code == 1  # nothing was fixed: the diagnosis's failure stands
        assert "== manual lan-manual: 1 manual step(s) on the LAN side  (for nad.master)" in out
        assert "multus-check changes nothing here" in out and "risk:" not in out.split("== manual")[1]
        assert out.index("== fix nad-repair") < out.index("== manual lan-manual")
        assert "No change to apply: the manual steps above are yours to do." in out
        assert w.fix_writes() == []
        assert not (tmp_path / "r" / "fix-journal.json").exists()


# -- no DHCP offer (F8) ----------------------------------------------------------------------------


def _f8_event(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    items.append({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "plex-0.f8", "namespace": "default"},
                  "involvedObject": {"kind": "Pod", "namespace": "default", "name": "plex-0"},
                  "type": "Warning", "reason": "FailedCreatePodSandBox", "count": 4, "message": F8_MESSAGE})


def test_no_dhcp_offer_gives_the_hypervisor_settings_as_exact_commands_and_no_write(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with world(variant("healthy-k3s", tmp_path, _f8_event), tmp_path / "w") as w:
        code = main(_args(w.sc.harness.kubeconfig, tmp_path / "r", "--fix", "--yes"))
        out = capsys.readouterr().out

        assert code == 1
        assert "== manual lan-manual" in out and "(for events.known-failures)" in out
        for command in ("sudo tcpdump -eni eth0 'udp port 67 or udp port 68'",
                        "esxcli network vswitch standard policy security set -v <vSwitch> --allow-promiscuous=true "
                        "--allow-mac-change=true --allow-forged-transmits=true",
                        "Set-VMNetworkAdapter -VMName <vm> -MacAddressSpoofing On",
                        "pvesh set /nodes/<pve-node>/qemu/<vmid>/firewall/options --macfilter 0",
                        "VBoxManage modifyvm <vm> --nicpromisc1 allow-all",
                        "bridge link set dev <tap> learning on flood on",
                        "sudo ip link set eth0 promisc on"):
            assert f"   $ {command}\n" in out, command
        assert w.fix_writes() == []
        report = json.loads((tmp_path / "r" / "report.json").read_text())
        (f8,) = [f for f in report["findings"] if f["evidence"].get("catalog") == "F8"]
        assert f8["check"] == "events.known-failures" and f8["fix"] is None  # `fix` names automatic repairs only


def test_the_hypervisor_step_keys_off_the_catalog_id_not_the_message() -> None:
    snap = load_snapshot(FIXTURES / "events-known-failures")  # F1 and F3 events: not the LAN's fault
    findings = static_findings(snap)
    assert _lan(snap, findings).empty
    f3 = next(f for f in findings if f.evidence.get("catalog") == "F3")
    as_f8 = Finding(f3.check, f3.status, f3.severity, f3.subject, f3.message, {**f3.evidence, "catalog": "F8"})

    plan = _lan(snap, [*findings, as_f8])

    assert [s.title for s in plan.manual] == ["let the hypervisor pass frames for the pods' MACs (no DHCP offer, "
                                              "catalog F8)"]


# -- multicast dropped, unicast answered -----------------------------------------------------------


def _mdns(outcome: str, legacy: str | None) -> dict[str, Any]:
    answered = outcome == "answered"
    return {"trials": 1, "sent": 1, "answered": int(answered), "loss": 0.0 if answered else 1.0, "outcome": outcome,
            "first_answer_ms": 80.0 if answered else None, "errors": [],
            "responders": ["192.168.1.1"] if answered else [], "service_types": [], "services": [], "qu": None,
            "legacy_unicast": None if legacy is None else {
                "outcome": legacy, "answers": [{"from": "192.168.1.1:5353", "multicast": False}] if legacy == "answered"
                else []}}


def _e2e_mdns(legacy: str | None) -> Finding:
    output = {"interfaces": {"net1": {"present": True, "ipv4": "192.168.1.140"}},
              "multicast": {"mdns": _mdns("no-answer", legacy)}}
    obs = PodObservation(Target("default", "macvlan-lan", "k3s-agent-1"), "multus-check-e2e-x-0", node="k3s-agent-1",
                         phase="Succeeded", started=True, output=output)
    return judge_multicast(obs, "e2e.mdns", "mdns")


def _datapath_mdns(legacy: str | None) -> Finding:
    conf = parse_netconf('{"cniVersion":"0.3.1","name":"lan","type":"macvlan","master":"eth0","ipam":{"type":"dhcp"}}',
                         "nad.json")
    result = {"cniVersion": "0.3.1", "ips": [{"version": "4", "address": "192.168.1.140/24"}]}
    obs = DatapathObservation(DatapathOptions(conf=conf, cni_path=["/opt/cni/bin"], node="k3s-agent-2", probes=("mdns",)),
                              plugins={"macvlan": "/opt/cni/bin/macvlan", "dhcp": "/opt/cni/bin/dhcp"},
                              dhcp_socket=SocketState("/run/cni/dhcp.sock", "socket", True),
                              master=MasterState("eth0", True, True, "UP", ("192.168.1.10/24",)),
                              pod_netns="mc-probe-1", netns_removed=True, add=CniCall("macvlan", "ADD", 0, 2.9, result),
                              pod_addresses=("192.168.1.140/24",), probe={"error": None, "mdns": _mdns("no-answer", legacy)},
                              dels=[CniCall("macvlan", "DEL", 0, 0.05)])
    return next(f for f in judge_datapath(obs) if f.check == datapath.MDNS)


@pytest.mark.parametrize("make", [_e2e_mdns, _datapath_mdns], ids=["e2e.mdns", "datapath.mdns"])
def test_multicast_dropped_while_unicast_answers_gets_the_igmp_snooping_step(make: Any) -> None:
    snap = load_snapshot(FIXTURES / "healthy-k3s")
    finding = make("answered")
    assert finding.status is Status.FAIL

    plans = plan_all(snap, [*static_findings(snap), finding], CTX)

    assert [p.fix_id for p in plans] == ["lan-manual"]
    (step,) = plans[0].manual
    assert step.title.startswith("let multicast reach the nodes") and "node" in step.why
    text = render_plan(plans)
    for line in ("   $ ip link set dev <bridge> type bridge mcast_snooping 0\n",
                 "   $ ip link set dev <bridge> type bridge mcast_querier 1\n",
                 "no ip igmp snooping vlan <vlan>", "enable-reflector=yes"):
        assert line in text


@pytest.mark.parametrize("make", [_e2e_mdns, _datapath_mdns], ids=["e2e.mdns", "datapath.mdns"])
def test_mdns_that_nothing_answers_even_by_unicast_gets_no_lan_step(make: Any) -> None:
    snap = load_snapshot(FIXTURES / "healthy-k3s")
    finding = make("no-answer")
    assert finding.status is Status.FAIL  # a failure, but not one that proves multicast filtering

    assert plan_all(snap, [*static_findings(snap), finding], CTX) == []
