"""Snapshot directories with gaps and oddities the audit of issue 10 found (items 2, 9, 10, 12-14):
a file snapshot.json calls read that is missing, characters no report can carry, a tree too deep to
walk recursively, shapes of node files and facts the checks cannot use, advice for files this user
may not read, and a directory with nothing in it. Each has one clear outcome and no check crashes."""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from multus_check.checks.engine import run_checks
from multus_check.model import Status
from multus_check.snapshot import SectionState, load_snapshot
from multus_check.snapshot.data import Section
from tests.conftest import SNAPSHOTS
from tests.test_snapshot_hostile import copy_fixture, run_cli

# --- item 2: what snapshot.json calls read must be there --------------------------------------------


def test_a_missing_cluster_yaml_fails_the_cluster_sections_instead_of_judging_an_empty_cluster(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    (root / "cluster.yaml").unlink()
    snap = load_snapshot(root)
    section = snap.section("cluster/network-attachment-definitions")
    assert section.state is SectionState.FAILED
    assert section.detail == "cluster.yaml is missing, though snapshot.json records the cluster as read"
    assert section.advice.startswith("Fix or re-collect cluster.yaml")
    statuses = {f.check: f.status for f in run_checks(snap)}
    assert statuses["nad.crd"] is Status.ERROR and statuses["multus.installed"] is Status.ERROR
    assert Status.FAIL not in statuses.values() and Status.PASS not in statuses.values()
    code, out, _ = run_cli(["--snapshot", str(root), "--report-dir", str(tmp_path / "r")])
    assert code == 3 and "cluster.yaml is missing" in out


def test_a_node_directory_snapshot_json_calls_read_but_that_is_missing_fails_that_node(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    shutil.rmtree(root / "nodes" / "k3s-agent-1")
    snap = load_snapshot(root)
    assert snap.section("node/k3s-agent-1").state is SectionState.FAILED
    assert "nodes/k3s-agent-1 is missing" in snap.section("node/k3s-agent-1").detail
    assert snap.section("node/k3s-server").state is SectionState.OK
    found = [f for f in run_checks(snap, include=["dhcp.daemon"]) if f.subject == "node/k3s-agent-1"]
    assert [f.status for f in found] == [Status.ERROR]


@pytest.mark.parametrize("extra", ["", "big cluster.yaml"])
def test_a_snapshot_json_without_the_data_it_describes_is_unusable_input(tmp_path: Path, extra: str) -> None:
    root = tmp_path / "s"
    root.mkdir()
    shutil.copy(copy_fixture(tmp_path / "f") / "snapshot.json", root)
    if extra:
        with open(root / "cluster.yaml", "wb") as fh:
            fh.truncate(600 << 20)  # sparse: over the 512 MiB limit
    code, out, err = run_cli(["--snapshot", str(root), "--report-dir", str(tmp_path / "r")])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"nothing in {root.resolve()} could be read: " in err
    assert ("over the 536870912-byte limit" if extra else "cluster.yaml is missing, though snapshot.json") in err


def test_a_snapshot_json_that_records_nothing_as_read_still_loads_and_says_why_each_check_cannot_look(
        tmp_path: Path) -> None:
    (tmp_path / "snapshot.json").write_text(json.dumps({"format": "multus-check/snapshot/v1", "sections": {
        "cluster": {"state": "forbidden", "detail": "cannot list anything"}}}))
    findings = run_checks(load_snapshot(tmp_path))
    assert {f.status for f in findings} == {Status.ERROR}
    assert any("forbidden by RBAC: cannot list anything" in f.message for f in findings)
    assert os.path.exists(tmp_path / "snapshot.json")


# --- item 6: an empty --snapshot ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_snapshot_path_is_exit_2_never_a_live_run(tmp_path: Path, value: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import multus_check.collect.live as live

    def no_live_run(*_args: object) -> None:
        raise AssertionError("an empty --snapshot started a live collection")

    monkeypatch.setattr(live, "collect", no_live_run)
    monkeypatch.chdir(copy_fixture(tmp_path))  # and never the current directory either
    code, out, err = run_cli(["--snapshot", value, "--report-dir", str(tmp_path / "r")])
    assert code == 2 and out == "" and err.splitlines() == [
        "multus-check: error: the snapshot path is empty (an unset variable?); name a snapshot directory, or leave "
        "--snapshot out to check the live cluster"]


# --- item 9: characters no encoder takes ----------------------------------------------------------------


def _with_lone_surrogates(tmp_path: Path) -> Path:
    root = copy_fixture(tmp_path)
    doc = yaml.safe_load((root / "cluster.yaml").read_text())
    for obj in doc["items"]:
        if obj["kind"] == "NetworkAttachmentDefinition":
            obj["metadata"]["name"] = "macvlan-\ud800lan"  # json writes it as the escape \ud800
    (root / "cluster.yaml").write_text(json.dumps(doc))
    odd = root / "nodes" / "k3s-server" / "files" / "etc" / "cni" / "net.d"
    (odd / os.fsdecode(b"10-\xff.conf")).write_text("{}")  # a file name that is not UTF-8
    return root


@pytest.mark.parametrize("fmt", ["table", "json", "junit", "markdown"])
def test_a_lone_surrogate_in_a_snapshot_is_shown_as_a_replacement_character_in_every_format(tmp_path: Path,
                                                                                          fmt: str) -> None:
    import xml.etree.ElementTree as ET

    root = _with_lone_surrogates(tmp_path)
    code, out, err = run_cli(["--snapshot", str(root), "--format", fmt, "-v", "--report-dir", str(tmp_path / "r")])
    assert "Traceback" not in err and "UnicodeEncodeError" not in err
    saved = json.loads((tmp_path / "r" / "results.json").read_text())
    assert code == saved["summary"]["exit_code"]
    shown = json.dumps(json.loads(out), ensure_ascii=False) if fmt == "json" else out
    assert "macvlan-\ufffdlan" in shown and "\ud800" not in shown and "\\ud800" not in out
    for xml in ((tmp_path / "r" / "junit.xml").read_text(), *([out] if fmt == "junit" else [])):
        assert "macvlan-\ufffdlan" in xml and "&#55296;" not in xml
        ET.fromstring(xml.encode())


# --- item 10: a deep tree ---------------------------------------------------------------------------------


def _remove_deep(top: Path) -> None:
    """Remove a deep chain of `d` directories bottom-up: shutil.rmtree (pytest's own cleanup of old
    temporary directories included) recurses and would overflow on it."""
    path = top
    while (path / "d").is_dir():
        path = path / "d"
    while path != top.parent:
        for entry in os.scandir(path):
            if not entry.is_dir(follow_symlinks=False):
                os.unlink(entry.path)
        os.rmdir(path)
        path = path.parent


@pytest.fixture
def deep_dirs(tmp_path: Path) -> Iterator[Path]:
    root = copy_fixture(tmp_path)
    try:
        yield root
    finally:
        if (root / "nodes" / "k3s-server" / "files" / "d").exists():
            _remove_deep(root / "nodes" / "k3s-server" / "files" / "d")


def test_a_directory_tree_a_thousand_levels_deep_is_walked_without_recursion(tmp_path: Path, deep_dirs: Path) -> None:
    root = deep_dirs
    here = os.open(root / "nodes" / "k3s-server" / "files", os.O_RDONLY)
    try:
        for _ in range(1000):  # relative to a directory descriptor: no path gets long on the way down
            os.mkdir("d", dir_fd=here)
            deeper = os.open("d", os.O_RDONLY, dir_fd=here)
            os.close(here)
            here = deeper
        with open(os.open("bottom.conf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=here), "w") as fh:
            fh.write("deep")
    finally:
        os.close(here)
    code, _, err = run_cli(["--snapshot", str(root), "--report-dir", str(tmp_path / "r")])
    assert code == 0 and "Traceback" not in err and "RecursionError" not in err
    facts = load_snapshot(root).nodes["k3s-server"]
    assert facts.files["/d" * 1000 + "/bottom.conf"] == "deep"


# --- item 12: shapes of placement, node files and facts ------------------------------------------------

ODD = [5, "x", [1], {"a": 1}, None, True, [], {}, 1.5, ["x"], [{"a": "b"}]]


def _paths(value: object, here: tuple[object, ...] = ()) -> Iterator[tuple[object, ...]]:
    yield here
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield from _paths(item, (*here, index))


def _set(obj: Any, path: tuple[object, ...], value: object) -> None:
    for step in path[:-1]:
        obj = obj[step]
    obj[path[-1]] = value


def test_no_shape_of_a_daemonsets_placement_reaches_a_check() -> None:
    from multus_check.snapshot.cluster_doc import cluster_objects

    base = load_snapshot(SNAPSHOTS / "flannel-per-arch-uncovered")
    index = next(i for i, o in enumerate(base.objects) if o["kind"] == "DaemonSet" and "amd64" in o["metadata"]["name"])
    placement = base.objects[index]["spec"]["template"]["spec"]
    tried = 0
    for path in _paths({k: placement[k] for k in ("affinity", "nodeSelector") if k in placement}):
        for value in ODD:
            objects = copy.deepcopy(base.objects)
            if path:
                _set(objects[index]["spec"]["template"]["spec"], path, copy.deepcopy(value))
            found = cluster_objects([{"kind": "List", "items": objects}])
            snap = copy.copy(base)
            snap.objects, snap.cache, snap.sections = found.objects, {}, dict(base.sections)
            snap.invalidate()
            for resource, detail in found.failed.items():
                snap.sections[f"cluster/{resource}"] = Section(SectionState.FAILED, detail)
            for f in run_checks(snap, include=["flannel.installed"]):
                assert "crashed" not in f.message, (path, value, f.message)
            tried += 1
    assert tried > 150


@pytest.mark.parametrize(("part", "field", "value", "says"), [
    ("ip-addr.json", "addr_info", 5, "entry 0: addr_info is a number; expected a list"),
    ("ip-addr.json", "flags", True, "entry 0: flags is a boolean; expected a list"),
    ("ip-addr.json", "mtu", "1500", "entry 0: mtu is a string; expected an integer"),
    ("ip-route.json", "dev", ["eth0"], "entry 0: dev is a list; expected a string"),
])
def test_a_node_file_entry_of_another_shape_than_ip_j_prints_is_unreadable_and_named(
        tmp_path: Path, part: str, field: str, value: object, says: str) -> None:
    root = copy_fixture(tmp_path)
    path = root / "nodes" / "k3s-server" / part
    entries = json.loads(path.read_text())
    entries[0][field] = value
    path.write_text(json.dumps(entries))
    snap = load_snapshot(root)
    assert snap.nodes["k3s-server"].unreadable[part] == f"{part} (in the snapshot) {says}"
    found = [f for f in run_checks(snap) if f.subject.startswith("node/k3s-server") or f.subject == "cluster"]
    assert not any("crashed" in f.message for f in found)
    assert any(f.status is Status.ERROR and says in f.message for f in found)


def test_service_cidr_facts_of_another_shape_are_ignored_with_a_note(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path, "cidr-service-routing")
    meta = json.loads((root / "snapshot.json").read_text())
    meta["facts"]["serviceCIDR"]["cidrs"] = 5
    (root / "snapshot.json").write_text(json.dumps(meta))
    snap = load_snapshot(root)
    assert snap.facts == {} and any("'facts' is ignored" in p for p in snap.problems)
    assert not any("crashed" in f.message for f in run_checks(snap))


# --- item 13: advice for what this user may not read ---------------------------------------------------


def test_a_node_directory_or_file_this_user_may_not_read_is_advised_to_be_made_readable() -> None:
    from tests.unprivileged import as_unprivileged, shared_dir

    with shared_dir() as d:
        roots = [copy_fixture(d / "a"), copy_fixture(d / "b")]
        for p in [d, *d.rglob("*")]:
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        os.chmod(roots[0] / "nodes" / "k3s-agent-1", 0)
        os.chmod(roots[1] / "nodes" / "k3s-server" / "files" / "etc" / "cni" / "net.d" / "00-multus.conf", 0)

        def judge(root: Path) -> dict[tuple[str, str], tuple[str, str, str]]:
            return {(f.check, f.subject): (f.status.value, f.message, f.remediation) for f in run_checks(load_snapshot(root))}

        node_dir, node_file = as_unprivileged(judge, roots[0]), as_unprivileged(judge, roots[1])
    status, message, advice = node_dir[("dhcp.daemon", "node/k3s-agent-1")]
    assert status == "error" and "permission denied reading" in message
    assert advice.startswith("Make the snapshot directory or file it names readable") and "re-collect" not in advice
    status, message, advice = node_file[("flannel.conf-surfaced", "node/k3s-server")]
    assert status == "error" and "permission denied reading" in message and "not copied" not in message
    assert advice.startswith("Make the snapshot file it names readable") and "Collect node facts again" not in advice


# --- item 14: nothing to read, and why ---------------------------------------------------------------


@pytest.mark.parametrize(("layout", "cause"), [
    ("nodes", "nodes/ is empty"),
    ("nodes/n1", "nodes/n1 holds none of ip-addr.json, ip-route.json, dirs.json or a file under files/"),
    ("nodes/n1/files", "nodes/n1 holds none of ip-addr.json, ip-route.json, dirs.json or a file under files/"),
])
def test_an_empty_snapshot_says_what_is_empty(tmp_path: Path, layout: str, cause: str) -> None:
    root = tmp_path / "s"
    (root / layout).mkdir(parents=True)
    code, out, err = run_cli(["--snapshot", str(root), "--report-dir", str(tmp_path / "r")])
    assert code == 2 and out == ""
    assert err == (f"multus-check: error: nothing in {root.resolve()} could be read: {cause}; fix or re-collect the "
                   "snapshot (`multus-check snapshot DIR`)\n")
