"""plugins.present looks for every plugin of a conflist NAD, chained ones such as tuning included:
a node without the tuning binary fails with the runtime's own error, and install-cni-plugins plans it."""

from __future__ import annotations

import json

from multus_check.checks.engine import run_checks
from multus_check.fixes.plan import PlanContext
from multus_check.fixes.registry import FIXES
from multus_check.model import Status
from multus_check.snapshot import Snapshot
from tests.conftest import fixture_snapshot


def _without(binary: str, node: str = "k3s-agent-1") -> Snapshot:
    snap = fixture_snapshot("healthy-k3s")
    facts = snap.nodes[node]
    facts.dirs["/opt/cni/bin"] = [e for e in facts.dirs["/opt/cni/bin"] or [] if e.name != binary]
    snap.invalidate()
    return snap


def test_the_seed_nad_chains_tuning_and_every_node_has_it() -> None:
    snap = fixture_snapshot("healthy-k3s")
    nad = next(o for o in snap.objects if o["kind"] == "NetworkAttachmentDefinition")
    assert [p["type"] for p in json.loads(nad["spec"]["config"])["plugins"]] == ["macvlan", "tuning"]
    findings = run_checks(snap, include=["plugins.present"])
    assert {f.status for f in findings} == {Status.PASS}
    assert all("tuning" in f.evidence["needed"] and "tuning" in f.message for f in findings)


def test_a_node_without_the_tuning_binary_fails_with_the_runtimes_error_naming_tuning() -> None:
    findings = {f.subject: f for f in run_checks(_without("tuning"), include=["plugins.present"])}
    bad = findings["node/k3s-agent-1"]
    assert bad.status is Status.FAIL and bad.evidence["missing"] == ["tuning"]
    assert 'failed to find plugin "tuning" in path [/opt/cni/bin]' in bad.message
    assert "./tuning" in bad.remediation and bad.fix == "install-cni-plugins"
    assert findings["node/k3s-server"].status is Status.PASS and findings["node/k3s-agent-2"].status is Status.PASS


def test_install_cni_plugins_plans_the_missing_tuning_binary() -> None:
    snap = _without("tuning")
    plan = FIXES["install-cni-plugins"].plan(snap, run_checks(snap), PlanContext())
    assert plan.refused is None and plan.changes and "plugins.present" in plan.repairs
    daemonset = next(c.after for c in plan.changes if c.kind == "DaemonSet")
    script = json.dumps(daemonset)
    assert "for f in /tmp/plugins/*" in script, "every binary of the release archive is installed, tuning included"


def test_a_nad_without_tuning_does_not_ask_for_it() -> None:
    snap = fixture_snapshot("nad-ipv6-not-ready")
    facts = snap.nodes["k3s-agent-1"]
    facts.dirs["/opt/cni/bin"] = [e for e in facts.dirs["/opt/cni/bin"] or [] if e.name != "tuning"]
    snap.invalidate()
    findings = run_checks(snap, include=["plugins.present"])
    assert {f.status for f in findings} == {Status.PASS}
    assert all("tuning" not in f.evidence["needed"] for f in findings)
