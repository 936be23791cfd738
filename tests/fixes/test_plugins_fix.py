"""install-cni-plugins: the DaemonSet it applies, created and undone against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from multus_check.cli import main
from multus_check.domain import k8s
from multus_check.fixes.journal import Journal
from multus_check.fixes.plan import Plan, PlanContext
from multus_check.fixes.plugins import config_map, dhcp_daemonsets, manifest_yaml
from multus_check.fixes.registry import plan_all
from multus_check.fixes.undo import undo
from multus_check.model import Status
from multus_check.pipeline.fix_run import execute, static_findings, statuses
from multus_check.snapshot import DirEntry, Snapshot, load_snapshot
from tests.api.scenario import FIXTURES
from tests.conftest import ROOT, fixture_snapshot
from tests.fixes.world import comparable_plans, variant, world

DS = ("apps/v1/daemonsets", "kube-system", "multus-check-cni-plugins")
#: the shape of the upstream reference DHCP DaemonSet (reference/upstream/reference-dhcp-daemonset.yml):
#: the daemon is the image's entrypoint, no `dhcp daemon` in command or args
REFERENCE_DHCP_DS = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-dhcp-ds-amd64, namespace: kube-system, labels: {app: dhcp}}
spec:
  selector: {matchLabels: {app: dhcp}}
  template:
    metadata: {labels: {app: dhcp}}
    spec:
      hostNetwork: true
      initContainers:
      - {name: clean-up, image: busybox, command: ["/bin/sh"], args: ["-c", "rm -f /host/run/cni/dhcp.sock"],
         volumeMounts: [{name: socketpath, mountPath: /host/run/cni}]}
      containers:
      - name: kube-dhcp
        image: quay.io/aneeshkp/cni-dhcp-daemon:latest
        volumeMounts: [{name: socketpath, mountPath: /host/run/cni}, {name: netnspath, mountPath: /host/var/run/netns}]
      volumes:
      - {name: socketpath, hostPath: {path: /run/cni}}
      - {name: netnspath, hostPath: {path: /run/netns}}
"""


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


def _plan(snap: Snapshot) -> Plan:
    (plan,) = [p for p in plan_all(snap, static_findings(snap), PlanContext()) if p.fix_id == "install-cni-plugins"]
    return plan


def _sockets(snap: Snapshot, live: bool | None) -> None:
    for facts in snap.nodes.values():
        facts.dirs["/run/cni"] = [DirEntry("dhcp.sock", "socket", live=live)]


def test_missing_plugins_beside_a_running_dhcp_daemonset_install_plugins_only() -> None:
    plan = _plan(fixture_snapshot("plugins-missing"))
    (ds,) = [c.after for c in plan.changes if c.kind == "DaemonSet"]
    (container,) = ds["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "idle" and "dhcp" not in " ".join(container["command"])
    assert {v["name"] for v in ds["spec"]["template"]["spec"]["volumes"]} == {"cni-bin"}
    assert plan.repairs == frozenset({"plugins.present"}) and "run the DHCP daemon" not in plan.summary
    assert plan.notes == ("The CNI DHCP daemon already runs in DaemonSet kube-system/cni-dhcp-daemon: no second daemon is added.",)


def test_a_warning_about_an_unprobed_socket_is_not_a_missing_daemon() -> None:
    snap = fixture_snapshot("plugins-missing")
    snap.objects = [o for o in snap.objects if o["metadata"]["name"] != "cni-dhcp-daemon"]
    _sockets(snap, live=None)
    snap.invalidate()
    assert statuses(static_findings(snap))["dhcp.daemon"] is Status.WARN
    (ds,) = [c.after for c in _plan(snap).changes if c.kind == "DaemonSet"]
    assert [c["name"] for c in ds["spec"]["template"]["spec"]["containers"]] == ["idle"]
    healthy_plugins = fixture_snapshot("healthy-k3s")
    healthy_plugins.objects = [o for o in healthy_plugins.objects if o["metadata"]["name"] != "cni-dhcp-daemon"]
    _sockets(healthy_plugins, live=None)
    healthy_plugins.invalidate()
    assert [p.fix_id for p in plan_all(healthy_plugins, static_findings(healthy_plugins), PlanContext())] == []


def test_a_dead_socket_beside_a_dhcp_daemonset_is_refused_naming_that_daemonset() -> None:
    snap = fixture_snapshot("healthy-k3s")
    snap.nodes["k3s-agent-2"].dirs["/run/cni"] = []
    snap.invalidate()
    plan = _plan(snap)
    assert not plan.changes and plan.refused is not None
    assert "DaemonSet kube-system/cni-dhcp-daemon already runs the CNI DHCP daemon" in plan.refused


def test_a_missing_daemon_with_no_dhcp_daemonset_gets_the_daemon() -> None:
    plan = _plan(fixture_snapshot("dhcp-daemon-broken"))
    (ds,) = [c.after for c in plan.changes if c.kind == "DaemonSet"]
    assert ds["spec"]["template"]["spec"]["containers"][0]["command"][2].startswith("rm -f /run/cni/dhcp.sock; exec")
    assert plan.repairs == frozenset({"plugins.present", "dhcp.daemon"})


def test_the_reference_dhcp_daemonset_counts_as_a_running_daemon() -> None:
    snap = fixture_snapshot("healthy-k3s")
    ref = yaml.safe_load(REFERENCE_DHCP_DS)
    snap.objects = [o for o in snap.objects if o["metadata"]["name"] != "cni-dhcp-daemon"] + [ref]
    snap.invalidate()
    assert [k8s.ref(ds) for ds in dhcp_daemonsets(snap)] == [k8s.ref(ref)]


def _plugins_missing_dhcp_absent_cm_present(tmp: Path) -> Path:
    """Plugins missing on one node, no DHCP daemon anywhere, and a `cni-plugins` ConfigMap left in kube-system."""
    def edit(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
        items[:] = [o for o in items if o["metadata"]["name"] != "cni-dhcp-daemon"]
        items.append({**config_map("v1.5.1"), "metadata": {**config_map()["metadata"], "resourceVersion": "1500"}})

    target = variant("plugins-missing", tmp, edit)
    for node in (target / "nodes").iterdir():
        dirs = json.loads((node / "dirs.json").read_text())
        dirs["/run/cni"] = []
        (node / "dirs.json").write_text(json.dumps(dirs))
    return target


def test_live_and_offline_plans_agree_and_an_existing_cni_plugins_configmap_is_left_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap_dir = _plugins_missing_dhcp_absent_cm_present(tmp_path)
    with world(snap_dir, tmp_path / "w") as w:
        live = w.collect()
        assert comparable_plans(live) == comparable_plans(load_snapshot(snap_dir))
        cm = w.stored("v1/configmaps", "kube-system", "cni-plugins")

        code = main(["--no-e2e", "--kubeconfig", str(w.sc.harness.kubeconfig), "--report-dir", str(tmp_path / "r"),
                     "--format", "json", "--output", str(tmp_path / "r.json"), "--fix", "--yes"])

        out = capsys.readouterr().out
        assert code == 0, out
        assert "applied: DaemonSet kube-system/multus-check-cni-plugins" in out
        assert w.stored("v1/configmaps", "kube-system", "cni-plugins") == cm
        assert [m for m, p, _ in w.fix_writes() if "configmaps" in p] == []
