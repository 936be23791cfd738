"""A live collection from the emulator judges exactly like the snapshot it was built from.

Each example snapshot becomes an emulated cluster (objects in the API, one fake host tree
per node behind a fake kubelet); `collect` then reads it through the real client, runs the
real collector code in each "pod", and the findings must equal the offline findings. The
snapshot it writes must load back to the same findings too, and nothing may be left behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multus_check.checks.engine import run_checks
from multus_check.model import Finding
from multus_check.snapshot import Snapshot, load_snapshot, write_snapshot
from tests.api.scenario import FIXTURES, Scenario, scenario
from tests.fixes.world import comparable_plans

EXAMPLES = sorted(d.name for d in FIXTURES.iterdir() if (d / "snapshot.json").exists()) if FIXTURES.exists() else []


def verdicts(snap: Snapshot) -> set[tuple[str, str, str]]:
    return {(f.check, f.status.value, f.subject) for f in run_checks(snap)}


def full(findings: list[Finding]) -> list[tuple[str, str, str, str]]:
    return sorted((f.check, f.status.value, f.subject, f.message) for f in findings)


def managed_objects(sc: Scenario) -> list[str]:
    def scan() -> list[str]:
        out = [f"namespace/{n}" for n in sc.emulator.namespaces]
        for (res, ns, name), obj in sc.emulator.objects.items():
            labels = (obj.raw.get("metadata") or {}).get("labels") or {} if not obj.deleted else {}
            if labels.get("app.kubernetes.io/managed-by") == "multus-check":
                out.append(f"{res.plural}/{ns}/{name}")
        return out
    return sc.harness.sync(scan)


@pytest.mark.parametrize("example", EXAMPLES)
def test_live_collection_gives_the_same_findings_and_fix_plans_as_the_offline_snapshot(example: str, tmp_path: Path) -> None:
    with scenario(FIXTURES / example, tmp_path) as sc:
        live = sc.collect()
        assert managed_objects(sc) == []
    assert all(s.state.value in ("ok", "unsupported") for s in live.sections.values()), live.sections
    assert sorted(live.nodes) == sorted(sc.hosts)
    offline = load_snapshot(FIXTURES / example)
    assert verdicts(live) == verdicts(offline)
    assert comparable_plans(live) == comparable_plans(offline)


def test_healthy_and_broken_clusters_give_identical_messages_too(tmp_path: Path) -> None:
    for i, example in enumerate(("healthy-k3s", "dhcp-daemon-broken")):
        with scenario(FIXTURES / example, tmp_path / str(i)) as sc:
            live = sc.collect()
        assert full(run_checks(live)) == full(run_checks(load_snapshot(FIXTURES / example)))
    assert any(f.status.value == "fail" for f in run_checks(live)), "the broken example must fail a check"


def test_written_snapshot_loads_back_to_the_same_findings(tmp_path: Path) -> None:
    with scenario(FIXTURES / "nad-master-broken", tmp_path / "w") as sc:
        live = sc.collect()
    written = load_snapshot(write_snapshot(live, tmp_path / "snap"))
    assert full(run_checks(written)) == full(run_checks(live))
    assert written.facts["serviceCIDR"]["source"] == "server-side dry-run Service probe"
    assert written.sections["cluster/servicecidrs"].state.value == "unsupported"


def test_credentials_never_leave_the_node_and_a_conf_keeps_its_structure(tmp_path: Path) -> None:
    from multus_check.collect.redact import VALUE_MARKER
    from multus_check.snapshot import REDACTED_MARKER

    with scenario(FIXTURES / "healthy-k3s", tmp_path) as sc:
        secret = sc.hosts["k3s-agent-1"].root / "etc/cni/net.d/multus.d/multus.kubeconfig"
        secret.write_text("users:\n- user:\n    token: SECRET-TOKEN-123\n")
        (sc.hosts["k3s-agent-1"].root / "etc/cni/net.d/99-leak.conf").write_text('{"token": "x", "password": "hunter2"}')
        live = sc.collect()
        logs = "".join(sc.emulator.logs.values())
    facts = live.nodes["k3s-agent-1"]
    assert facts.files["/etc/cni/net.d/multus.d/multus.kubeconfig"] == REDACTED_MARKER
    assert json.loads(facts.files["/etc/cni/net.d/99-leak.conf"]) == {"token": VALUE_MARKER, "password": VALUE_MARKER}
    assert "SECRET-TOKEN-123" not in logs and "hunter2" not in logs


def test_servicecidr_api_is_preferred_when_the_server_has_it(tmp_path: Path) -> None:
    with scenario(FIXTURES / "healthy-k3s", tmp_path) as sc:
        sc.emulator.enable_servicecidr_api()
        sc.emulator.put({"apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR", "metadata": {"name": "kubernetes"},
                         "spec": {"cidrs": ["10.43.0.0/16"]}})
        live = sc.collect(node_facts=False)
        probes = sc.emulator.count_calls("POST", r"/services$")
    assert live.sections["cluster/servicecidrs"].state.value == "ok"
    assert live.facts["serviceCIDR"]["source"] == "ServiceCIDR API (networking.k8s.io/v1)"
    assert probes == 0
