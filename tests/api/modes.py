"""Every documented mode of the tool, run through its command line against a recording emulator,
each step under exactly the manifests of fixtures/rbac/ that document it.

Used (once per test session, see conftest.py) by test_rbac_modes.py (no 403, the preflight asked
for everything, no unused grant) and test_schemas.py (every body sent validates against the
Kubernetes OpenAPI schemas). A `Step` is one command; steps of one `Session` share one cluster,
in order (a fix, then its undo).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from multus_check.cli import main
from tests.api.rbac import Rbac
from tests.api.recording import Recorded, RecordingEmulator, manifest_namespaces, recorded_world
from tests.api.scenario import FIXTURES, Scenario

READONLY = ("readonly.yaml",)
NODE_FACTS = ("readonly.yaml", "node-facts.yaml")
FIX = ("readonly.yaml", "node-facts.yaml", "fix.yaml")
MANAGED = {"app.kubernetes.io/managed-by": "multus-check", "multus-check.io/run-id": "20261101000000-dead"}


@dataclass(frozen=True)
class Step:
    """One invocation: `argv` (KUBECONFIG and WORKDIR are filled in), the manifests it runs under (None:
    a cluster-admin, no RBAC), the exit codes it may give. `command` replaces the command line's `main`
    only where the rest of a command is host work as root that sends no request (`node`)."""

    name: str
    manifests: tuple[str, ...] | None
    argv: tuple[str, ...]
    codes: frozenset[int]
    command: Callable[[list[str]], int] = main


def _node_nad(argv: list[str]) -> int:
    """`multus-check node --nad NS/NAME` as far as the cluster goes: the reader the command calls first
    (everything after it runs CNI plugins on this host, as root, and sends no request)."""
    from multus_check.errors import UsageError
    from multus_check.kube.connect import ClusterTarget
    from multus_check.pipeline.node_run import nad_from_cluster

    try:
        nad_from_cluster(argv[argv.index("--nad") + 1], ClusterTarget(argv[argv.index("--kubeconfig") + 1]))
    except UsageError as exc:
        print(f"multus-check: error: {exc}", file=sys.stderr)
        return 2
    return 0


@dataclass
class StepRecord:
    step: Step
    code: int
    stdout: str
    stderr: str
    workdir: Path
    requests: list[Recorded]

    @property
    def rbac(self) -> Rbac:
        return Rbac(self.step.manifests or ())


@dataclass(frozen=True)
class Session:
    name: str
    snapshot: str
    steps: tuple[Step, ...]
    edit: Callable[[list[dict[str, Any]]], None] | None = None  # changes the snapshot's objects first
    seed: Callable[[RecordingEmulator], None] = lambda em: None
    #: every documented setup applies node-facts.yaml, which creates the namespace; a cluster-admin need not
    namespace_exists: bool = True


def _report(*extra: str) -> tuple[str, ...]:
    return ("--kubeconfig", "KUBECONFIG", "--report-dir", "WORKDIR/report", "--format", "json",
            "--output", "WORKDIR/report.json", "--timeout", "20", *extra)


def _fix(name: str) -> tuple[Step, Step]:
    return (Step(f"fix {name}", FIX, _report("--no-e2e", "--fix", "--yes"), frozenset({0})),
            Step(f"undo {name}", ("fix.yaml",), ("undo", f"WORKDIR/../fix {name}/report", "--kubeconfig", "KUBECONFIG"),
                 frozenset({0})))


def _leftovers(em: RecordingEmulator) -> None:
    """What killed runs left: a namespace a run created, labelled pods and ConfigMaps elsewhere."""
    em.namespaces["multus-check-old"] = {"apiVersion": "v1", "kind": "Namespace",
                                         "metadata": {"name": "multus-check-old", "labels": dict(MANAGED)}}
    for kind, ns, name in (("Pod", "multus-check", "multus-check-20261101000000-dead-0"),
                           ("ConfigMap", "multus-check", "multus-check-collector-20261101000000-dead"),
                           ("Pod", "team-a", "multus-check-e2e-20261101000000-dead-0"),
                           ("ConfigMap", "team-a", "multus-check-e2e-20261101000000-dead")):
        obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns, "labels": dict(MANAGED)}}
        if kind == "Pod":
            obj["spec"] = {"containers": [{"name": "c", "image": "busybox"}]}
        em.put(obj)


def _workloads(em: RecordingEmulator) -> None:
    container = {"name": "ha", "image": "ghcr.io/home-assistant/home-assistant:2026.11"}
    template = {"metadata": {"labels": {"app": "ha"}},
                "spec": {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet", "containers": [container]}}
    for kind, name in (("Deployment", "home-assistant"), ("StatefulSet", "plex"), ("DaemonSet", "avahi")):
        spec: dict[str, Any] = {"selector": {"matchLabels": {"app": "ha"}}, "template": json.loads(json.dumps(template))}
        if kind == "StatefulSet":
            spec["serviceName"] = name
        em.put({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "default"}, "spec": spec})


def _flannel_in_kube_system(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        if obj["metadata"].get("namespace") == "kube-flannel":
            obj["metadata"]["namespace"] = "kube-system"


def _no_nad(objects: list[dict[str, Any]]) -> None:
    objects[:] = [o for o in objects if o["kind"] != "NetworkAttachmentDefinition"]


def _leftovers_and_workloads(em: RecordingEmulator) -> None:
    _leftovers(em)
    _workloads(em)


SESSIONS = (
    Session("admin", "healthy-k3s", (
        Step("live run as cluster-admin, creating its namespace", None, _report(), frozenset({0, 1})),
    ), namespace_exists=False),
    Session("healthy", "healthy-k3s", (
        Step("live run with node facts and sample pods", NODE_FACTS, _report(), frozenset({0, 1})),
        Step("live run --no-node-facts", READONLY, _report("--no-node-facts"), frozenset({3})),
        Step("node --nad", READONLY, ("node", "--nad", "default/macvlan-lan", "--kubeconfig", "KUBECONFIG"), frozenset({0}),
             command=_node_nad),
        Step("live run --no-node-facts --cidr-probe-namespace default", ("readonly.yaml", "cidr-probe.yaml"),
             _report("--no-node-facts", "--no-e2e", "--cidr-probe-namespace", "default"), frozenset({3})),
        Step("snapshot", NODE_FACTS, ("snapshot", "WORKDIR/snap", "--kubeconfig", "KUBECONFIG", "--timeout", "20"), frozenset({0})),
        Step("snapshot --no-node-facts", READONLY, ("snapshot", "WORKDIR/snap", "--kubeconfig", "KUBECONFIG", "--no-node-facts"),
             frozenset({0})),
        Step("cleanup --namespace multus-check", ("node-facts.yaml",),
             ("cleanup", "--namespace", "multus-check", "--kubeconfig", "KUBECONFIG"), frozenset({0})),
        Step("cleanup --namespace multus-check-old", ("cleanup.yaml",),
             ("cleanup", "--namespace", "multus-check-old", "--kubeconfig", "KUBECONFIG"), frozenset({0})),
        Step("cleanup", ("cleanup.yaml",), ("cleanup", "--kubeconfig", "KUBECONFIG"), frozenset({0})),
        Step("attach deployment --network", ("fix.yaml",), ("attach", "deployment/home-assistant", "--network", "default/macvlan-lan",
                                                            "--yes", "--report-dir", "WORKDIR/report", "--kubeconfig", "KUBECONFIG"), frozenset({0})),
        Step("attach statefulset", ("fix.yaml",), ("attach", "statefulset/plex", "--yes", "--report-dir", "WORKDIR/report",
                                                   "--kubeconfig", "KUBECONFIG"), frozenset({0})),
        Step("attach daemonset", ("fix.yaml",), ("attach", "daemonset/avahi", "--mac", "02:42:c0:a8:01:50", "--yes",
                                                 "--report-dir", "WORKDIR/report", "--kubeconfig", "KUBECONFIG"), frozenset({0})),
        Step("undo attach", ("fix.yaml",), ("undo", "WORKDIR/../attach deployment --network/report", "--kubeconfig", "KUBECONFIG"),
             frozenset({0})),
    ), seed=_leftovers_and_workloads),
    Session("flannel", "cidr-service-routing", _fix("flannel-service-routes")),
    Session("flannel-kube-system", "cidr-service-routing", _fix("flannel-service-routes in kube-system"), edit=_flannel_in_kube_system),
    Session("plugins", "plugins-missing", _fix("install-cni-plugins")),
    Session("multus", "multus-missing", _fix("install-multus")),
    Session("crd", "nad-crd-missing", _fix("install-multus CRD")),
    Session("nesting", "multus-nested-delegates", _fix("multus-nesting")),
    Session("kubeconfig", "multus-kubeconfig-missing", _fix("multus-k3s-kubeconfig")),
    Session("nad", "nad-config-invalid", _fix("nad-repair")),
    Session("nad-create", "healthy-k3s", _fix("nad-repair create"), edit=_no_nad),
    Session("nad-ipv6", "nad-ipv6-not-ready", _fix("nad-ipv6-ready")),
)


def run_session(session: Session, workdir: Path) -> list[StepRecord]:
    snapshot = _snapshot(session, workdir)
    records: list[StepRecord] = []
    with recorded_world(snapshot, workdir / "world") as sc:
        em: RecordingEmulator = sc.harness.emulator  # type: ignore[assignment]
        for ns in manifest_namespaces(("node-facts.yaml",)) if session.namespace_exists else []:
            em.namespaces[ns["metadata"]["name"]] = ns
        sc.harness.sync(lambda: session.seed(em))
        for step in session.steps:
            records.append(_run_step(sc, em, step, workdir / step.name))
    return records


def _snapshot(session: Session, workdir: Path) -> Path:
    source = FIXTURES / session.snapshot
    if session.edit is None:
        return source
    target = workdir / "snapshot"
    shutil.copytree(source, target)
    doc = yaml.safe_load((target / "cluster.yaml").read_text())
    session.edit(doc["items"])
    (target / "cluster.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return target


def _run_step(sc: Scenario, em: RecordingEmulator, step: Step, workdir: Path) -> StepRecord:
    workdir.mkdir(parents=True, exist_ok=True)
    argv = [a.replace("KUBECONFIG", str(sc.harness.kubeconfig)).replace("WORKDIR", str(workdir)) for a in step.argv]
    em.use(None if step.manifests is None else Rbac(step.manifests))
    first = len(em.recorded)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = step.command(argv)
    return StepRecord(step, code, out.getvalue(), err.getvalue(), workdir, list(em.recorded[first:]))
