"""install-multus: CRD, RBAC and the thin DaemonSet with the nodes' paths; created and undone on the emulator."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from multus_check.fixes.install_multus import daemonset, manifest_yaml
from multus_check.fixes.journal import Journal
from multus_check.fixes.plan import PlanContext
from multus_check.fixes.registry import FIXES
from multus_check.fixes.render import render_plan
from multus_check.fixes.undo import undo
from multus_check.model import Status
from multus_check.pipeline.fix_run import execute, static_findings, statuses
from multus_check.snapshot import load_snapshot
from tests.api.scenario import FIXTURES
from tests.conftest import ROOT
from tests.fixes.world import World, variant, world


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


#: what an earlier, partial install left behind: its own rules, so an overwrite would show
OLD_ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "multus"},
            "rules": [{"apiGroups": ["k8s.cni.cncf.io"], "resources": ["*"], "verbs": ["get", "list"]}]}
OLD_SA = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "multus", "namespace": "kube-system"}}
ROLE_KEY = ("rbac.authorization.k8s.io/v1/clusterroles", None, "multus")
SA_KEY = ("v1/serviceaccounts", "kube-system", "multus")


def _with_old_rbac(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    items += [copy.deepcopy(OLD_ROLE), copy.deepcopy(OLD_SA)]


def _stored(w: World, plural_key: str, namespace: str | None, name: str) -> dict[str, Any] | None:
    objs = [o for o in w.sc.harness.sync(lambda: w.emulator.live(plural_key, namespace)) if o["metadata"]["name"] == name]
    return copy.deepcopy(objs[0]) if objs else None


def test_rbac_the_snapshot_holds_is_not_planned_and_the_plan_says_it_is_left_alone() -> None:
    # snapshot directories keep no RBAC kinds today (the loader drops them), so the objects go in directly
    snap = load_snapshot(FIXTURES / "multus-missing")
    snap.objects += [copy.deepcopy(OLD_ROLE), copy.deepcopy(OLD_SA)]
    snap.invalidate()
    plan = FIXES["install-multus"].plan(snap, static_findings(snap), PlanContext())

    assert [c.ref for c in plan.changes] == ["ClusterRoleBinding multus", "DaemonSet kube-system/kube-multus-ds"]
    assert any(n.startswith("ClusterRole multus already exists") and "undo will not delete it" in n for n in plan.notes)
    assert any(n.startswith("ServiceAccount kube-system/multus already exists") for n in plan.notes)
    text = render_plan([plan])
    assert "ClusterRole multus already exists: not created and not changed" in text
    assert "create (unless it exists) ClusterRoleBinding multus" in text


def test_existing_multus_rbac_is_left_alone_and_undo_deletes_only_what_the_fix_created(tmp_path: Path) -> None:
    with world(variant("multus-missing", tmp_path, _with_old_rbac), tmp_path / "w") as w:
        role, sa = _stored(w, *ROLE_KEY), _stored(w, *SA_KEY)
        assert role is not None and sa is not None
        snap, findings = w.diagnose()  # the live collection reads no RBAC: only the apply can see them
        (plan,) = [p for p in w.plans(snap, findings) if p.fix_id == "install-multus"]
        assert [c.if_absent for c in plan.changes] == [True, True, True, False]

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-i3", w.collect)

        assert run.outcome.ok, run.outcome.stopped
        assert run.outcome.skipped == ["ClusterRole multus", "ServiceAccount kube-system/multus"]
        assert run.outcome.applied == ["ClusterRoleBinding multus", "DaemonSet kube-system/kube-multus-ds"]
        posts = [(m, p) for m, p, _ in w.fix_writes(dry_run=False)]
        assert posts == [("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"),
                         ("POST", "/apis/apps/v1/namespaces/kube-system/daemonsets")]
        assert [p for _, p, _ in w.fix_writes(dry_run=True)] == [p for _, p in posts]  # nothing 409s in the dry run
        assert _stored(w, *ROLE_KEY) == role and _stored(w, *SA_KEY) == sa  # not overwritten: same rules, same version
        journal = Journal.load(run.journal.path)
        assert [(e.kind, e.state) for e in journal.entries] == [
            ("ClusterRole", "skipped"), ("ClusterRoleBinding", "applied"), ("ServiceAccount", "skipped"),
            ("DaemonSet", "applied")]

        outcome = undo(journal, w.writer)

        assert outcome.ok and outcome.deleted == ["DaemonSet kube-system/kube-multus-ds", "ClusterRoleBinding multus"]
        assert _stored(w, *ROLE_KEY) == role and _stored(w, *SA_KEY) == sa
        assert _stored(w, "rbac.authorization.k8s.io/v1/clusterrolebindings", None, "multus") is None
        assert [m for m, _, _ in w.fix_writes(dry_run=False)].count("DELETE") == 2


def test_a_crd_created_after_the_diagnosis_is_left_alone_and_not_undone(tmp_path: Path) -> None:
    with world(FIXTURES / "nad-crd-missing", tmp_path) as w:
        snap, findings = w.diagnose()
        (plan,) = [p for p in w.plans(snap, findings) if p.fix_id == "install-multus"]
        w.emulator.install_nad_crd()  # someone installs Multus between the diagnosis and the apply

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-i4", w.collect)

        assert run.outcome.ok and run.outcome.applied == [] and run.outcome.skipped == [plan.changes[0].ref]
        assert not run.verified  # nothing was applied, so nothing is claimed
        assert w.fix_writes() == []
        assert undo(Journal.load(run.journal.path), w.writer).deleted == []
