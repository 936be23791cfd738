"""Read a snapshot directory into a `Snapshot`, defensively.

Reads only regular files inside the directory: symlinks are never followed, oversized or
binary files are recorded as unreadable, and malformed JSON/YAML marks the part it belongs
to as failed instead of raising. Only a directory that is unusable as a whole raises
`SnapshotError` (exit code 2).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from multus_check.errors import SnapshotError
from multus_check.snapshot.model import (
    CLUSTER_RESOURCES,
    FORMAT,
    KIND_TO_RESOURCE,
    DirEntry,
    NodeFacts,
    Section,
    SectionState,
    Snapshot,
)

MAX_FILE_BYTES = 1 << 20
MAX_CLUSTER_BYTES = 512 << 20
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Unreadable(Exception):
    """A part of the snapshot exists but cannot be used; the message says why."""


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    root = Path(path)
    if not root.exists():
        raise SnapshotError(f"snapshot directory {root} does not exist")
    if root.is_symlink() or not root.is_dir():
        raise SnapshotError(f"{root} is not a directory; --snapshot expects a snapshot directory")
    root = root.resolve()
    has_meta, has_cluster, has_nodes = (
        _exists(root / "snapshot.json"),
        _exists(root / "cluster.yaml"),
        _exists(root / "nodes"),
    )
    if not (has_meta or has_cluster or has_nodes):
        raise SnapshotError(
            f"{root} holds no snapshot: expected snapshot.json, cluster.yaml or nodes/ "
            "(see docs/SNAPSHOT.md; `multus-check snapshot DIR` writes one)"
        )
    snap = Snapshot()
    if has_meta:
        _read_meta(root, snap)
    _read_cluster(root, snap, has_cluster)
    if has_nodes:
        _read_nodes(root, snap)
    return snap


def _exists(p: Path) -> bool:
    return os.path.lexists(p)


def _read_bytes(root: Path, p: Path | str, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a regular file that lies inside root, refusing links, specials and huge files.

    Containment holds by construction: `root` is resolved, and every path below it is reached
    by walking without following symlinks, so only the final component needs the lstat check.
    """
    try:
        st = os.lstat(p)
    except OSError as exc:
        raise _Unreadable(f"cannot stat: {exc.strerror}") from exc
    if stat.S_ISLNK(st.st_mode):
        raise _Unreadable("is a symlink; snapshots hold plain files and links are not followed")
    if not stat.S_ISREG(st.st_mode):
        raise _Unreadable("is not a regular file")
    if not str(p).startswith(str(root) + os.sep):
        raise _Unreadable("lies outside the snapshot directory")
    if st.st_size > limit:
        raise _Unreadable(f"is {st.st_size} bytes, over the {limit}-byte limit")
    try:
        with open(p, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise _Unreadable(f"cannot read: {exc.strerror}") from exc


def _read_text(root: Path, p: Path | str, limit: int = MAX_FILE_BYTES) -> str:
    data = _read_bytes(root, p, limit)
    if b"\x00" in data:
        raise _Unreadable("is binary data, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Unreadable(f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _read_json(root: Path, p: Path) -> Any:
    text = _read_text(root, p)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Unreadable(f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def _read_meta(root: Path, snap: Snapshot) -> None:
    try:
        meta = _read_json(root, root / "snapshot.json")
    except _Unreadable as exc:
        raise SnapshotError(f"{root / 'snapshot.json'} {exc}") from exc
    if not isinstance(meta, dict):
        raise SnapshotError(f"{root / 'snapshot.json'} must hold a JSON object")
    fmt = str(meta.get("format", FORMAT))
    if not fmt.startswith("multus-check/snapshot/v1"):
        raise SnapshotError(
            f"{root / 'snapshot.json'} has format {fmt!r}; this multus-check reads {FORMAT}"
        )
    snap.format = fmt
    snap.collected_at = str(meta.get("collected_at", ""))
    snap.source = meta["source"] if isinstance(meta.get("source"), dict) else {}
    snap.facts = meta["facts"] if isinstance(meta.get("facts"), dict) else {}
    sections = meta.get("sections") or {}
    if not isinstance(sections, dict):
        raise SnapshotError(f"{root / 'snapshot.json'}: 'sections' must be an object")
    for key, value in sections.items():
        state_text = value.get("state") if isinstance(value, dict) else value
        try:
            state = SectionState(state_text)
        except ValueError:
            snap.problems.append(f"snapshot.json: section {key!r} has unknown state {state_text!r}")
            state = SectionState.FAILED
        detail = str(value.get("detail", "")) if isinstance(value, dict) else ""
        snap.sections[str(key)] = Section(state, detail)


def _read_cluster(root: Path, snap: Snapshot, present: bool) -> None:
    if not present:
        return
    try:
        docs = list(yaml.load_all(_read_text(root, root / "cluster.yaml", MAX_CLUSTER_BYTES), Loader=_LOADER))
    except (_Unreadable, yaml.YAMLError) as exc:
        reason = str(exc).replace("\n", " ")
        _mark_cluster_failed(snap, f"cluster.yaml {reason}" if isinstance(exc, _Unreadable)
                             else f"cluster.yaml is not valid YAML: {reason}")
        return
    items: list[Any] = []
    for doc in docs:
        if doc is None:
            continue
        if isinstance(doc, dict) and doc.get("kind") == "List":
            items.extend(doc.get("items") or [])
        elif isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and "items" in doc:
            kind = str(doc["kind"])[: -len("List")]
            items.extend({"kind": kind, **i} if isinstance(i, dict) else i for i in doc["items"] or [])
        else:
            items.append(doc)
    unknown: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("metadata", {}), dict):
            snap.problems.append("cluster.yaml: an item is not a Kubernetes object; it was ignored")
            continue
        kind = str(item.get("kind", ""))
        if kind not in KIND_TO_RESOURCE:
            unknown.add(kind or "<no kind>")
            continue
        snap.objects.append(item)
    if unknown:
        snap.problems.append(f"cluster.yaml: ignored objects of kinds not used by any check: {', '.join(sorted(unknown))}")
    if "cluster" not in snap.sections:
        snap.sections["cluster"] = Section(SectionState.OK)


def _mark_cluster_failed(snap: Snapshot, detail: str) -> None:
    snap.sections["cluster"] = Section(SectionState.FAILED, detail)
    for resource in CLUSTER_RESOURCES:
        key = f"cluster/{resource}"
        if snap.section(key).state is SectionState.OK or key not in snap.sections:
            snap.sections[key] = Section(SectionState.FAILED, detail)


def _read_nodes(root: Path, snap: Snapshot) -> None:
    nodes_dir = root / "nodes"
    try:
        entries = sorted(os.scandir(nodes_dir), key=lambda e: e.name)
    except OSError as exc:
        snap.problems.append(f"nodes/ cannot be listed: {exc.strerror}")
        return
    for entry in entries:
        if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
            snap.problems.append(f"nodes/{entry.name} is not a directory; ignored")
            continue
        facts = _read_node(root, Path(entry.path), entry.name)
        snap.nodes[entry.name] = facts
        snap.sections.setdefault(f"node/{entry.name}", Section(SectionState.OK))


def _read_node(root: Path, node_dir: Path, name: str) -> NodeFacts:
    facts = NodeFacts(name=name)
    for part, attr in (("ip-addr.json", "ip_addr"), ("ip-route.json", "ip_route")):
        if _exists(node_dir / part):
            try:
                value = _read_json(root, node_dir / part)
                if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                    raise _Unreadable("must be a JSON list of objects, as `ip -j` prints")
                setattr(facts, attr, value)
            except _Unreadable as exc:
                facts.unreadable[part] = f"{part} {exc}"
    if _exists(node_dir / "dirs.json"):
        try:
            facts.dirs = _parse_dirs(_read_json(root, node_dir / "dirs.json"))
        except _Unreadable as exc:
            facts.unreadable["dirs.json"] = f"dirs.json {exc}"
    files_root = node_dir / "files"
    if _exists(files_root):
        _read_files(root, files_root, facts)
    return facts


def _parse_dirs(data: Any) -> dict[str, list[DirEntry] | None]:
    if not isinstance(data, dict):
        raise _Unreadable("must be a JSON object mapping host paths to listings")
    out: dict[str, list[DirEntry] | None] = {}
    for path, listing in data.items():
        key = "/" + str(path).strip("/")
        if listing is None:
            out[key] = None
            continue
        if not isinstance(listing, list):
            raise _Unreadable(f"listing of {path} must be a list or null")
        entries = []
        for item in listing:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise _Unreadable(f"an entry of {path} has no name")
            entries.append(DirEntry.from_dict(item))
        out[key] = entries
    return out


def _read_files(root: Path, files_root: Path, facts: NodeFacts) -> None:
    base = str(files_root)
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        host_dir = dirpath[len(base):] or ""
        for d in list(dirnames):
            if os.path.islink(os.path.join(dirpath, d)):
                dirnames.remove(d)
                facts.unreadable[f"{host_dir}/{d}"] = "is a symlink inside the snapshot; not followed"
        for fname in filenames:
            host = f"{host_dir}/{fname}"
            try:
                facts.files[host] = _read_text(root, os.path.join(dirpath, fname))
            except _Unreadable as exc:
                facts.unreadable[host] = f"{host} (in the snapshot) {exc}"
