"""The e2e phase end to end: emulated API, sample pods attached for real in a netns lab.

The lab kubelet runs the real CNI macvlan + dhcp plugins, the real DHCP daemon and the pod's
own probe command; the checks must pass on a healthy lab and name the cause of each fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multus_check.checks import e2e as ids
from multus_check.lab import faults
from multus_check.lab.config import LabState
from multus_check.model import Finding, Status
from multus_check.probes import netns
from tests.e2e.switch import IPV6_MDNS_ONLY, isolate_multicast, switched_nodes
from tests.e2e.world import e2e_world
from tests.lab.conftest import lab_fixture

pytestmark = pytest.mark.lab
e2e_lab = lab_fixture("te2e")


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    out: dict[str, Finding] = {}
    for f in findings:
        assert f.check not in out, f"two findings for {f.check}: {findings}"
        out[f.check] = f
    return out


@pytest.fixture
def broken(e2e_lab: LabState) -> Iterator[list[str]]:
    """Faults a test injects; each is repaired afterwards so the module's lab stays healthy."""
    injected: list[str] = []
    yield injected
    for fault in injected:
        faults.repair(e2e_lab, fault)


def no_leftovers(world_lab: LabState, emulator_pods: list[object]) -> None:
    assert emulator_pods == [], "sample pods were left in the API"
    assert netns.listed(world_lab.pod_ns_prefix) == [], "pod namespaces were left behind"


def test_healthy_lab_passes_every_e2e_check_and_leaves_nothing(e2e_lab: LabState, tmp_path: Path) -> None:
    with e2e_world(e2e_lab, tmp_path) as world:
        got = by_check(world.run())
        assert world.kubelet.errors == []
        pods_left = world.emulator.live("v1/pods") + world.emulator.live("v1/configmaps")
        namespaces = dict(world.emulator.namespaces)
    assert {c: f.status for c, f in got.items()} == {c: Status.PASS for c in ids.PER_POD_CHECKS} | {
        ids.POD_MULTICAST: Status.SKIP}, got
    assert e2e_lab.subnet.rsplit(".", 1)[0] in got[ids.LEASE].evidence["ip"]
    assert "_testsvc._tcp.local" in got[ids.MDNS].message
    assert "kubernetes.default.svc resolves to 10.43.0.1" in got[ids.SERVICE_DNS].message
    assert any("keep it with the workload annotation" in n for n in world.notes)
    assert namespaces == {}
    no_leftovers(e2e_lab, pods_left)


def test_service_traffic_sent_out_net1_fails_service_dns_only(e2e_lab: LabState, tmp_path: Path) -> None:
    with e2e_world(e2e_lab, tmp_path, service_route=False) as world:
        got = by_check(world.run())
        assert world.kubelet.errors == []
    f = got[ids.SERVICE_DNS]
    assert f.status is Status.FAIL and "leaves via net1" in f.message and e2e_lab.router_ip in f.message
    assert got[ids.ATTACH].status is Status.PASS and got[ids.MDNS].status is Status.PASS


def test_multicast_dropped_by_the_switch_fails_mdns_while_ssdp_passes(e2e_lab: LabState, tmp_path: Path,
                                                                       broken: list[str]) -> None:
    faults.inject(e2e_lab, "multicast")
    broken.append("multicast")
    with e2e_world(e2e_lab, tmp_path) as world:
        got = by_check(world.run())
        assert world.kubelet.errors == []
    assert got[ids.MDNS].status is Status.FAIL and "multicast towards the node is dropped" in got[ids.MDNS].message
    assert got[ids.SSDP].status is Status.PASS and got[ids.ATTACH].status is Status.PASS


THREE = ["lab-node-1", "lab-node-2", "lab-node-3"]


def nad_with_mode(lab: LabState, mode: str) -> dict[str, Any]:
    config = json.loads(lab.nad_config.read_text())
    (config["plugins"][0] if "plugins" in config else config)["mode"] = mode  # the lab NAD is a conflist
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": "macvlan-lan", "namespace": "default"}, "spec": {"config": json.dumps(config)}}


