"""RBAC that matches every mode: each documented mode, recorded under exactly its shipped manifests.

`recorded_modes` (conftest.py, tests/api/modes.py) runs through the command line: a live run with
node facts and sample pods; `--no-node-facts`; `node --nad` (its cluster read); the opt-in
`--cidr-probe-namespace`; `snapshot`
with and without node facts; `cleanup` of every namespace and of one; `--fix --yes` for every fix
scenario and its `undo`; `attach` of a Deployment, StatefulSet and DaemonSet and its undo. Each
request was authorized by tests/api/rbac.py from the step's manifests (escalation checks
included). Here: none was refused, the preflight asked for each one first, and every grant of every
manifest is used by some request (no unused grant).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from multus_check.cli import main
from tests.api.modes import FIX, NODE_FACTS, READONLY, SESSIONS, StepRecord
from tests.api.rbac import RBAC_DIR, Atom, Rbac, Request
from tests.api.recording import RecordingEmulator, recorded_world
from tests.api.scenario import FIXTURES

STEPS = [step.name for session in SESSIONS for step in session.steps]


@pytest.mark.parametrize("step", STEPS)
def test_each_documented_mode_runs_under_its_shipped_rbac_without_a_refused_request(
        step: str, recorded_modes: dict[str, StepRecord]) -> None:
    record = recorded_modes[step]
    assert record.code in record.step.codes, f"{step}: exit {record.code}\n{record.stderr[-2000:]}"
    refused = [(r.method, r.path, r.status, r.decision.reason if r.decision else "") for r in record.requests
               if r.status == 403 or (r.decision is not None and not r.decision.allowed)]
    assert refused == []
    assert "Traceback" not in record.stderr


@pytest.mark.parametrize("step", STEPS)
def test_the_preflight_asked_for_every_permission_the_mode_then_used(step: str, recorded_modes: dict[str, StepRecord]) -> None:
    record = recorded_modes[step]
    questions = [q for r in record.requests if r.is_review for q in _questions(r)]
    asked = [q for q, allowed in questions if allowed]
    unasked = [f"{r.method} {r.path} ({r.request})" for r in record.requests
               if r.request is not None and not r.is_review and not any(_covers(q, r.request) for q in asked)]
    assert unasked == []
    assert questions, "the mode asked nothing up front"


#: questions a documented mode asks and is meant to get "no" for
EXPECTED_DENIALS = {
    # --no-node-facts under readonly.yaml asks what the sample pods need, and reports e2e.* as error naming it
    "live run --no-node-facts": [Request(v, "", res, ns, name) for v, res, ns, name in (
        ("create", "configmaps", "multus-check", None), ("deletecollection", "configmaps", "multus-check", None),
        ("create", "pods", "multus-check", None), ("deletecollection", "pods", "multus-check", None),
        ("get", "pods/log", "multus-check", None), ("get", "namespaces", None, "multus-check"),
        ("create", "namespaces", None, None), ("delete", "namespaces", None, "multus-check"))],
    # creating Multus's ClusterRole: `escalate`, or holding what it grants; fix.yaml takes the second way
    "fix install-multus": [Request("escalate", "rbac.authorization.k8s.io", "clusterroles")],
}


@pytest.mark.parametrize("step", STEPS)
def test_every_permission_the_preflight_asked_for_is_granted_in_its_documented_mode(
        step: str, recorded_modes: dict[str, StepRecord]) -> None:
    """So no part of a documented mode is silently skipped or marked forbidden."""
    record = recorded_modes[step]
    denied = {q for r in record.requests if r.is_review for q, allowed in _questions(r) if not allowed}
    assert sorted(map(str, denied)) == sorted(map(str, EXPECTED_DENIALS.get(step, [])))
    if step == "live run --no-node-facts":
        assert '"Not run: RBAC forbids get namespaces' in (record.workdir / "report.json").read_text()


def test_every_grant_of_every_shipped_manifest_is_used_by_some_documented_mode(recorded_modes: dict[str, StepRecord]) -> None:
    used: set[Atom] = set()
    granted: dict[str, set[Atom]] = defaultdict(set)
    for record in recorded_modes.values():
        for atom in record.rbac.atoms:  # none for the cluster-admin step
            granted[atom.file].add(atom)
        used |= {a for r in record.requests if r.decision is not None for a in r.decision.used}
    shipped = sorted(p.name for p in RBAC_DIR.glob("*.yaml"))
    assert sorted(granted) == shipped, "a manifest of fixtures/rbac/ is documented for no mode"
    unused = sorted(str(a) for atoms in granted.values() for a in atoms - used)
    assert unused == []


def test_read_only_modes_send_nothing_but_reads(recorded_modes: dict[str, StepRecord]) -> None:
    for record in recorded_modes.values():
        if record.step.manifests == READONLY:
            writes = [(r.method, r.path, r.query) for r in record.requests
                      if r.request is not None and not r.is_review and r.request.verb not in ("get", "list")]
            assert writes == [], record.step.name


def test_the_recorded_live_run_really_collected_node_facts_and_ran_a_sample_pod(recorded_modes: dict[str, StepRecord]) -> None:
    record = recorded_modes["live run with node facts and sample pods"]
    made = [(r.request.resource, r.request.namespace) for r in record.requests
            if r.request is not None and r.request.verb == "create" and r.status == 201]
    logs = [r for r in record.requests if r.request is not None and r.request.resource == "pods/log" and r.status == 200]
    assert made.count(("pods", "multus-check")) == 4  # three collector pods, one sample pod
    assert len(logs) == 4
    assert '"e2e.attach"' in (record.workdir / "report.json").read_text()


def test_the_opt_in_cidr_probe_is_the_only_create_of_its_mode(recorded_modes: dict[str, StepRecord]) -> None:
    record = recorded_modes["live run --no-node-facts --cidr-probe-namespace default"]
    creates = [(r.path, r.dry_run, r.status) for r in record.requests
               if r.request is not None and not r.is_review and r.request.verb == "create"]
    assert creates == [("/api/v1/namespaces/default/services", True, 422)]  # refused on purpose: it names the range


def test_install_multus_creates_its_cluster_role_by_holding_what_it_grants(recorded_modes: dict[str, StepRecord]) -> None:
    record = recorded_modes["fix install-multus"]
    role_creates = [r for r in record.requests if r.request is not None and r.request.resource == "clusterroles"
                    and r.request.verb == "create"]
    assert [r.dry_run for r in role_creates] == [True, False]
    for r in role_creates:
        assert r.decision is not None
        assert {a.binding for a in r.decision.used} >= {
            "ClusterRoleBinding multus-check-fix-multus-rbac -> ClusterRole multus-check-fix-multus-rbac"}


def _questions(r: Any) -> list[tuple[Request, bool]]:
    a = (r.body or {}).get("spec", {}).get("resourceAttributes", {})
    resource = a.get("resource", "") + (f"/{a['subresource']}" if a.get("subresource") else "")
    allowed = bool(((r.answer or {}).get("status") or {}).get("allowed"))
    return [(Request(a.get("verb", ""), a.get("group", ""), resource, a.get("namespace"), a.get("name") or None), allowed)]


def _covers(question: Request, req: Request) -> bool:
    """A question covers a request when it asked for the same verb and resource, in the same namespace or
    cluster-wide, for the same name or for any."""
    return (question.verb, question.group, question.resource) == (req.verb, req.group, req.resource) and \
        question.namespace in (None, req.namespace) and question.name in (None, req.name)


# -- a user without the rights: one line naming them, nothing sent ---------------------------------


def _fix_without(drop: str, tmp_path: Path) -> str:
    """fix.yaml without the role named `drop` (and its binding), as a file."""
    import yaml

    docs = [d for d in yaml.safe_load_all((RBAC_DIR / "fix.yaml").read_text()) if d]
    kept = [d for d in docs if d["metadata"]["name"] != drop]
    path = tmp_path / f"fix-without-{drop}.yaml"
    path.write_text(yaml.safe_dump_all(kept))
    return str(path)


def _writes(em: RecordingEmulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in em.recorded if r.request is not None and not r.is_review
            and r.request.verb not in ("get", "list")]


def _run(em: RecordingEmulator, manifests: tuple[str, ...], argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    em.use(Rbac(manifests))
    first = len(em.recorded)
    capsys.readouterr()
    code = main(argv)
    err = capsys.readouterr().err
    del em.recorded[:first]
    return code, err


def test_a_fix_without_the_rights_to_create_multus_rbac_stops_before_any_dry_run_naming_them(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifests = (*NODE_FACTS, _fix_without("multus-check-fix-multus-rbac", tmp_path))
    with recorded_world(FIXTURES / "multus-missing", tmp_path / "w") as sc:
        em: RecordingEmulator = sc.harness.emulator  # type: ignore[assignment]
        em.namespaces["multus-check"] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multus-check"}}
        code, err = _run(em, manifests, ["--kubeconfig", str(sc.harness.kubeconfig), "--no-e2e", "--fix", "--yes",
                                         "--report-dir", str(tmp_path / "r"), "--format", "json",
                                         "--output", str(tmp_path / "r.json")], capsys)
        writes = _writes(em)
    assert code == 2
    line = err.strip().splitlines()[-1]
    assert line.startswith("multus-check: error: missing permissions to apply this plan, so nothing was sent: "
                           "creating ClusterRole multus needs `escalate` on clusterroles or holding every permission it grants "
                           "(missing: escalate clusterroles.rbac.authorization.k8s.io cluster-wide, "
                           "* *.k8s.cni.cncf.io cluster-wide, get pods cluster-wide, update pods cluster-wide, "), line
    assert line.endswith("fixtures/rbac/fix.yaml grants them (docs/FIX.md)"), line
    assert [w for w in writes if w[1].startswith("/api/v1/namespaces/multus-check")] == writes, "only the diagnosis wrote"


def test_a_fix_with_read_only_rights_names_every_missing_verb_and_sends_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with recorded_world(FIXTURES / "cidr-service-routing", tmp_path / "w") as sc:
        em: RecordingEmulator = sc.harness.emulator  # type: ignore[assignment]
        em.namespaces["multus-check"] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multus-check"}}
        code, err = _run(em, NODE_FACTS, ["--kubeconfig", str(sc.harness.kubeconfig), "--no-e2e", "--fix", "--yes",
                                          "--report-dir", str(tmp_path / "r"), "--format", "json",
                                          "--output", str(tmp_path / "r.json")], capsys)
        writes = [w for w in _writes(em) if "/namespaces/multus-check/" not in w[1]]
    assert code == 2 and writes == []
    assert ("nothing was sent: get configmaps 'kube-flannel-cfg' in namespace kube-flannel; "
            "update configmaps 'kube-flannel-cfg' in namespace kube-flannel; "
            "get daemonsets.apps 'kube-flannel-ds' in namespace kube-flannel; "
            "update daemonsets.apps 'kube-flannel-ds' in namespace kube-flannel.") in err


def test_undo_and_attach_without_rights_name_them_and_send_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with recorded_world(FIXTURES / "cidr-service-routing", tmp_path / "w") as sc:
        em: RecordingEmulator = sc.harness.emulator  # type: ignore[assignment]
        em.namespaces["multus-check"] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multus-check"}}
        kc = str(sc.harness.kubeconfig)
        fixed, _ = _run(em, FIX, ["--kubeconfig", kc, "--no-e2e", "--fix", "--yes", "--report-dir", str(tmp_path / "r"),
                                  "--format", "json", "--output", str(tmp_path / "r.json")], capsys)
        undone, undo_err = _run(em, READONLY, ["undo", str(tmp_path / "r"), "--kubeconfig", kc], capsys)
        undo_writes = _writes(em)
        attached, attach_err = _run(em, READONLY, ["attach", "deployment/home-assistant", "--yes", "--kubeconfig", kc], capsys)
        attach_requests = [r for r in em.recorded if r.request is not None and not r.is_review]
    assert fixed == 0
    assert (undone, undo_writes) == (2, [])
    assert "get configmaps 'kube-flannel-cfg' in namespace kube-flannel; update configmaps" in undo_err
    assert attached == 2 and attach_requests == []
    assert ("missing permissions to attach Deployment home-assistant, so nothing was sent: get deployments.apps "
            "'home-assistant' in namespace default; update deployments.apps 'home-assistant' in namespace default. "
            "fixtures/rbac/fix.yaml grants them") in attach_err  # readonly.yaml grants the NAD list


def test_cleanup_without_its_rbac_names_what_it_could_not_check_and_does_not_exit_0(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.api.modes import _leftovers

    with recorded_world(FIXTURES / "healthy-k3s", tmp_path / "w") as sc:
        em: RecordingEmulator = sc.harness.emulator  # type: ignore[assignment]
        em.namespaces["multus-check"] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multus-check"}}
        sc.harness.sync(lambda: _leftovers(em))
        code, err = _run(em, NODE_FACTS, ["cleanup", "--kubeconfig", str(sc.harness.kubeconfig)], capsys)
        refused = [r.path for r in em.recorded if r.status == 403]
        left = sorted(em.namespaces)
    assert code == 3
    assert refused == []
    assert ("could not check: namespaces created by earlier runs, other than multus-check: RBAC forbids list namespaces "
            "cluster-wide (fixtures/rbac/cleanup.yaml grants it)") in err
    assert "could not check: labelled configmaps outside namespace multus-check: RBAC forbids list configmaps cluster-wide" in err
    assert "could not check: 1 labelled pods in namespace team-a: RBAC forbids deletecollection pods in namespace team-a" in err
    assert "multus-check-old" in left, "an older run's namespace it could not see is still there, and it says so"


def test_the_fix_permissions_name_the_verbs_of_every_manifest_role() -> None:
    """fix.yaml's roles exist as documented in docs/FIX.md (the table there names each role)."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "FIX.md").read_text()
    import yaml

    roles = [d["metadata"]["name"] for d in yaml.safe_load_all((RBAC_DIR / "fix.yaml").read_text())
             if d and d["kind"] in ("Role", "ClusterRole")]
    assert set(roles) == {"multus-check-fix", "multus-check-fix-multus-rbac", "multus-check-attach"}
    assert all(f"`{r}`" in text for r in roles)
    assert FIX == ("readonly.yaml", "node-facts.yaml", "fix.yaml")


