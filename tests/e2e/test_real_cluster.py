"""The e2e phase on a real throwaway cluster (k3d, else kind) through pytest-kubernetes.

Needs Docker, k3d or kind, and a cluster with Multus and a macvlan NAD; a stock k3d/kind
cluster has no Multus, so the test installs nothing and only checks that the phase runs,
cleans up, and skips with the reason (multus.installed failed). Skipped with the reason here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from multus_check.checks.engine import run_checks
from multus_check.collect.live import collect
from multus_check.collect.live.options import LiveOptions
from multus_check.kube.connect import ClusterTarget
from multus_check.model import Status
from tests.e2e.world import e2e_args
from tests.realcluster import needs_real_cluster

pytestmark = needs_real_cluster


def test_e2e_on_a_stock_cluster_skips_naming_the_missing_prerequisite_and_leaves_nothing(real_cluster: Path) -> None:
    from multus_check.e2e.phase import run_e2e

    snap = collect(LiveOptions(cluster=ClusterTarget(str(real_cluster)), timeout=300, progress=False))
    static = run_checks(snap)
    got = run_e2e(e2e_args("--kubeconfig", str(real_cluster)), snap, static)
    assert got and all(f.status is Status.SKIP for f in got)
    out = subprocess.run(["kubectl", "--kubeconfig", str(real_cluster), "get", "pods,configmaps", "-A", "-l",
                          "app.kubernetes.io/managed-by=multus-check", "-o", "name"], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