def test_all_nodes_pods_hear_each_other_and_the_matrix_is_shown(e2e_lab: LabState, tmp_path: Path) -> None:
    with e2e_world(e2e_lab, tmp_path, nodes=THREE) as world:
        findings = world.run("--all-nodes", "--e2e-peer-window", "15")
        assert world.kubelet.errors == []
        pods_left = world.emulator.live("v1/pods")
    per_pod = [f for f in findings if f.check != ids.POD_MULTICAST]
    assert len(per_pod) == len(ids.PER_POD_CHECKS) * 3 and all(f.status is Status.PASS for f in per_pod), per_pod
    (matrix,) = [f for f in findings if f.check == ids.POD_MULTICAST]
    assert matrix.status is Status.PASS, matrix.message
    assert matrix.evidence["matrix"] == {s: {r: "heard" for r in THREE if r != s} for s in THREE}
    assert matrix.evidence["matrix_ipv6"] == matrix.evidence["matrix"], "ff02::fb between the pods too"
    assert all(n in matrix.message for n in THREE)
    no_leftovers(e2e_lab, pods_left)


def test_pods_that_cannot_hear_each_other_fail_the_matrix_while_the_lan_still_answers(e2e_lab: LabState,
                                                                                     tmp_path: Path) -> None:
    """macvlan mode private: the sample pods share the lab's one master, so they cannot reach each
    other, while the LAN's avahi still answers each of them: the matrix fails, mDNS passes."""
    with e2e_world(e2e_lab, tmp_path, nodes=THREE[:2]) as world:
        world.emulator.put(nad_with_mode(e2e_lab, "private"))
        findings = world.run("--all-nodes", "--e2e-peer-window", "4")
        assert world.kubelet.errors == []
    (matrix,) = [f for f in findings if f.check == ids.POD_MULTICAST]
    assert matrix.status is Status.FAIL, matrix.message
    assert set(matrix.evidence["matrix"]["lab-node-1"].values()) == {"missed"}
    assert "lab-node-1 -> lab-node-2" in matrix.message and "NO" in matrix.message
    assert {f.status for f in findings if f.check == ids.MDNS} == {Status.PASS}


@pytest.mark.parametrize("isolated", [None, "all", "ipv6-mdns"],
                         ids=["switch-forwards", "switch-isolates-multicast", "switch-isolates-ff02::fb"])
def test_pods_on_separately_wired_nodes_and_a_switch_that_drops_multicast_between_them(
        e2e_lab: LabState, tmp_path: Path, isolated: str | None) -> None:
    """Each simulated node has its own NIC on a bridge (tests/e2e/switch.py). A switch that does not
    forward multicast between node ports fails the matrix while the router's mDNS still reaches
    every node; the same switch forwarding it passes. Dropping only ff02::fb between the ports fails
    the IPv6 matrix while the IPv4 one passes."""
    nodes = THREE[:2]
    with switched_nodes(e2e_lab, nodes) as masters:
        if isolated:
            isolate_multicast(e2e_lab, *([IPV6_MDNS_ONLY] if isolated == "ipv6-mdns" else []))
        with e2e_world(e2e_lab, tmp_path, nodes=nodes, masters=masters) as world:
            findings = world.run("--all-nodes", "--e2e-peer-window", "4")
            assert world.kubelet.errors == []
    (matrix,) = [f for f in findings if f.check == ids.POD_MULTICAST]
    assert {f.status for f in findings if f.check in (ids.ATTACH, ids.LEASE, ids.MDNS)} == {Status.PASS}, findings
    v4, v6 = ("missed" if isolated == "all" else "heard"), ("missed" if isolated else "heard")
    assert matrix.evidence["matrix"] == {"lab-node-1": {"lab-node-2": v4}, "lab-node-2": {"lab-node-1": v4}}
    assert matrix.evidence["matrix_ipv6"] == {"lab-node-1": {"lab-node-2": v6}, "lab-node-2": {"lab-node-1": v6}}
    assert matrix.status is (Status.FAIL if isolated else Status.PASS), matrix.message
    if isolated == "ipv6-mdns":
        assert "lab-node-1 -> lab-node-2 (IPv6)" in matrix.message and "lab-node-1 -> lab-node-2," not in matrix.message