def test_a_fix_that_creates_objects_asks_first_for_the_delete_its_rollback_would_need(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A create is undone by reading the object and deleting it (the rollback of a later failing step, or
    `undo`): without `delete` a half-applied fix could not be taken back, so the preflight asks for it."""
    import yaml

    docs = [d for d in yaml.safe_load_all((RBAC_DIR / "fix.yaml").read_text()) if d]
    for d in docs:
        for rule in d.get("rules") or []:
            rule["verbs"] = [v for v in rule["verbs"] if v != "delete"] or ["get"]
    trimmed = tmp_path / "fix-without-delete.yaml"
    trimmed.write_text(yaml.safe_dump_all(docs))
    with recorded_world(FIXTURES / "plugins-missing", tmp_path / "w") as sc:
        em: RecordingEmulator = sc.harness.emulator  # type: ignore[assignment]
        em.namespaces["multus-check"] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multus-check"}}
        code, err = _run(em, (*NODE_FACTS, str(trimmed)), [
            "--kubeconfig", str(sc.harness.kubeconfig), "--no-e2e", "--fix", "--yes", "--report-dir", str(tmp_path / "r"),
            "--format", "json", "--output", str(tmp_path / "r.json")], capsys)
        writes = [w for w in _writes(em) if "/namespaces/multus-check/" not in w[1]]
    line = err.strip().splitlines()[-1]
    assert code == 2 and writes == [], line
    assert line.startswith("multus-check: error: missing permissions to apply this plan, so nothing was sent: "), line
    assert "delete configmaps 'cni-plugins' in namespace kube-system" in line
    assert "delete daemonsets.apps 'multus-check-cni-plugins' in namespace kube-system" in line


def test_another_namespace_under_the_shipped_rbac_stops_saying_how_to_adapt_node_facts_yaml_and_that_works(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """node-facts.yaml grants namespace multus-check only: `--namespace mc-other` stops before creating anything
    with the exact edit of the file, and the file so edited (by sed, as printed) lets the same run through."""
    import re
    import subprocess

    import yaml

    argv = ["--kubeconfig", "KC", "--namespace", "mc-other", "--no-e2e", "--report-dir", str(tmp_path / "r"),
            "--format", "json", "--output", str(tmp_path / "r.json"), "--timeout", "20"]
    with recorded_world(FIXTURES / "healthy-k3s", tmp_path / "w") as sc:
        em: RecordingEmulator = sc.harness.emulator  # type: ignore[assignment]
        run = [a.replace("KC", str(sc.harness.kubeconfig)) for a in argv]
        code, err = _run(em, NODE_FACTS, run, capsys)
        line = err.strip().splitlines()[-1]
        assert code == 2 and "Traceback" not in err, err
        assert "namespace mc-other" in line and "(the file grants namespace multus-check)" in line, line
        sed = re.search(r"(sed .*?) \| kubectl apply -f -", line)
        assert sed is not None, line
        adapted = tmp_path / "node-facts-mc-other.yaml"
        adapted.write_text(subprocess.run(sed.group(1), shell=True, cwd=RBAC_DIR.parents[1], capture_output=True,
                                          text=True, check=True).stdout)
        docs = [d for d in yaml.safe_load_all(adapted.read_text()) if d]
        for ns in (d for d in docs if d["kind"] == "Namespace"):
            em.namespaces[ns["metadata"]["name"]] = ns
        assert {d["metadata"].get("namespace") for d in docs if d["kind"] in ("Role", "RoleBinding")} == {"mc-other"}
        assert all(s["namespace"] == "multus-check-system" for d in docs for s in d.get("subjects") or [])

        code, err = _run(em, ("readonly.yaml", str(adapted)), run, capsys)
        refused = [(r.method, r.path) for r in em.recorded if r.status == 403]
        pods = [r.path for r in em.recorded if r.method == "POST" and r.path == "/api/v1/namespaces/mc-other/pods"]
    assert code in (0, 1) and refused == [], err
    assert len(pods) == 3, "a collector pod per node ran in mc-other"
