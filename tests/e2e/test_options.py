"""When the e2e phase runs, and when it is skipped with the reason (no cluster is touched here)."""

from __future__ import annotations

from typing import Any

import pytest

from multus_check.e2e.options import DEFAULT_PROBE_IMAGE
from multus_check.e2e.phase import run_e2e
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot import Snapshot
from tests.conftest import fixture_snapshot
from tests.e2e.world import e2e_args


class NoCluster:
    """A gateway stand-in that fails the test if the e2e phase tries to reach a cluster."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the e2e phase touched the cluster ({name}) although it should have been skipped")


def live(snap: Snapshot) -> Snapshot:
    snap.source = {"kind": "live"}
    return snap


def test_no_e2e_opts_out_entirely(healthy: Snapshot) -> None:
    assert run_e2e(e2e_args("--no-e2e"), live(healthy), [], gateway=NoCluster()) == []


def test_check_and_skip_select_e2e_ids() -> None:
    snap = live(fixture_snapshot("healthy-k3s"))
    assert run_e2e(e2e_args("--skip", "e2e.*"), snap, [], gateway=NoCluster()) == []
    assert run_e2e(e2e_args("--check", "cidr.*"), snap, [], gateway=NoCluster()) == []


def test_a_snapshot_directory_runs_no_e2e_and_touches_no_cluster(healthy: Snapshot) -> None:
    assert healthy.source.get("kind") != "live"
    assert run_e2e(e2e_args(), healthy, [], gateway=NoCluster()) == []


@pytest.mark.parametrize("gate", ["nad.crd", "multus.installed"])
def test_a_failed_prerequisite_skips_the_e2e_naming_it(healthy: Snapshot, gate: str) -> None:
    failed = Finding(gate, Status.FAIL, Severity.CRITICAL, "cluster", "broken")
    got = run_e2e(e2e_args(), live(healthy), [failed], gateway=NoCluster())
    assert {f.status for f in got} == {Status.SKIP} and all(gate in f.message for f in got)


def test_an_unknown_nad_is_skipped_by_name(healthy: Snapshot) -> None:
    got = run_e2e(e2e_args("--nad", "nowhere/nothing"), live(healthy), [], gateway=NoCluster())
    assert got and all(f.status is Status.SKIP for f in got)
    assert any("nowhere/nothing does not exist" in f.message for f in got)


def test_probe_image_default_is_pinned_and_node_options_exclude_each_other() -> None:
    assert e2e_args().probe_image == DEFAULT_PROBE_IMAGE and ":" in DEFAULT_PROBE_IMAGE.rsplit("/", 1)[1]
    with pytest.raises(SystemExit):
        e2e_args("--node", "a", "--all-nodes")


def test_e2e_options_fit_the_main_parser_without_clashes() -> None:
    from multus_check.commands.diagnose import build_parser

    parser = build_parser()  # every group of the main command: analysis, fix, live cluster, sample pods
    args = parser.parse_args(["--nad", "lan/macvlan-lan", "--all-nodes", "--keep", "--no-e2e"])
    assert args.nad == ["lan/macvlan-lan"] and args.all_nodes and args.keep and args.no_e2e
