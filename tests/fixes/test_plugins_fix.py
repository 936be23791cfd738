"""install-cni-plugins: the DaemonSet it applies, created and undone against the emulator."""

from __future__ import annotations

from pathlib import Path

import yaml

from multus_check.fixes.journal import Journal
from multus_check.fixes.plugins import manifest_yaml
from multus_check.fixes.undo import undo
from multus_check.fixes.verify import execute, statuses
from multus_check.model import Status
from tests.api.scenario import FIXTURES
from tests.conftest import ROOT
from tests.fixes.world import world

DS = ("apps/v1/daemonsets", "kube-system", "multus-check-cni-plugins")


def test_the_fixture_manifest_is_what_the_fix_applies() -> None:
    path = ROOT / "fixtures" / "manifests" / "cni-plugins-daemonset.yaml"
    assert path.read_text() == manifest_yaml(), "regenerate: python -m multus_check.fixes.plugins > " + str(path)


def test_the_daemonset_runs_on_every_arch_with_the_daemon_mounts_the_dhcp_plugin_needs() -> None:
    cm, ds = yaml.safe_load_all(manifest_yaml("/var/lib/rancher/k3s/data/cni"))
    pod = ds["spec"]["template"]["spec"]
    assert "nodeSelector" not in pod and pod["tolerations"] == [{"operator": "Exists"}]
    init, = pod["initContainers"]
    assert "aarch64|arm64) arch=arm64" in init["command"][2] and "${CNI_PLUGINS_VERSION}" in init["command"][2]
    assert init["env"][0]["valueFrom"]["configMapKeyRef"] == {"name": "cni-plugins", "key": "version"}
    daemon, = pod["containers"]
    assert daemon["command"][2].startswith("rm -f /run/cni/dhcp.sock; exec /host-bin/dhcp daemon")
    mounts = {m["mountPath"]: m for m in daemon["volumeMounts"]}
    assert mounts["/run/netns"]["mountPropagation"] == "HostToContainer"
    assert {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}["cni-bin"] == "/var/lib/rancher/k3s/data/cni"
    assert cm["data"]["version"].startswith("v1.")


def test_missing_plugins_get_the_daemonset_verification_waits_for_the_rollout_and_undo_deletes_it(tmp_path: Path) -> None:
    with world(FIXTURES / "plugins-missing", tmp_path) as w:
        snap, findings = w.diagnose()
        assert statuses(findings)["plugins.present"] is Status.FAIL
        (plan,) = w.plans(snap, findings)
        assert plan.fix_id == "install-cni-plugins"

        run = execute([plan], w.writer, snap, tmp_path / "report", "run-p1", w.collect)

        assert run.outcome.ok and run.repaired["plugins.present"] == "pending"  # no kubelet runs it here
        assert "rollout status ds/multus-check-cni-plugins" in run.pending["plugins.present"]
        assert [m for m, _, _ in w.fix_writes(dry_run=True)] == ["POST", "POST"]
        assert [m for m, _, _ in w.fix_writes(dry_run=False)] == ["POST", "POST"]
        assert w.stored(*DS)["spec"]["template"]["spec"]["volumes"][0]["hostPath"]["path"] == "/opt/cni/bin"
        snap2, findings2 = w.diagnose()
        (again,) = w.plans(snap2, findings2)
        assert again.refused is not None and "exists but the checks still fail" in again.refused

        outcome = undo(Journal.load(run.journal.path), w.writer)
        assert outcome.ok and sorted(outcome.deleted) == ["ConfigMap kube-system/cni-plugins",
                                                          "DaemonSet kube-system/multus-check-cni-plugins"]
        assert w.sc.harness.sync(lambda: w.emulator.live(DS[0], "kube-system")) != []  # other DaemonSets stay
        assert all(d["metadata"]["name"] != DS[2] for d in w.sc.harness.sync(lambda: w.emulator.live(DS[0], "kube-system")))
