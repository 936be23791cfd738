"""Issue 10 §2-5, §11, §12: hostile or broken snapshot directories, each with its one clear outcome.

A bomb is refused in bounded time and memory, odd shapes never reach a check, a document that is not
an object list or a directory where nothing could be read is unusable input (exit 2), advice matches
the cause, and no symlink is followed, directories included.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import time
import tracemalloc
from pathlib import Path

import pytest

from multus_check import cli
from multus_check.checks.engine import run_checks
from multus_check.errors import SnapshotError
from multus_check.model import Status
from multus_check.snapshot import SectionState, load_snapshot
from tests.conftest import SNAPSHOTS
from tests.unprivileged import as_unprivileged, shared_dir

LAUGHS_ANCHORS = "laughs:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  {c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def copy_fixture(where: Path, name: str = "healthy-k3s") -> Path:
    target = where / name
    shutil.copytree(SNAPSHOTS / name, target)
    return target


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


# --- §2 alias bombs ----------------------------------------------------------------------------


def test_a_billion_laughs_event_message_is_refused_fast_in_bounded_memory_as_a_failed_section(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    bomb = ("apiVersion: v1\nkind: List\n" + LAUGHS_ANCHORS + "items:\n"
            "- {apiVersion: v1, kind: Event, type: Warning, reason: FailedCreatePodSandBox,\n"
            "   metadata: {name: e1, namespace: default, annotations: {note: *i}}, message: *i}\n")
    (root / "cluster.yaml").write_text(bomb)
    assert len(bomb) < 3000
    tracemalloc.start()
    started = time.monotonic()
    try:
        snap = load_snapshot(root)
        findings = run_checks(snap)
        seconds, peak = time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 2 and peak < 20 << 20, (seconds, peak)
    section = snap.section("cluster/events")
    assert section.state is SectionState.FAILED
    assert "cluster.yaml was refused: its aliases expand to" in section.detail and "billion laughs" in section.detail
    events = [f for f in findings if f.check == "events.known-failures"]
    assert [f.status for f in events] == [Status.ERROR] and "aliases expand" in events[0].message
    assert "Fix or re-collect cluster.yaml" in events[0].remediation and "rbac" not in events[0].remediation


def test_a_recursive_alias_is_refused_and_modest_anchors_still_load(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    (root / "cluster.yaml").write_text("kind: List\nitems: &loop\n- kind: Node\n  metadata: {name: n1, labels: {x: *loop}}\n")
    assert "recursive document" in load_snapshot(root).section("cluster/nodes").detail
    (root / "cluster.yaml").write_text(
        "kind: List\nitems:\n- kind: Node\n  metadata: {name: n1, labels: &l {a: b}}\n- kind: Node\n  metadata: {name: n2, labels: *l}\n")
    snap = load_snapshot(root)
    assert snap.section("cluster/nodes").state is SectionState.OK
    assert [o["metadata"]["labels"] for o in snap.kind("Node")] == [{"a": "b"}, {"a": "b"}]


# --- §3 odd shapes -----------------------------------------------------------------------------


@pytest.mark.parametrize("document, detail", [
    ("kind: List\nitems: 5\n", "the items of the List are a number, not a list"),
    ("kind: List\nitems:\n- 5\n", "item 1 is a number, not an object"),
    ("kind: List\nitems:\n- metadata: {name: x}\n", "item 1 has no kind"),
])
def test_a_list_whose_items_are_odd_fails_every_cluster_section_and_no_check_crashes(
        tmp_path: Path, document: str, detail: str) -> None:
    root = copy_fixture(tmp_path)
    (root / "cluster.yaml").write_text(document)
    snap = load_snapshot(root)
    for resource in ("nodes", "pods", "events", "network-attachment-definitions"):
        assert snap.section(f"cluster/{resource}").state is SectionState.FAILED
        assert detail in snap.section(f"cluster/{resource}").detail
    findings = run_checks(snap)
    assert not any("crashed" in f.message for f in findings)
    assert {f.status for f in findings if f.check in ("nad.crd", "flannel.installed", "events.known-failures")} == {Status.ERROR}


def test_an_object_with_an_odd_field_fails_only_its_section_and_never_reaches_a_check(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    doc = json.loads(json.dumps(__import__("yaml").safe_load((root / "cluster.yaml").read_text())))
    nad = next(o for o in doc["items"] if o["kind"] == "NetworkAttachmentDefinition")
    nad["spec"]["config"] = {"type": "macvlan"}  # a mapping where Kubernetes keeps a JSON string
    (root / "cluster.yaml").write_text(json.dumps(doc))
    snap = load_snapshot(root)
    section = snap.section("cluster/network-attachment-definitions")
    assert section.state is SectionState.FAILED
    assert section.detail == (f"cluster.yaml: NetworkAttachmentDefinition {nad['metadata']['namespace']}/"
                              f"{nad['metadata']['name']} spec.config is a mapping; expected a string")
    assert snap.kind("NetworkAttachmentDefinition") == []
    assert snap.section("cluster/nodes").state is SectionState.OK
    findings = {f.check: f for f in run_checks(snap, include=["nad.config-valid", "flannel.installed"])}
    assert findings["nad.config-valid"].status is Status.ERROR and "spec.config is a mapping" in findings["nad.config-valid"].message
    assert findings["flannel.installed"].status is Status.PASS


# --- §4 not an object list -----------------------------------------------------------------------


@pytest.mark.parametrize("text, says", [
    ("42\n", "holds a number, not a Kubernetes object list"),
    ("just some words\n", "holds a string, not a Kubernetes object list"),
    ("- a\n- b\n", "holds a list, not a Kubernetes object list"),
    ("replicas: 3\nimage: nginx\n", "holds a mapping without kind or items (keys: image, replicas)"),
    ("apiVersion: v1\nkind: List\n", "holds a List without items"),
    ("", "is empty"),
    ("kind: Node\nmetadata: {name: a}\n---\n7\n", "holds a number (document 2)"),
])
def test_a_cluster_yaml_that_is_not_an_object_list_is_unusable_input(tmp_path: Path, text: str, says: str) -> None:
    root = copy_fixture(tmp_path)
    (root / "cluster.yaml").write_text(text)
    code, out, err = run_cli(["--snapshot", str(root), "--report-dir", str(tmp_path / "r")])
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert f"{root.resolve()}/cluster.yaml {says}" in err and "expected `kind: List` with `items`" in err


# --- §5 nothing could be read ------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["cluster.yaml", "nodes/n1/files/etc/cni/net.d/00-multus.conf"])
def test_a_snapshot_of_which_nothing_could_be_read_is_unusable_input_not_sixteen_errors(tmp_path: Path, layout: str) -> None:
    root = tmp_path / "s"
    (root / layout).parent.mkdir(parents=True)
    (root / layout).write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR garbage")
    code, out, err = run_cli(["--snapshot", str(root), "--report-dir", str(tmp_path / "r")])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"nothing in {root.resolve()} could be read: " in err and "is binary data, not text" in err
    assert "rbac" not in err.lower()


# --- §11 advice matches the cause ----------------------------------------------------------------


def test_a_parse_failure_advises_fixing_the_file_and_forbidden_advises_rbac(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    (root / "cluster.yaml").write_text("items: [\n")
    nad = {f.check: f for f in run_checks(load_snapshot(root))}["nad.crd"]
    assert nad.status is Status.ERROR and "not valid YAML" in nad.message
    assert nad.remediation.startswith("Fix or re-collect cluster.yaml") and "rbac" not in nad.remediation
    root = copy_fixture(tmp_path / "b")
    meta = json.loads((root / "snapshot.json").read_text())
    meta["sections"]["cluster/events"] = {"state": "forbidden", "detail": "events is forbidden"}
    (root / "snapshot.json").write_text(json.dumps(meta))
    events = {f.check: f for f in run_checks(load_snapshot(root))}["events.known-failures"]
    assert events.remediation.startswith("Grant the missing permission (see fixtures/rbac/)")


def test_files_this_user_may_not_read_say_permission_denied_and_how_to_fix_it() -> None:
    with shared_dir() as d:
        roots = [copy_fixture(d / "a"), copy_fixture(d / "b")]
        for p in [d, *d.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(roots[0] / "cluster.yaml", 0)
        os.chmod(roots[1] / "nodes" / "k3s-agent-1" / "dirs.json", 0)

        def judge(root: Path) -> dict[tuple[str, str], tuple[str, str, str]]:
            snap = load_snapshot(root)
            return {(f.check, f.subject): (f.status.value, f.message, f.remediation) for f in run_checks(snap)}

        cluster, node = as_unprivileged(judge, roots[0]), as_unprivileged(judge, roots[1])
    status, message, advice = cluster[("nad.crd", "cluster")]
    where = roots[0].resolve() / "cluster.yaml"
    assert status == "error" and f"permission denied reading {where}" in message
    assert advice.startswith(f"Make {where} readable by this user") and "rbac" not in advice
    status, message, advice = node[("dhcp.daemon", "node/k3s-agent-1")]
    assert status == "error" and f"permission denied reading {roots[1].resolve()}/nodes/k3s-agent-1/dirs.json" in message
    assert advice.startswith("Make the snapshot file it names readable") and "rbac" not in advice


def test_an_unreadable_snapshot_directory_says_so_not_that_it_holds_no_snapshot() -> None:
    with shared_dir() as d:
        root = copy_fixture(d)
        os.chmod(root, 0o311)  # enterable, not listable

        def attempt() -> str:
            with pytest.raises(SnapshotError) as exc:
                load_snapshot(root)
            return str(exc.value)

        message = as_unprivileged(attempt)
    assert message == (f"snapshot directory {root} cannot be listed: permission denied reading {root}; "
                       "make it readable (chmod a+rx) or run as its owner")


# --- §12 symlinks are never followed, directories included ---------------------------------------


def _elsewhere(tmp_path: Path) -> Path:
    """A node directory outside the snapshot whose files would change the verdicts if followed."""
    other = tmp_path / "elsewhere"
    shutil.copytree(SNAPSHOTS / "healthy-k3s" / "nodes", other)
    for node in other.iterdir():
        (node / "files" / "etc" / "secret.txt").write_text("TOKEN=hunter2")
    return other


@pytest.mark.parametrize("link", ["nodes", "nodes/k3s-agent-1", "nodes/k3s-agent-1/files", "nodes/k3s-agent-1/files/etc"])
def test_a_symlinked_directory_is_not_followed_and_its_node_cannot_pass(tmp_path: Path, link: str) -> None:
    root = copy_fixture(tmp_path)
    other = _elsewhere(tmp_path)
    target = other / Path(link).relative_to("nodes") if link != "nodes" else other
    shutil.rmtree(root / link)
    (root / link).symlink_to(target, target_is_directory=True)
    snap = load_snapshot(root)
    texts = [t for facts in snap.nodes.values() for t in facts.files.values()]
    assert not any("hunter2" in t for t in texts)
    findings = [f for f in run_checks(snap) if f.subject == "node/k3s-agent-1" and f.check == "multus.nested-delegates"]
    assert [f.status for f in findings] == [Status.ERROR]
    assert "symlink" in findings[0].message and "not followed" in findings[0].message


def test_the_snapshot_directory_itself_may_be_a_symlink_named_on_the_command_line(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    (tmp_path / "latest").symlink_to(root, target_is_directory=True)
    assert sorted(load_snapshot(tmp_path / "latest").nodes) == ["k3s-agent-1", "k3s-agent-2", "k3s-server"]
