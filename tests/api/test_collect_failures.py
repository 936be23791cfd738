"""Live collection when things go wrong: RBAC, API errors, nodes whose collector cannot run.

"Could not look" must never read as "found nothing": every such case leaves a forbidden or
failed section whose detail says why, the checks that need it report error, and the rest of
the cluster is still judged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from multus_check.checks.engine import run_checks
from multus_check.errors import Forbidden
from multus_check.model import Status
from multus_check.snapshot import SectionState
from tests.api.scenario import FIXTURES, scenario
from tests.api.test_collect_roundtrip import managed_objects

HEALTHY = FIXTURES / "healthy-k3s"
API_ONLY_NODE_CHECK = "flannel.network-contains-pod-cidrs"  # judged from the Node object, not host facts


def test_forbidden_events_mark_that_section_and_its_check_errors_naming_the_permission(tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path) as sc:
        sc.emulator.deny("list", "events")
        snap = sc.collect()
    section = snap.sections["cluster/events"]
    assert section.state is SectionState.FORBIDDEN
    assert "list events" in section.detail and "readonly.yaml" in section.detail
    assert snap.kind("Event") == []
    findings = run_checks(snap)
    events = [f for f in findings if f.check == "events.known-failures"]
    assert events and all(f.status is Status.ERROR for f in events)
    assert all(f.status is Status.PASS for f in findings if f.check.startswith(("multus.", "plugins.", "dhcp.")))


def test_missing_pod_permissions_stop_the_run_before_anything_is_created(tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path) as sc:
        sc.emulator.deny("create", "pods", "multus-check")
        sc.emulator.deny("get", "pods/log")
        with pytest.raises(Forbidden) as err:
            sc.collect()
        assert managed_objects(sc) == []
        creates = sc.emulator.count_calls("POST", r"/(pods|configmaps|namespaces)$")
    message = str(err.value)
    assert "create pods in namespace multus-check" in message
    assert "get pods/log in namespace multus-check" in message
    assert "node-facts.yaml" in message and "--no-node-facts" in message
    assert creates == 0


def test_no_node_facts_creates_nothing_and_marks_nodes_not_collected(tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path) as sc:
        sc.emulator.deny("create", "*")  # read-only RBAC is enough
        snap = sc.collect(node_facts=False)
        writes = sc.emulator.count_calls("POST", r"/(pods|configmaps|namespaces|services)$")
    assert writes == 0
    assert {s.state for k, s in snap.sections.items() if k.startswith("node/")} == {SectionState.NOT_COLLECTED}
    assert snap.nodes == {}
    # a read-only run sends no dry-run probe either, so the Service CIDR came from the next method
    assert snap.facts["serviceCIDR"]["source"] == "k3s server node-args --service-cidr" or not snap.facts["serviceCIDR"]["cidrs"]
    assert any("--no-node-facts is read-only" in t["result"] for t in snap.facts["serviceCIDR"]["tried"])


@pytest.mark.parametrize(("behaviour", "expected"), [
    ("never", "did not finish within 2s"),
    ("image-pull", "image pull failed: ImagePullBackOff"),
    ("reject", "OutOfcpu"),
    ("crash", "simulated collector crash"),
])
def test_a_node_whose_collector_cannot_run_fails_alone(behaviour: str, expected: str, tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path, behaviour={"k3s-agent-2": behaviour}) as sc:
        snap = sc.collect(timeout=2.0)
        assert managed_objects(sc) == []
    bad = snap.sections["node/k3s-agent-2"]
    assert bad.state is SectionState.FAILED and expected in bad.detail
    assert {n for n in snap.nodes} == {"k3s-server", "k3s-agent-1"}
    findings = [f for f in run_checks(snap) if f.subject.startswith("node/")]
    from_host = [f for f in findings if f.subject.startswith("node/k3s-agent-2") and f.check != API_ONLY_NODE_CHECK]
    assert len(from_host) >= 5
    assert all(f.status is Status.ERROR and expected in f.message for f in from_host)
    assert all(f.status is Status.PASS for f in findings if not f.subject.startswith("node/k3s-agent-2"))


def test_a_not_ready_node_gets_no_pod_and_says_why(tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path) as sc:
        node = sc.emulator.objects["v1/nodes", None, "k3s-agent-1"]
        node.patch({"status": {"conditions": [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"}]}})
        snap = sc.collect()
    assert "k3s-agent-1" not in sc.kubelet.started
    assert "NotReady (NodeStatusUnknown)" in snap.sections["node/k3s-agent-1"].detail


def test_transient_api_errors_are_retried_and_a_persistent_one_fails_only_its_section(tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path) as sc:
        sc.emulator.fail_next("GET", r"^/api/v1/nodes$", 503, "reset")
        sc.emulator.fail_next("GET", r"^/apis/apps/v1/daemonsets$", *([500] * 20))
        snap = sc.collect()
    assert snap.sections["cluster/nodes"].state is SectionState.OK and len(snap.kind("Node")) == 3
    ds = snap.sections["cluster/daemonsets"]
    assert ds.state is SectionState.FAILED and "500" in ds.detail
    multus = [f for f in run_checks(snap) if f.check == "multus.installed"]
    assert multus and all(f.status is Status.ERROR for f in multus)


def test_keep_leaves_the_objects_and_says_how_to_remove_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from multus_check.collect.live import collect
    from multus_check.collect.live.progress import Progress
    from multus_check.commands import cleanup
    from tests.api.scenario import FAST_RETRIES

    with scenario(HEALTHY, tmp_path) as sc:
        collect(sc.options(keep=True), progress=Progress(interactive=False), policy=FAST_RETRIES, poll_interval=0.05)
        kept = managed_objects(sc)
        text = capsys.readouterr().err
        code = cleanup.run(_args(kubeconfig=str(sc.harness.kubeconfig)))
        after = managed_objects(sc)
    assert "namespace/multus-check" in kept and len([k for k in kept if k.startswith("pods/")]) == 3
    assert "kept for debugging" in text and "multus-check cleanup --namespace multus-check" in text
    assert code == 0 and after == []


def test_an_existing_namespace_is_kept_and_only_the_runs_objects_go(tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path) as sc:
        sc.emulator.namespaces["tools"] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "tools"}}
        sc.emulator.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine", "namespace": "tools"}})
        snap = sc.collect(namespace="tools")
        left = sc.harness.sync(lambda: [c["metadata"]["name"] for c in sc.emulator.live("v1/configmaps", "tools")])
        assert "tools" in sc.emulator.namespaces
    assert left == ["mine"]
    assert len(snap.nodes) == 3


def _args(**kw: object) -> object:
    import argparse

    return argparse.Namespace(**{"kubeconfig": None, "context": None, "namespace": None, **kw})
