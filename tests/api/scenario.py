"""Build an emulated cluster from a snapshot directory: API objects, API features, fake hosts.

`Scenario` is the test's whole world: the emulator seeded with the snapshot's objects (Warning
events re-dated to now, since the collector keeps recent ones only), the NAD CRD served if the
snapshot has it, the ServiceCIDR API served if the snapshot read it, the Service CIDR the
dry-run probe will report, and a fake kubelet with one fake host tree per node.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from multus_check.collect.live import collect
from multus_check.collect.live.options import LiveOptions
from multus_check.collect.live.progress import Progress
from multus_check.kube import RetryPolicy
from multus_check.kube.connect import ClusterTarget
from multus_check.snapshot import Snapshot
from tests.api.emulator import ClusterEmulator
from tests.api.harness import EmulatorHarness
from tests.api.hosttree import HostTree, build_host_tree
from tests.api.kubelet import FakeKubelet

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "snapshots"
FAST_RETRIES = RetryPolicy(attempts=4, total_seconds=5, first_wait=0.01, max_wait=0.2)


def snapshot_objects(snapshot_dir: Path) -> list[dict[str, Any]]:
    doc = yaml.safe_load((snapshot_dir / "cluster.yaml").read_text())
    return [o for o in doc.get("items") or [] if isinstance(o, dict)]


def seed(emulator: ClusterEmulator, snapshot_dir: Path) -> None:
    meta = json.loads((snapshot_dir / "snapshot.json").read_text())
    objects = snapshot_objects(snapshot_dir)
    if any(o["kind"] == "CustomResourceDefinition" for o in objects) or any(
            o["kind"] == "NetworkAttachmentDefinition" for o in objects):
        emulator.install_nad_crd()
    if (meta.get("sections", {}).get("cluster/servicecidrs", {}) or {}).get("state") != "unsupported":
        emulator.enable_servicecidr_api()
    cidrs = (meta.get("facts", {}).get("serviceCIDR") or {}).get("cidrs") or []
    if cidrs:
        emulator.service_cidr = cidrs[0]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for obj in objects:
        if obj["kind"] == "CustomResourceDefinition":
            continue  # install_nad_crd stored it
        if obj["kind"] == "Event":
            obj = {**obj, "lastTimestamp": now}
        emulator.put(obj)


@dataclass
class Scenario:
    harness: EmulatorHarness
    kubelet: FakeKubelet
    hosts: dict[str, HostTree]

    @property
    def emulator(self) -> ClusterEmulator:
        return self.harness.emulator

    def options(self, **kw: Any) -> LiveOptions:
        base: dict[str, Any] = {"cluster": ClusterTarget(str(self.harness.kubeconfig)), "timeout": 20.0, "progress": False}
        base.update(kw)
        return LiveOptions(**base)

    def collect(self, poll_interval: float = 0.05, **kw: Any) -> Snapshot:
        return collect(self.options(**kw), progress=Progress(enabled=False), policy=FAST_RETRIES,
                       poll_interval=poll_interval)


@contextmanager
def scenario(snapshot_dir: Path, workdir: Path, behaviour: dict[str, str] | None = None,
             job_seconds: float = 0.0, emulator: ClusterEmulator | None = None) -> Iterator[Scenario]:
    workdir.mkdir(parents=True, exist_ok=True)
    em = emulator if emulator is not None else ClusterEmulator()
    seed(em, snapshot_dir)
    hosts = {d.name: build_host_tree(d) for d in sorted((snapshot_dir / "nodes").iterdir()) if d.is_dir()} \
        if (snapshot_dir / "nodes").exists() else {}
    kubelet = FakeKubelet(em, hosts, workdir, behaviour or {}, job_seconds)
    harness = EmulatorHarness(em, workdir / "kubeconfig")
    harness.background.append(kubelet.run)
    try:
        with harness:
            yield Scenario(harness, kubelet, hosts)
    finally:
        for host in hosts.values():
            host.close()
            shutil.rmtree(host.root.parent, ignore_errors=True)
