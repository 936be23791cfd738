"""The published JSON Schemas of snapshot.json and dirs.json, and the loader that judges files by them.

The schemas in docs/schema/ are the public contract; the loader must agree with them: it accepts a
document as it is exactly when the published schema does (property tests over documents mixing
valid parts and garbage), every example snapshot and everything the writer writes is valid, and each
kind of mistake reaches the user as one line saying where it is.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from multus_check.errors import SnapshotError
from multus_check.snapshot import SectionState, load_snapshot, write_snapshot
from multus_check.snapshot.schema import DIRS, SNAPSHOT, dirs_problems, schema, snapshot_problems
from tests.conftest import ROOT, SNAPSHOTS, fixture_snapshot

PUBLISHED = ROOT / "docs" / "schema"
EXAMPLES = sorted(d for d in SNAPSHOTS.iterdir() if (d / "snapshot.json").exists())
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STATES = ("ok", "forbidden", "failed", "not-collected", "unsupported")


def published(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads((PUBLISHED / name).read_text()))


def test_the_published_schemas_are_the_ones_the_loader_uses_and_are_valid_draft_2020_12() -> None:
    for name in (SNAPSHOT, DIRS):
        assert json.loads((PUBLISHED / name).read_text()) == schema(name), \
            f"docs/schema/{name} differs from multus_check/snapshot/schemas/{name}: copy it over"
        Draft202012Validator.check_schema(schema(name))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_snapshot_is_valid_by_the_published_schemas(example: Path) -> None:
    meta = json.loads((example / "snapshot.json").read_text())
    assert list(published(SNAPSHOT).iter_errors(meta)) == []
    listings = sorted(example.glob("nodes/*/dirs.json"))
    assert listings, "every example has node listings"
    for path in listings:
        assert list(published(DIRS).iter_errors(json.loads(path.read_text()))) == [], path
    snap = load_snapshot(example)
    assert not [p for p in snap.problems if "snapshot.json" in p]
    assert all("dirs.json" not in facts.unreadable for facts in snap.nodes.values())


def test_what_the_writer_writes_is_valid_by_the_published_schemas(tmp_path: Path) -> None:
    snap = fixture_snapshot("healthy-k3s")
    snap.source.update({"kind": "live", "context": None, "api_requests": 12, "run_id": "20261201-000000-abcdef"})
    write_snapshot(snap, tmp_path / "out")
    assert published(SNAPSHOT).is_valid(json.loads((tmp_path / "out" / "snapshot.json").read_text()))
    for path in (tmp_path / "out").glob("nodes/*/dirs.json"):
        assert published(DIRS).is_valid(json.loads(path.read_text())), path


# -- the loader accepts a document exactly when the schema does -----------------------------------

junk = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
states = st.sampled_from(STATES) | st.sampled_from(["OK", "maybe", ""])
section = states | st.fixed_dictionaries({}, optional={"state": states | junk, "detail": st.text(max_size=6) | junk}) | junk
service_cidr = st.fixed_dictionaries({}, optional={
    "cidrs": st.lists(st.text(max_size=6) | junk, max_size=2) | junk, "source": st.text(max_size=6) | junk,
    "tried": st.lists(st.fixed_dictionaries({}, optional={"method": st.text(max_size=3) | junk}), max_size=2) | junk})
snapshot_docs = st.fixed_dictionaries({}, optional={
    "format": st.sampled_from(["multus-check/snapshot/v1", "multus-check/snapshot/v1.3", "multus-check/snapshot/v10",
                               "multus-check/snapshot/v2", "multus-check/snapshot"]) | junk,
    "collected_at": st.text(max_size=6) | junk,
    "source": st.fixed_dictionaries({}, optional={"kind": st.text(max_size=6) | junk, "description": st.text(max_size=6),
                                                  "context": st.none() | st.text(max_size=3) | junk,
                                                  "api_requests": st.integers(-2, 9) | junk}) | junk,
    "sections": st.dictionaries(st.sampled_from(["cluster", "cluster/nodes", "node/a", "node/b"]), section, max_size=4) | junk,
    "facts": st.fixed_dictionaries({}, optional={"serviceCIDR": service_cidr | junk, "other": junk}) | junk,
    "extra": junk,
}) | junk

names = st.text(max_size=6)
entry = st.fixed_dictionaries({}, optional={
    "name": names | junk, "type": st.sampled_from(["file", "dir", "socket", "symlink", "other", "fifo"]) | junk,
    "target": st.text(max_size=3) | junk, "live": st.booleans() | junk, "version": st.text(max_size=3) | junk,
    "cniVersions": st.lists(st.text(max_size=3) | junk, max_size=2) | junk, "mode": junk,
}) | junk
dirs_docs = st.dictionaries(st.sampled_from(["/opt/cni/bin", "/run/cni", "etc/cni/net.d/"]),
                            st.none() | st.lists(entry, max_size=3) | junk, max_size=3) | junk


def _load(files: dict[str, Any]) -> Any:
    """load_snapshot of a directory holding these JSON documents; the SnapshotError when it refuses it."""
    tmp = Path(tempfile.mkdtemp())
    try:
        for rel, doc in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(json.dumps(doc))
        try:
            return load_snapshot(tmp)
        except SnapshotError as exc:
            return exc
    finally:
        shutil.rmtree(tmp)


@SETTINGS
@given(snapshot_docs)
def test_the_loader_takes_a_snapshot_json_as_it_is_exactly_when_the_published_schema_accepts_it(doc: Any) -> None:
    valid = published(SNAPSHOT).is_valid(doc)
    assert (snapshot_problems(doc) == []) == valid, "piecewise validation differs from validating the whole"
    snap = _load({"snapshot.json": doc})
    notes = [] if isinstance(snap, SnapshotError) else [p for p in snap.problems if p.startswith("snapshot.json")]
    assert (not isinstance(snap, SnapshotError) and not notes) == valid, (snap, notes)
    if valid:
        sections = doc.get("sections", {})
        assert {k: s.state.value for k, s in snap.sections.items()} == {
            k: v if isinstance(v, str) else v["state"] for k, v in sections.items()}
        assert {k: s.detail for k, s in snap.sections.items()} == {
            k: "" if isinstance(v, str) else v.get("detail", "") for k, v in sections.items()}
        assert (snap.source, snap.facts, snap.collected_at) == (doc.get("source", {}), doc.get("facts", {}),
                                                                doc.get("collected_at", ""))


@SETTINGS
@given(dirs_docs)
def test_the_loader_reads_a_dirs_json_exactly_when_the_published_schema_accepts_it(doc: Any) -> None:
    valid = published(DIRS).is_valid(doc)
    assert (dirs_problems(doc) == []) == valid, "piecewise validation differs from validating the whole"
    snap = _load({"nodes/n1/dirs.json": doc})
    read = not isinstance(snap, SnapshotError) and "dirs.json" not in snap.nodes["n1"].unreadable
    assert read == valid, snap if isinstance(snap, SnapshotError) else snap.nodes["n1"].unreadable
    if valid:
        known = ("name", "type", "target", "live", "version", "cniVersions")
        expected = {"/" + path.strip("/"): None if listing is None else
                    [{"type": "file", **{k: item[k] for k in known if k in item}} for item in listing]
                    for path, listing in doc.items()}
        got = {path: None if listing is None else [e.to_dict() for e in listing]
               for path, listing in snap.nodes["n1"].dirs.items()}
        assert got == expected


# -- one line that says where the problem is --------------------------------------------------------

@pytest.mark.parametrize("doc, message", [
    ([1], "snapshot.json must hold a JSON object, not a list"),
    ({"format": "multus-check/snapshot/v9"},
     "snapshot.json has format 'multus-check/snapshot/v9'; this multus-check reads multus-check/snapshot/v1"),
    ({"format": "multus-check/snapshot/v10"},
     "snapshot.json has format 'multus-check/snapshot/v10'; this multus-check reads multus-check/snapshot/v1"),
    ({"format": 1}, "snapshot.json has format 1; this multus-check reads multus-check/snapshot/v1"),
    ({"sections": ["cluster"]}, "snapshot.json: 'sections' must be an object, not a list"),
])
def test_a_snapshot_json_the_schema_refuses_as_a_whole_is_an_unusable_snapshot_named_in_one_line(
        tmp_path: Path, doc: Any, message: str) -> None:
    (tmp_path / "snapshot.json").write_text(json.dumps(doc))
    with pytest.raises(SnapshotError) as caught:
        load_snapshot(tmp_path)
    assert str(caught.value) == f"{tmp_path.resolve()}/{message}"


def test_a_bad_section_entry_fails_that_section_and_a_bad_informational_member_is_ignored_each_with_a_note(
        tmp_path: Path) -> None:
    doc = {"format": "multus-check/snapshot/v1.1", "collected_at": 1700000000, "source": {"kind": 7, "description": "x"},
           "sections": {"cluster": {"state": "ok"}, "node/a": {"state": "maybe", "detail": "d"}, "node/b": {"detail": "d"},
                        "node/c": "forbidden", "node/d": {"state": "ok", "detail": ["x"]}}}
    (tmp_path / "snapshot.json").write_text(json.dumps(doc))
    snap = load_snapshot(tmp_path)
    known = "(known: ok, forbidden, failed, not-collected, unsupported)"
    assert snap.problems == [
        "snapshot.json: 'collected_at' must be a string, not a number; 'collected_at' is ignored",
        "snapshot.json: 'source.kind' must be a string, not a number; 'source' is ignored",
        f"snapshot.json: section 'node/a' has unknown state 'maybe' {known}",
        "snapshot.json: section 'node/b' has no state",
        "snapshot.json: section 'node/d': detail must be a string, not a list",
    ]
    assert snap.collected_at == "" and snap.source == {} and snap.format == "multus-check/snapshot/v1.1"
    assert snap.sections["cluster"].state is SectionState.OK
    assert snap.sections["node/c"].state is SectionState.FORBIDDEN
    for key in ("node/a", "node/b", "node/d"):
        section = snap.sections[key]
        assert section.state is SectionState.FAILED and section.detail.startswith(f"snapshot.json: section '{key}'")
        assert "re-collect snapshot.json" in section.advice


@pytest.mark.parametrize("doc, message", [
    (["/opt/cni/bin"], "must be a JSON object mapping host paths to listings, not a list"),
    ({"/opt/cni/bin": "macvlan"}, "listing of /opt/cni/bin must be a list or null, not a string"),
    ({"/opt/cni/bin": [{"name": "dhcp"}, {"type": "file"}]}, "entry 1 of /opt/cni/bin has no name"),
    ({"/opt/cni/bin": ["dhcp"]}, "entry 0 of /opt/cni/bin must be an object, not a string"),
    ({"/run/cni": [{"name": "dhcp.sock", "type": "fifo"}]},
     "entry 0 of /run/cni has unknown type 'fifo' (known: file, dir, socket, symlink, other)"),
    ({"/run/cni": [{"name": "dhcp.sock", "type": "socket", "live": "yes"}]},
     "entry 0 of /run/cni: live must be true or false, not a string"),
    ({"/opt/cni/bin": [{"name": "macvlan", "cniVersions": ["1.0.0", 1]}]},
     "entry 0 of /opt/cni/bin: cniVersions[1] must be a string, not a number"),
])
def test_a_dirs_json_the_schema_refuses_is_unreadable_naming_where(tmp_path: Path, doc: Any, message: str) -> None:
    shutil.copytree(SNAPSHOTS / "healthy-k3s", tmp_path / "s")
    (tmp_path / "s" / "nodes" / "k3s-agent-1" / "dirs.json").write_text(json.dumps(doc))
    facts = load_snapshot(tmp_path / "s").nodes["k3s-agent-1"]
    assert facts.unreadable["dirs.json"] == f"dirs.json (in the snapshot) {message}"
    assert facts.dirs == {}
