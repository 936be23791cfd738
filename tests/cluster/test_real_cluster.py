"""The same diagnosis on a real throwaway cluster (k3d, else kind), through pytest-kubernetes.

Runs only where a Docker engine and k3d or kind exist; elsewhere every test is skipped with
the reason. It creates a cluster, collects it with node facts (real collector pods, real
image pull), checks that every section was read, that the findings equal those of the
snapshot written from it, and that the run left nothing behind.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from multus_check.checks.engine import run_checks
from multus_check.collect.live import collect
from multus_check.collect.live.options import LiveOptions
from multus_check.kube.connect import ClusterTarget
from multus_check.snapshot import SectionState, load_snapshot, write_snapshot
from tests.realcluster import needs_real_cluster

pytestmark = needs_real_cluster


def test_live_diagnosis_of_a_throwaway_cluster_reads_everything_and_leaves_nothing(real_cluster: Path, tmp_path: Path) -> None:
    snap = collect(LiveOptions(cluster=ClusterTarget(str(real_cluster)), timeout=300, progress=False))
    forbidden = {k: s for k, s in snap.sections.items() if s.state in (SectionState.FORBIDDEN, SectionState.FAILED)}
    assert forbidden == {}
    assert snap.nodes, "node facts from at least one node"
    written = load_snapshot(write_snapshot(snap, tmp_path / "snap"))
    key = lambda fs: sorted((f.check, f.status.value, f.subject) for f in fs)  # noqa: E731
    assert key(run_checks(written)) == key(run_checks(snap))
    out = subprocess.run(["kubectl", "--kubeconfig", str(real_cluster), "get", "pods,configmaps,namespaces", "-A",
                          "-l", "app.kubernetes.io/managed-by=multus-check", "-o", "name"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
