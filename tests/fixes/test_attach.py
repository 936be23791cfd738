"""`multus-check attach`: move a workload off hostNetwork onto the NAD, and undo it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from multus_check.cli import main
from multus_check.errors import UsageError
from multus_check.fixes.attach import _networks, attach_plan, check_mac, parse_target
from multus_check.fixes.fields import comparable
from tests.api.scenario import FIXTURES
from tests.fixes.world import world

DEPLOY = ("apps/v1/deployments", "default", "home-assistant")


def _deployment() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "home-assistant", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "ha"}}, "template": {
                "metadata": {"labels": {"app": "ha"}},
                "spec": {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet",
                         "containers": [{"name": "ha", "image": "ghcr.io/home-assistant/home-assistant:2026.11"}]}}}}


def test_attach_moves_a_hostnetwork_deployment_onto_the_nad_with_a_mac_and_undo_restores_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with world(FIXTURES / "healthy-k3s", tmp_path) as w:
        w.writer.create(_deployment())
        original = w.stored(*DEPLOY)
        kc = str(w.sc.harness.kubeconfig)

        code = main(["attach", "deployment/home-assistant", "--mac", "02:42:C0:A8:01:50", "--yes",
                     "--report-dir", str(tmp_path / "r"), "--kubeconfig", kc])

        out = capsys.readouterr().out
        assert code == 0, out
        assert "-      hostNetwork: true" in out and "+      hostNetwork: false" in out
        template = w.stored(*DEPLOY)["spec"]["template"]
        assert json.loads(template["metadata"]["annotations"]["k8s.v1.cni.cncf.io/networks"]) == [
            {"name": "macvlan-lan", "namespace": "default", "mac": "02:42:c0:a8:01:50"}]
        assert template["spec"]["hostNetwork"] is False and template["spec"]["dnsPolicy"] == "ClusterFirst"
        assert [m for m, p, _ in w.fix_writes(dry_run=False) if "deployments" in p] == ["POST", "PUT"]

        assert main(["attach", "deployment/home-assistant", "--mac", "02:42:c0:a8:01:50", "--yes",
                     "--report-dir", str(tmp_path / "r2"), "--kubeconfig", kc]) == 0
        assert "already uses default/macvlan-lan" in capsys.readouterr().out
        # the emulator plays the Deployment controller: each template change (the undo's too) is a new revision
        assert main(["undo", str(tmp_path / "r"), "--kubeconfig", kc]) == 0
        restored = w.stored(*DEPLOY)
        assert comparable(restored) == comparable(original) and restored["spec"] == original["spec"]
        assert restored["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "2"}


def test_attach_to_a_missing_nad_refuses_without_writing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with world(FIXTURES / "healthy-k3s", tmp_path) as w:
        w.writer.create(_deployment())
        writes = len(w.fix_writes())
        code = main(["attach", "deployment/home-assistant", "--network", "nope", "--yes", "--kubeconfig",
                     str(w.sc.harness.kubeconfig), "--report-dir", str(tmp_path / "r")])
        assert code == 2 and "NAD default/nope does not exist" in capsys.readouterr().err
        assert len(w.fix_writes()) == writes


def test_attach_input_is_validated() -> None:
    assert parse_target("deployments/ha") == ("Deployment", "ha")
    with pytest.raises(UsageError):
        parse_target("pod/ha")
    with pytest.raises(UsageError, match="multicast"):
        check_mac("01:00:5e:00:00:fb")
    with pytest.raises(UsageError, match="not a MAC"):
        check_mac("02:42:c0")


def test_existing_networks_in_the_annotation_are_kept() -> None:
    entry = {"name": "lan", "namespace": "default"}
    assert _networks("iot/vlan20@net2", entry) == [{"name": "vlan20", "namespace": "iot", "interface": "net2"}, entry]
    assert _networks(json.dumps([{"name": "lan", "namespace": "default", "mac": "02:00:00:00:00:01"}]), entry) == [entry]
    plan = attach_plan(_deployment(), "lan", "default", None)
    assert plan.changes and "hostNetwork: true -> false" in plan.changes[0].why
