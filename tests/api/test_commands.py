"""The commands end to end: `multus-check` live vs `--snapshot`, `snapshot DIR`, progress output."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from multus_check import cli
from multus_check.collect.live.progress import Progress
from multus_check.snapshot import load_snapshot
from tests.api.scenario import FIXTURES, scenario
from tests.api.test_collect_roundtrip import managed_objects


def _findings(path: Path) -> list[tuple[Any, ...]]:
    doc = json.loads(path.read_text())
    return sorted((f["check"], f["status"], f["subject"], f["message"]) for f in doc["findings"])


@pytest.mark.parametrize("example", ["healthy-k3s", "multus-nested-delegates"])
def test_live_run_prints_the_same_report_as_the_snapshot_run(example: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with scenario(FIXTURES / example, tmp_path / "w") as sc:
        live_code = cli.main(["--no-e2e", "--kubeconfig", str(sc.harness.kubeconfig), "--format", "json",
                              "--output", str(tmp_path / "live.json"), "--report-dir", str(tmp_path / "r1")])
        assert managed_objects(sc) == []
    offline_code = cli.main(["--snapshot", str(FIXTURES / example), "--format", "json",
                             "--output", str(tmp_path / "offline.json"), "--report-dir", str(tmp_path / "r2")])
    assert live_code == offline_code
    assert _findings(tmp_path / "live.json") == _findings(tmp_path / "offline.json")


def test_snapshot_command_writes_a_directory_the_offline_path_reads(tmp_path: Path) -> None:
    with scenario(FIXTURES / "plugins-missing", tmp_path / "w") as sc:
        code = cli.main(["snapshot", str(tmp_path / "snap"), "--kubeconfig", str(sc.harness.kubeconfig), "--timeout", "20"])
    assert code == 0
    snap = load_snapshot(tmp_path / "snap")
    assert sorted(snap.nodes) == ["k3s-agent-1", "k3s-agent-2", "k3s-server"]
    assert snap.source["kind"] == "live" and snap.facts["serviceCIDR"]["cidrs"] == ["10.43.0.0/16"]


def test_snapshot_command_exits_3_and_names_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with scenario(FIXTURES / "healthy-k3s", tmp_path / "w", behaviour={"k3s-agent-1": "image-pull"}) as sc:
        code = cli.main(["snapshot", str(tmp_path / "snap"), "--kubeconfig", str(sc.harness.kubeconfig), "--timeout", "20"])
    assert code == 3
    assert "node/k3s-agent-1: failed: image pull failed: ImagePullBackOff" in capsys.readouterr().err


def test_progress_in_ci_prints_milestone_lines_only() -> None:
    out = io.StringIO()
    p = Progress(out, interactive=False)
    p.step("reading API objects")
    for done in range(101):
        p.nodes(done, 100, 0)
    lines = out.getvalue().splitlines()
    assert lines[0] == "multus-check: reading API objects"
    assert len(lines) <= 12 and lines[-1] == "multus-check: node facts: 100/100 nodes done"
    assert "\r" not in out.getvalue()