@pytest.mark.parametrize(("fault", "statuses", "named"), [
    ("ipv6", (Status.FAIL, Status.SKIP, Status.SKIP), "net.ipv6.conf.net1.disable_ipv6=1"),
    ("thread-routes", (Status.PASS, Status.FAIL, Status.SKIP), "net.ipv6.conf.net1.accept_ra_rt_info_max_plen=0"),
    ("ipv6-multicast", (Status.PASS, Status.PASS, Status.FAIL), "IPv6 multicast dropped"),
])
def test_ipv6_faults_fail_the_right_e2e_check_naming_the_cause_while_ipv4_stays_green(
        e2e_lab: LabState, tmp_path: Path, broken: list[str], fault: str, statuses: tuple[Status, ...],
        named: str) -> None:
    faults.inject(e2e_lab, fault)
    broken.append(fault)
    with e2e_world(e2e_lab, tmp_path) as world:
        got = by_check(world.run())
        assert world.kubelet.errors == []
    v6 = [got[c] for c in (ids.IPV6, ids.THREAD_ROUTES, ids.MATTER)]
    assert tuple(f.status for f in v6) == statuses, [f.message for f in v6]
    failed = next(f for f in v6 if f.status is Status.FAIL)
    assert named in failed.message and failed.message.startswith("Inside multus-check-e2e-")
    assert {got[c].status for c in (ids.ATTACH, ids.LEASE, ids.MDNS, ids.SSDP, ids.SERVICE_DNS)} == {Status.PASS}


@pytest.mark.parametrize(("fault", "catalog", "related"), [
    ("dhcp-daemon", "F4", "dhcp.daemon"),
    ("plugin", "F1", "plugins.present"),
    ("dhcp-server", "F8", "nad.master"),
    ("master", "F8", "nad.master"),
])
def test_broken_lab_fails_attach_naming_the_cause(e2e_lab: LabState, tmp_path: Path, broken: list[str],
                                                  fault: str, catalog: str, related: str) -> None:
    faults.inject(e2e_lab, fault)
    broken.append(fault)
    with e2e_world(e2e_lab, tmp_path) as world:
        got = by_check(world.run())
        assert world.kubelet.errors == []
        pods_left = world.emulator.live("v1/pods")
    f = got[ids.ATTACH]
    assert f.status is Status.FAIL and f.evidence["catalog"] == catalog and related in f.message, f
    assert {got[c].status for c in (ids.LEASE, ids.MDNS, ids.SSDP, ids.SERVICE_DNS, ids.POD_MULTICAST, ids.IPV6,
                                    ids.THREAD_ROUTES, ids.MATTER)} == {Status.SKIP}
    no_leftovers(e2e_lab, pods_left)


def test_plain_multus_check_runs_the_e2e_phase_after_the_static_checks(e2e_lab: LabState, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring in pipeline/diagnosis.py: a live run (no --snapshot) reports the e2e findings next to the static ones;
    a failed gating check skips them with the reason; `--no-e2e` leaves them out without creating a pod."""
    from multus_check.cli import main

    monkeypatch.setenv("CI", "true")

    def run(name: str, *extra: str) -> list[dict[str, Any]]:
        main(["--kubeconfig", str(world.harness.kubeconfig), "--no-node-facts", "--e2e-lan-subnet", e2e_lab.subnet,
              "--e2e-timeout", "40", "--format", "json", "--output", str(tmp_path / f"{name}.json"),
              "--report-dir", str(tmp_path / name), *extra])
        found: list[dict[str, Any]] = json.loads((tmp_path / f"{name}.json").read_text())["findings"]
        return found

    with e2e_world(e2e_lab, tmp_path) as world:
        gated = run("gated")  # the world has no Multus DaemonSet: multus.installed fails
        after_gated = len(world.kubelet.pods_run)
        ran = run("ran", "--skip", "multus.installed")
        after_ran = len(world.kubelet.pods_run)
        without = run("without", "--skip", "multus.installed", "--no-e2e")
        after_without = len(world.kubelet.pods_run)
        pods_left = world.emulator.live("v1/pods")

    def e2e(findings: list[dict[str, Any]]) -> dict[str, str]:
        return {f["check"]: f["status"] for f in findings if f["check"].startswith("e2e.")}

    assert e2e(gated) == {c: "skip" for c in ids.E2E_CHECKS}
    assert all("multus.installed failed" in f["message"] for f in gated if f["check"].startswith("e2e."))
    assert e2e(ran) == {c: "pass" for c in ids.PER_POD_CHECKS} | {ids.POD_MULTICAST: "skip"}, e2e(ran)
    assert any(f["check"] == "nad.config-valid" for f in ran), "the static checks ran too"
    assert e2e(without) == {}
    assert (after_gated, after_ran, after_without) == (0, 1, 1), "exactly one sample pod, for the run that tested"
    no_leftovers(e2e_lab, pods_left)
