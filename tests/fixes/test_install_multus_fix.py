"""install-multus: CRD, RBAC and the thin DaemonSet with the nodes' paths; created and undone on the emulator."""

from __future__ import annotations

from pathlib import Path

from multus_check.fixes.install_multus import daemonset, manifest_yaml
from multus_check.fixes.journal import Journal
from multus_check.fixes.undo import undo
from multus_check.fixes.verify import execute, statuses
from multus_check.model import Status
from tests.api.scenario import FIXTURES
from tests.conftest import ROOT
from tests.fixes.world import world


def test_the_fixture_manifest_is_what_the_fix_applies() -> None:
    path = ROOT / "fixtures" / "manifests" / "multus-thin-v4.2.3.yaml"
    assert path.read_text() == manifest_yaml(), "regenerate: python -m multus_check.fixes.install_multus > " + str(path)


def test_k3s_embedded_flannel_paths_and_kubeconfig_flag_are_used_on_k3s() -> None:
    ds = daemonset("/var/lib/rancher/k3s/agent/etc/cni/net.d", "/var/lib/rancher/k3s/data/cni", k3s=True)
    pod = ds["spec"]["template"]["spec"]
    assert {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]} == {
        "cni": "/var/lib/rancher/k3s/agent/etc/cni/net.d", "cnibin": "/var/lib/rancher/k3s/data/cni"}
    assert pod["containers"][0]["args"][-1] == \
        "--multus-kubeconfig-file-host=/var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig"
    assert pod["containers"][0]["image"].endswith(":v4.2.3")
    assert not any("kubeconfig" in a for a in daemonset()["spec"]["template"]["spec"]["containers"][0]["args"])


def test_missing_multus_is_installed_and_undo_deletes_every_created_object(tmp_path: Path) -> None:
    with world(FIXTURES / "multus-missing", tmp_path) as w:
        snap, findings = w.diagnose()
        assert statuses(findings)["multus.installed"] is Status.FAIL
        (plan,) = [p for p in w.plans(snap, findings) if p.fix_id == "install-multus"]

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-i1", w.collect)

        assert run.outcome.ok, run.outcome.stopped
        assert run.repaired["multus.installed"] in ("pass", "pending")
        assert [m for m, _, _ in w.fix_writes(dry_run=False)] == ["POST"] * 4
        ds = w.stored("apps/v1/daemonsets", "kube-system", "kube-multus-ds")
        assert ds["spec"]["template"]["spec"]["serviceAccountName"] == "multus"
        outcome = undo(Journal.load(run.journal.path), w.writer)
        assert outcome.ok and len(outcome.deleted) == 4
        assert all(d["metadata"]["name"] != "kube-multus-ds"
                   for d in w.sc.harness.sync(lambda: w.emulator.live("apps/v1/daemonsets", "kube-system")))


def test_a_missing_crd_is_created_first_and_the_nad_waits_for_the_next_run(tmp_path: Path) -> None:
    with world(FIXTURES / "nad-crd-missing", tmp_path) as w:
        snap, findings = w.diagnose()
        plans = w.plans(snap, findings)
        by_id = {p.fix_id: p for p in plans}
        assert by_id["nad-repair"].refused is not None and "run multus-check --fix again" in by_id["nad-repair"].refused
        run = execute(plans, w.writer, snap, tmp_path / "report", "run-i2", w.collect)
        assert run.outcome.ok and run.outcome.applied == ["CustomResourceDefinition network-attachment-definitions.k8s.cni.cncf.io"]
