"""Loading and writing snapshot directories, including garbage and hostile input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from multus_check.checks.engine import run_checks
from multus_check.errors import SnapshotError
from multus_check.model import Status
from multus_check.snapshot import SectionState, load_snapshot, write_snapshot
from tests.conftest import SNAPSHOTS, fixture_snapshot


def copy_fixture(tmp_path: Path, name: str = "healthy-k3s") -> Path:
    target = tmp_path / name
    shutil.copytree(SNAPSHOTS / name, target)
    return target


def test_write_then_load_round_trips_every_part(tmp_path: Path) -> None:
    snap = fixture_snapshot("healthy-k3s")
    write_snapshot(snap, tmp_path / "out")
    again = load_snapshot(tmp_path / "out")
    assert again.objects == snap.objects
    assert again.sections == snap.sections
    assert again.facts == snap.facts
    assert again.nodes.keys() == snap.nodes.keys()
    for name, facts in snap.nodes.items():
        assert again.nodes[name].files == facts.files
        assert again.nodes[name].dirs == facts.dirs
        assert again.nodes[name].ip_addr == facts.ip_addr


def test_writer_refuses_a_non_empty_directory_and_escaping_paths(tmp_path: Path) -> None:
    from multus_check.errors import UsageError

    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        write_snapshot(fixture_snapshot("healthy-k3s"), tmp_path / "x")
    snap = fixture_snapshot("healthy-k3s")
    snap.nodes["k3s-server"].files["/etc/../../../evil"] = "x"
    with pytest.raises(UsageError, match="cannot be stored"):
        write_snapshot(snap, tmp_path / "y")


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "does not exist"),
    (lambda p: p.write_text("x"), "is not a directory"),
    (lambda p: p.mkdir(), "holds no snapshot"),
])
def test_unusable_directories_raise_one_clear_error(tmp_path: Path, setup: object, message: str) -> None:
    target = tmp_path / "snap"
    assert callable(setup)
    setup(target)
    with pytest.raises(SnapshotError, match=message):
        load_snapshot(target)


def test_malformed_snapshot_json_is_an_unusable_snapshot(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    (root / "snapshot.json").write_text("{not json")
    with pytest.raises(SnapshotError, match=r"snapshot\.json is not valid JSON"):
        load_snapshot(root)
    (root / "snapshot.json").write_text(json.dumps({"format": "multus-check/snapshot/v9"}))
    with pytest.raises(SnapshotError, match="this multus-check reads"):
        load_snapshot(root)


def test_malformed_cluster_yaml_marks_every_cluster_section_failed(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    (root / "cluster.yaml").write_text("items: [\n  - {kind: Node, metadata: {name: a}\n")
    snap = load_snapshot(root)
    assert snap.section("cluster/nodes").state is SectionState.FAILED
    assert "not valid YAML" in snap.section("cluster/nodes").detail
    findings = run_checks(snap, include=["flannel.installed", "nad.crd", "events.*"])
    assert {f.status for f in findings} == {Status.ERROR}
    assert "cluster.yaml is not valid YAML" in findings[0].message


def test_unknown_kinds_are_ignored_and_noted_and_a_non_object_item_fails_the_cluster_sections(tmp_path: Path) -> None:
    root = tmp_path / "s"
    root.mkdir()
    (root / "cluster.yaml").write_text("kind: List\nitems:\n- kind: Widget\n  metadata: {name: w}\n- kind: Node\n  metadata: {name: n1}\n")
    snap = load_snapshot(root)
    assert [o["kind"] for o in snap.objects] == ["Node"]
    assert any("Widget" in p for p in snap.problems)
    assert snap.section("cluster/events").state is SectionState.OK
    (root / "cluster.yaml").write_text("kind: List\nitems:\n- 42\n- kind: Node\n  metadata: {name: n1}\n")
    snap = load_snapshot(root)
    for resource in ("nodes", "events", "pods"):
        section = snap.section(f"cluster/{resource}")
        assert section.state is SectionState.FAILED and "item 1 is a number, not an object" in section.detail


def test_hand_made_snapshot_without_metadata_counts_present_as_read_and_absent_as_not_collected(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    (root / "snapshot.json").unlink()
    shutil.rmtree(root / "nodes" / "k3s-agent-2")
    snap = load_snapshot(root)
    assert snap.section("cluster/nodes").state is SectionState.OK
    assert snap.section("node/k3s-server").state is SectionState.OK
    assert snap.section("node/k3s-agent-2").state is SectionState.NOT_COLLECTED
    findings = {f.subject: f for f in run_checks(snap, include=["multus.conf-first"])}
    assert findings["node/k3s-agent-2"].status is Status.ERROR
    assert findings["node/k3s-server"].status is Status.PASS


def test_symlinks_are_never_followed_out_of_the_snapshot(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN=hunter2")
    conf = root / "nodes" / "k3s-server" / "files" / "etc" / "cni" / "net.d" / "00-multus.conf"
    conf.unlink()
    conf.symlink_to(secret)
    os.symlink(tmp_path, root / "nodes" / "k3s-server" / "files" / "escape")
    snap = load_snapshot(root)
    facts = snap.nodes["k3s-server"]
    assert all("hunter2" not in text for text in facts.files.values())
    assert "symlink" in facts.unreadable["/etc/cni/net.d/00-multus.conf"]
    assert "symlink" in facts.unreadable["/escape"]
    f = {x.subject: x for x in run_checks(snap, include=["multus.nested-delegates"])}["node/k3s-server"]
    assert f.status is Status.ERROR and "symlink" in f.message
    (root / "cluster.yaml").rename(root / "real.yaml")
    (root / "cluster.yaml").symlink_to(root / "real.yaml")
    assert load_snapshot(root).section("cluster/nodes").state is SectionState.FAILED


def test_binary_garbage_files_are_unreadable_not_fatal(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    node = root / "nodes" / "k3s-agent-1"
    (node / "files" / "etc" / "cni" / "net.d" / "00-multus.conf").write_bytes(b"\x00\xff\xfe garbage")
    (node / "dirs.json").write_bytes(b"\x89PNG\r\n")
    (node / "ip-addr.json").write_text('{"not": "a list"}')
    snap = load_snapshot(root)
    facts = snap.nodes["k3s-agent-1"]
    assert "binary" in facts.unreadable["/etc/cni/net.d/00-multus.conf"]
    assert "dirs.json" in facts.unreadable and "ip-addr.json" in facts.unreadable
    findings = [f for f in run_checks(snap) if f.subject.startswith("node/k3s-agent-1")]
    assert findings and not any(f.status is Status.PASS for f in findings if f.check != "flannel.network-contains-pod-cidrs")
