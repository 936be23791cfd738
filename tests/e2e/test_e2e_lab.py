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

from multus_check.e2e import checks as ids
from multus_check.lab import faults
from multus_check.lab.config import LabState
from multus_check.model import Finding, Status
from multus_check.probes import netns
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
    assert {c: f.status for c, f in got.items()} == {c: Status.PASS for c in ids.E2E_CHECKS}, got
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


@pytest.mark.parametrize(("fault", "catalog", "related"), [
    ("dhcp-daemon", "F4", "dhcp.daemon"),
    ("plugin", "F1", "plugins.present"),
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
    assert {got[c].status for c in (ids.LEASE, ids.MDNS, ids.SSDP, ids.SERVICE_DNS)} == {Status.SKIP}
    no_leftovers(e2e_lab, pods_left)


def test_plain_multus_check_runs_the_e2e_phase_after_the_static_checks(e2e_lab: LabState, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The wiring in cli.py: a live run (no --snapshot) reports the e2e findings next to the static ones;
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
    assert e2e(ran) == {c: "pass" for c in ids.E2E_CHECKS}, e2e(ran)
    assert any(f["check"] == "nad.config-valid" for f in ran), "the static checks ran too"
    assert e2e(without) == {}
    assert (after_gated, after_ran, after_without) == (0, 1, 1), "exactly one sample pod, for the run that tested"
    no_leftovers(e2e_lab, pods_left)
