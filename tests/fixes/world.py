"""A whole emulated cluster for fix tests: a (possibly edited) fixture snapshot seeded into the
write-aware emulator, with the fake kubelet so `collect()` is the real live collection.

Built from tests/api's pieces rather than `tests.api.scenario.scenario`, which replaces an empty
emulator passed to it (`emulator or ClusterEmulator()`: a kmock emulator with no objects is falsy).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from multus_check.checks.registry import all_checks
from multus_check.fixes.plan import Plan, PlanContext
from multus_check.fixes.registry import plan_all
from multus_check.kube import Gateway, load_target
from multus_check.kube.writes import Writer
from multus_check.model import Finding
from multus_check.pipeline.fix_run import static_findings
from multus_check.snapshot import Snapshot
from tests.api.harness import EmulatorHarness
from tests.api.hosttree import build_host_tree
from tests.api.kubelet import FakeKubelet
from tests.api.scenario import FAST_RETRIES, FIXTURES, Scenario, seed
from tests.fixes.emulator_writes import WriteEmulator

NOW = "2026-11-28T05:00:00Z"
#: the collector's own namespace (its pods and script ConfigMap live there and are deleted after)
TOOL_NAMESPACE = "/namespaces/multus-check/"
#: the paths a fix writes to
FIX_PATHS = (r"/(configmaps|daemonsets|network-attachment-definitions|deployments|statefulsets|customresourcedefinitions|"
             r"serviceaccounts|clusterroles|clusterrolebindings)(/|$)")

Edit = Callable[[list[dict[str, Any]], dict[str, Any]], None]


def variant(name: str, workdir: Path, edit: Edit) -> Path:
    """A copy of fixtures/snapshots/<name> whose objects and snapshot.json `edit` changed in place."""
    target = workdir / f"snap-{name}"
    shutil.copytree(FIXTURES / name, target)
    doc = yaml.safe_load((target / "cluster.yaml").read_text())
    meta = json.loads((target / "snapshot.json").read_text())
    edit(doc["items"], meta)
    (target / "cluster.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    (target / "snapshot.json").write_text(json.dumps(meta))
    return target


class World:
    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.emulator: WriteEmulator = sc.harness.emulator  # type: ignore[assignment]
        self.gateway = Gateway(load_target(str(sc.harness.kubeconfig)), FAST_RETRIES, timeout=5)
        self.writer = Writer(self.gateway)

    def collect(self) -> Snapshot:
        return self.sc.collect()

    def diagnose(self) -> tuple[Snapshot, list[Finding]]:
        snap = self.collect()
        return snap, static_findings(snap)

    def plans(self, snap: Snapshot, findings: list[Finding]) -> list[Plan]:
        return plan_all(snap, findings, PlanContext(now=NOW))

    def fix_writes(self, dry_run: bool | None = None) -> list[tuple[str, str, str]]:
        import re

        rx = re.compile(FIX_PATHS)
        return [c for c in self.emulator.writes(dry_run) if rx.search(c[1]) and TOOL_NAMESPACE not in c[1]]

    def stored(self, plural_key: str, namespace: str, name: str) -> dict[str, Any]:
        objs = [o for o in self.sc.harness.sync(lambda: self.emulator.live(plural_key, namespace))
                if o["metadata"]["name"] == name]
        assert len(objs) == 1, f"{plural_key} {namespace}/{name}: {len(objs)} objects"
        return json.loads(json.dumps(objs[0]))


@contextmanager
def world(snapshot_dir: Path, workdir: Path, emulator: WriteEmulator | None = None) -> Iterator[World]:
    workdir.mkdir(parents=True, exist_ok=True)
    em = WriteEmulator() if emulator is None else emulator
    seed(em, snapshot_dir)
    hosts = {d.name: build_host_tree(d) for d in sorted((snapshot_dir / "nodes").iterdir()) if d.is_dir()}
    kubelet = FakeKubelet(em, hosts, workdir, {}, 0.0)
    harness = EmulatorHarness(em, workdir / "kubeconfig")
    harness.background.append(kubelet.run)
    try:
        with harness:
            w = World(Scenario(harness, kubelet, hosts))
            try:
                yield w
            finally:
                w.gateway.close()
    finally:
        for host in hosts.values():
            host.close()
            shutil.rmtree(host.root.parent, ignore_errors=True)


def check_ids() -> set[str]:
    return {s.id for s in all_checks()}


def comparable_plans(snap: Snapshot, now: str = NOW) -> list[tuple[Any, ...]]:
    """Every fix's plan for a snapshot, comparable across a live collection and a snapshot directory
    (without the metadata the server stamps: resourceVersion, uid, creationTimestamp)."""
    from multus_check.checks.engine import run_checks
    from multus_check.fixes.fields import comparable

    def obj(o: dict[str, Any] | None) -> Any:
        if o is None:
            return None
        out = comparable(o)
        for key in ("uid", "creationTimestamp"):
            out.get("metadata", {}).pop(key, None)
        return out

    return [(p.fix_id, p.summary, p.refused, p.notes, p.pending, sorted(p.repairs),
             [(c.action.value, c.ref, c.why, c.if_absent, obj(c.before), obj(c.after)) for c in p.changes],
             [(m.title, m.commands) for m in p.manual])
            for p in plan_all(snap, run_checks(snap), PlanContext(now=now))]
