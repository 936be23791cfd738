"""'Could not look' is never 'pass': forbidden, failed or missing data gives `error` findings."""

from __future__ import annotations

import pytest

from multus_check.checks import registry
from multus_check.checks.engine import run_check, run_checks
from multus_check.checks.spec import CheckSpec
from multus_check.model import Finding, Status
from multus_check.snapshot import CLUSTER_RESOURCES, Section, SectionState, Snapshot
from tests.conftest import fixture_snapshot

STATIC = [s.id for s in registry.all_checks() if s.kind == "static"]


@pytest.mark.parametrize("check_id", STATIC)
@pytest.mark.parametrize("state", [SectionState.FORBIDDEN, SectionState.FAILED, SectionState.NOT_COLLECTED])
def test_check_reports_error_when_the_cluster_could_not_be_read(check_id: str, state: SectionState) -> None:
    snap = fixture_snapshot("healthy-k3s")
    for res in CLUSTER_RESOURCES:
        snap.sections[f"cluster/{res}"] = Section(state, f"{res}: denied for test")
    findings = run_checks(snap, include=[check_id])
    assert findings and all(f.status is Status.ERROR for f in findings), [(f.status, f.message) for f in findings]
    if state is SectionState.FORBIDDEN:
        assert "forbidden by RBAC" in findings[0].message


NODE_CHECKS = ["flannel.conf-surfaced", "plugins.present", "dhcp.daemon", "multus.conf-first",
               "multus.nested-delegates", "multus.kubeconfig", "nad.master"]


@pytest.mark.parametrize("check_id", NODE_CHECKS)
def test_node_checks_report_error_for_a_node_whose_collector_failed(check_id: str) -> None:
    snap = fixture_snapshot("healthy-k3s")
    snap.sections["node/k3s-agent-1"] = Section(SectionState.FAILED, "collector pod: ErrImagePull")
    del snap.nodes["k3s-agent-1"]
    findings = {f.subject.split()[0]: f for f in run_checks(snap, include=[check_id])}
    assert findings["node/k3s-agent-1"].status is Status.ERROR
    assert "ErrImagePull" in findings["node/k3s-agent-1"].message
    assert findings["node/k3s-server"].status is Status.PASS, "the other nodes are still judged"


@pytest.mark.parametrize("check_id", NODE_CHECKS)
def test_node_checks_never_pass_when_listings_were_not_collected(check_id: str) -> None:
    snap = fixture_snapshot("healthy-k3s")
    for facts in snap.nodes.values():
        facts.dirs.clear()
        facts.files.clear()
        facts.ip_addr = facts.ip_route = None
    findings = run_checks(snap, include=[check_id])
    assert not any(f.status is Status.PASS for f in findings), [(f.subject, f.message) for f in findings]


def test_a_crashing_check_becomes_an_error_not_a_traceback() -> None:
    spec = registry.get("nad.crd")

    def boom(_snap: Snapshot) -> list[Finding]:
        raise KeyError("surprise")

    broken = CheckSpec(spec.id, spec.title, spec.severity, spec.description, None, boom)
    findings = run_check(broken, fixture_snapshot("healthy-k3s"))
    assert [f.status for f in findings] == [Status.ERROR]
    assert "KeyError" in findings[0].message
