"""Read a snapshot directory into a `Snapshot`, defensively.

Reads only regular files and real directories inside the directory: symlinks are never followed
(files and directories alike), oversized or binary files are recorded as unreadable, and malformed
JSON/YAML marks the part it belongs to as failed instead of raising; a part this user may not read
says so. snapshot.json and dirs.json are judged by their published JSON Schemas (snapshot/schema.py).
Only a directory that is unusable as a whole raises `SnapshotError` (exit code 2): missing,
unreadable, holding no snapshot, a snapshot.json the schema refuses as a whole, a cluster document
that is not an object list, or nothing in it that could be read at all. Touches nothing but the
directory it is given, read-only.
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import stat
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from multus_check.errors import SnapshotError
from multus_check.paths import unreachable
from multus_check.snapshot.cluster_doc import ALL, DocumentError, NotAnObjectList, cluster_objects, parse_documents
from multus_check.snapshot.data import (
    CLUSTER_RESOURCES,
    FORMAT,
    IN_SNAPSHOT,
    PERMISSION,
    DirEntry,
    NodeFacts,
    Section,
    SectionState,
    Snapshot,
)
from multus_check.snapshot.jsonstream import load_object_list
from multus_check.snapshot.schema import Problem, dirs_problems, snapshot_problems
from multus_check.snapshot.shapes import node_file_problem

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 1 << 20
MAX_CLUSTER_BYTES = 512 << 20
RECOLLECT = "Fix or re-collect {what} (`multus-check snapshot DIR` writes a complete snapshot), then run multus-check again."
MAKE_READABLE = "Make {path} readable by this user (chmod a+r, or run as its owner), then run multus-check again."


class _Unreadable(Exception):
    """A part of the snapshot exists but cannot be used; the message says why, `advice` what to do."""

    def __init__(self, message: str, advice: str = "") -> None:
        super().__init__(message)
        self.advice = advice


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    if not os.fspath(path).strip():
        raise SnapshotError("the snapshot path is empty (an unset variable?); name a snapshot directory, or leave "
                            "--snapshot out to check the live cluster")
    root = _root(Path(path))
    names = _names(root)
    has_meta, has_cluster, has_nodes = ("snapshot.json" in names, "cluster.yaml" in names, "nodes" in names)
    if not (has_meta or has_cluster or has_nodes):
        raise SnapshotError(
            f"{root} holds no snapshot: expected snapshot.json, cluster.yaml or nodes/ "
            "(see docs/SNAPSHOT.md; `multus-check snapshot DIR` writes one)"
        )
    snap = Snapshot()
    if has_meta:
        _read_meta(root, snap)
    failures: list[str] = []
    read = False
    if has_cluster:
        read = _read_cluster(root, snap, failures) or read
    if has_nodes:
        read = _read_nodes(root, snap, failures) or read
    failures += _claimed_but_absent(snap, has_cluster)
    if not read and (failures or not has_meta):
        failures = failures or ["it holds no data"]
        raise SnapshotError(f"nothing in {root} could be read: {'; '.join(failures[:3])}"
                            + (f"; and {len(failures) - 3} more" if len(failures) > 3 else "")
                            + "; fix or re-collect the snapshot (`multus-check snapshot DIR`)")
    log.debug("snapshot %s: %d API objects, node facts of %s; sections not read: %s", root, len(snap.objects),
              ", ".join(sorted(snap.nodes)) or "no node",
              {k: f"{v.state.value}: {v.detail}" for k, v in sorted(snap.sections.items()) if not v.state.readable} or "none")
    return snap


def _claimed_but_absent(snap: Snapshot, has_cluster: bool) -> list[str]:
    """Fail every section snapshot.json records as read whose file is missing (cluster.yaml, a node's
    directory): its absence is no evidence of an empty cluster or node. Returns the reasons."""
    out: list[str] = []
    absent_nodes = {key for key in snap.sections if key.startswith("node/")} - {f"node/{n}" for n in snap.nodes}
    for key, section in sorted(snap.sections.items()):
        if section.state is not SectionState.OK:
            continue
        if key == "cluster" or key.startswith("cluster/"):
            if has_cluster:
                continue
            what, reason = "cluster.yaml", "cluster.yaml is missing, though snapshot.json records the cluster as read"
        elif key in absent_nodes:  # every node directory present is in snap.nodes or already failed
            what, reason = f"nodes/{key[5:]}", (f"nodes/{key[5:]} is missing, though snapshot.json records the "
                                                "node's facts as read")
        else:
            continue
        snap.sections[key] = Section(SectionState.FAILED, reason, RECOLLECT.format(what=what))
        if reason not in out:
            out.append(reason)
            snap.problems.append(reason)
    return out


def _root(root: Path) -> Path:
    """The snapshot directory. It may itself be a symlink (the user's choice of path); nothing inside is followed."""
    if (blocked := unreachable(root, follow=False)) is not None:
        raise SnapshotError(f"snapshot directory {root} cannot be used: {blocked}")
    if not os.path.lexists(root):
        raise SnapshotError(f"snapshot directory {root} does not exist")
    try:
        st = os.stat(root)
    except OSError as exc:
        raise SnapshotError(f"snapshot directory {root} cannot be used: {_os_reason(exc, root)}") from exc
    if not stat.S_ISDIR(st.st_mode):
        raise SnapshotError(f"{root} is not a directory; --snapshot expects a snapshot directory")
    return root.resolve()


def _names(root: Path) -> set[str]:
    try:
        with os.scandir(root) as entries:
            return {e.name for e in entries}
    except OSError as exc:
        raise SnapshotError(f"snapshot directory {root} cannot be listed: {_os_reason(exc, root)}; "
                            "make it readable (chmod a+rx) or run as its owner") from exc


def _os_reason(exc: OSError, path: Path | str) -> str:
    if isinstance(exc, PermissionError):
        return f"{PERMISSION} {path}"
    return exc.strerror or str(exc)


def _read_bytes(root: Path, p: Path | str, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a regular file that lies inside root, refusing links, specials and huge files."""
    _check_regular(root, p, limit)
    try:
        with open(p, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise _Unreadable(f"cannot be read: {_os_reason(exc, p)}", _advice(exc, p, os.path.relpath(p, root))) from exc


def _check_regular(root: Path, p: Path | str, limit: int) -> None:
    """Refuse links, specials, huge files and anything outside root.

    Containment holds by construction: `root` is resolved, and every path below it is reached
    by walking without following symlinks, so only the final component needs the lstat check.
    """
    rel = os.path.relpath(p, root)
    try:
        st = os.lstat(p)
    except OSError as exc:
        raise _Unreadable(f"cannot be read: {_os_reason(exc, p)}", _advice(exc, p, rel)) from exc
    if stat.S_ISLNK(st.st_mode):
        raise _Unreadable("is a symlink; snapshots hold plain files and links are not followed", RECOLLECT.format(what=rel))
    if not stat.S_ISREG(st.st_mode):
        raise _Unreadable("is not a regular file", RECOLLECT.format(what=rel))
    if not str(p).startswith(str(root) + os.sep):
        raise _Unreadable("lies outside the snapshot directory", RECOLLECT.format(what=rel))
    if st.st_size > limit:
        raise _Unreadable(f"is {st.st_size} bytes, over the {limit}-byte limit", RECOLLECT.format(what=rel))


def _advice_for(reason: str, what: str) -> str:
    """The next step for a part of the snapshot that could not be used, by what the reason says happened."""
    if PERMISSION in reason:
        return ("Make the snapshot directory or file it names readable by this user (chmod a+rX, or run as its "
                "owner), then run multus-check again.")
    return RECOLLECT.format(what=what)


def _advice(exc: OSError, path: Path | str, rel: str) -> str:
    return MAKE_READABLE.format(path=path) if isinstance(exc, PermissionError) else RECOLLECT.format(what=rel)


def _read_text(root: Path, p: Path | str, limit: int = MAX_FILE_BYTES) -> str:
    return "".join(_text_chunks(root, p, limit, whole=True))


def _text_chunks(root: Path, p: Path | str, limit: int, whole: bool = False) -> Iterator[str]:
    """The file's text in chunks of about a MiB (one chunk when `whole`); _Unreadable for binary or
    non-UTF-8 content, found as the chunks are read."""
    rel = os.path.relpath(p, root)
    if whole:
        chunks: Iterable[bytes] = [_read_bytes(root, p, limit)]
    else:
        _check_regular(root, p, limit)
        chunks = _byte_chunks(p, rel)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    for data in chunks:
        if b"\x00" in data:
            raise _Unreadable("is binary data, not text", RECOLLECT.format(what=rel))
        try:
            yield decoder.decode(data, final=whole)
        except UnicodeDecodeError as exc:
            raise _Unreadable(f"is not UTF-8 text ({exc.reason} at byte {offset + exc.start})",
                              RECOLLECT.format(what=rel)) from exc
        offset += len(data)
    try:
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _Unreadable(f"is not UTF-8 text (it ends inside a character at byte {offset})",
                          RECOLLECT.format(what=rel)) from exc


def _byte_chunks(p: Path | str, rel: str) -> Iterator[bytes]:
    try:
        with open(p, "rb") as fh:
            while data := fh.read(1 << 20):
                yield data
    except OSError as exc:
        raise _Unreadable(f"cannot be read: {_os_reason(exc, p)}", _advice(exc, p, rel)) from exc


def _read_json(root: Path, p: Path) -> Any:
    text = _read_text(root, p)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Unreadable(f"is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                          RECOLLECT.format(what=os.path.relpath(p, root))) from exc
    except RecursionError as exc:
        raise _Unreadable("is nested too deeply", RECOLLECT.format(what=os.path.relpath(p, root))) from exc


def _read_meta(root: Path, snap: Snapshot) -> None:
    """snapshot.json, judged by its schema: a document, format or `sections` it refuses is unusable
    (exit 2); a bad section entry fails that section; a bad `collected_at`, `source` or `facts` is
    ignored; each with a note naming it."""
    path = root / "snapshot.json"
    try:
        meta = _read_json(root, path)
    except _Unreadable as exc:
        raise SnapshotError(f"{path} {exc}") from exc
    problems = snapshot_problems(meta)
    for problem in problems:
        if problem.path[:1] in ((), ("format",)) or problem.path == ("sections",):
            raise SnapshotError(problem.of(str(path)))
    first = {p.path[0]: p for p in reversed(problems)}
    for member, problem in sorted(first.items()):
        if member != "sections":
            snap.problems.append(problem.of("snapshot.json") + f"; {member!r} is ignored")
    snap.format = str(meta.get("format", FORMAT))
    snap.collected_at = "" if "collected_at" in first else meta.get("collected_at", "")
    snap.source = {} if "source" in first else meta.get("source", {})
    snap.facts = {} if "facts" in first else meta.get("facts", {})
    _read_sections(meta.get("sections", {}), [p for p in problems if p.path[0] == "sections"], snap)


def _read_sections(sections: dict[str, Any], problems: list[Problem], snap: Snapshot) -> None:
    """The states snapshot.json records; a section whose entry breaks the schema counts as failed."""
    first = {p.path[1]: p for p in reversed(problems)}
    for key, value in sections.items():
        problem = first.get(key)
        if problem is not None:
            snap.problems.append(problem.of("snapshot.json"))
            snap.sections[key] = Section(SectionState.FAILED, problem.of("snapshot.json"),
                                         RECOLLECT.format(what="snapshot.json"))
        elif isinstance(value, str):
            snap.sections[key] = Section(SectionState(value))
        else:
            snap.sections[key] = Section(SectionState(value["state"]), value.get("detail", ""))


def _read_cluster(root: Path, snap: Snapshot, failures: list[str]) -> bool:
    """Load cluster.yaml into `snap`; False (with the reason in `failures`) when nothing of it was usable."""
    path = root / "cluster.yaml"
    started = time.perf_counter()
    try:
        docs = load_object_list(_text_chunks(root, path, MAX_CLUSTER_BYTES))
        parser = "json"
        if docs is None:
            docs, parser = parse_documents(_read_text(root, path, MAX_CLUSTER_BYTES)), "json or yaml"
        log.debug("cluster.yaml parsed (%s) in %.3f s", parser, time.perf_counter() - started)
    except (_Unreadable, DocumentError) as exc:
        advice = exc.advice if isinstance(exc, _Unreadable) else RECOLLECT.format(what="cluster.yaml")
        detail = " ".join(f"cluster.yaml {exc}".split())
        _mark_failed(snap, CLUSTER_RESOURCES, detail, advice)
        snap.sections["cluster"] = Section(SectionState.FAILED, detail, advice)
        failures.append(detail)
        return False
    try:
        found = cluster_objects(docs)
    except NotAnObjectList as exc:
        raise SnapshotError(f"{path} {exc}: expected `kind: List` with `items`, as `kubectl get -o json` "
                            "(or -o yaml) prints it (see docs/SNAPSHOT.md)") from exc
    snap.objects.extend(found.objects)
    snap.problems.extend(found.notes)
    snap.sections.setdefault("cluster", Section(SectionState.OK))
    advice = RECOLLECT.format(what="cluster.yaml")
    if ALL in found.failed:
        _mark_failed(snap, CLUSTER_RESOURCES, found.failed[ALL], advice)
        snap.sections["cluster"] = Section(SectionState.FAILED, found.failed[ALL], advice)
    for resource, detail in found.failed.items():
        if resource != ALL:
            _mark_failed(snap, [resource], detail, advice)
    return True


def _mark_failed(snap: Snapshot, resources: Iterable[str], detail: str, advice: str) -> None:
    """Mark `cluster/<resource>` failed unless snapshot.json already says it was not read."""
    for resource in resources:
        key = f"cluster/{resource}"
        if key not in snap.sections or snap.sections[key].state.readable:
            snap.sections[key] = Section(SectionState.FAILED, detail, advice)


def _read_nodes(root: Path, snap: Snapshot, failures: list[str]) -> bool:
    """Load nodes/<node>/ for every node; False when no part of any node could be read."""
    nodes_dir = root / "nodes"
    problem = _dir_problem(nodes_dir, "nodes")
    entries: list[os.DirEntry[str]] = []
    if problem is None:
        try:
            with os.scandir(nodes_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problem = f"nodes/ cannot be listed: {_os_reason(exc, nodes_dir)}"
    if problem is not None:
        _fail_listed_nodes(snap, problem)
        failures.append(problem)
        return False
    if not entries:
        failures.append("nodes/ is empty")
    read_any = False
    for entry in entries:
        node_dir = Path(entry.path)
        problem = _dir_problem(node_dir, f"nodes/{entry.name}")
        if problem is not None:
            snap.problems.append(problem)
            snap.sections[f"node/{entry.name}"] = Section(SectionState.FAILED, problem,
                                                          _advice_for(problem, f"nodes/{entry.name}"))
            failures.append(problem)
            continue
        facts, read, trouble = _read_node(root, node_dir, entry.name)
        snap.nodes[entry.name] = facts
        if trouble:
            snap.sections[f"node/{entry.name}"] = Section(SectionState.FAILED, trouble,
                                                          _advice_for(trouble, f"nodes/{entry.name}"))
            failures.append(trouble)
        else:
            snap.sections.setdefault(f"node/{entry.name}", Section(SectionState.OK))
        if not read:
            failures += list(facts.unreadable.values())[:3] or ([] if trouble else [
                f"nodes/{entry.name} holds none of ip-addr.json, ip-route.json, dirs.json or a file under files/"])
        read_any = read_any or read
    return read_any


def _dir_problem(path: Path, rel: str) -> str | None:
    """Why `path` is not a real directory of the snapshot (a symlink is never followed), or None."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"{rel} {IN_SNAPSHOT} cannot be read: {_os_reason(exc, path)}"
    if stat.S_ISLNK(st.st_mode):
        return f"{rel} {IN_SNAPSHOT} is a symlink; links are not followed"
    if not stat.S_ISDIR(st.st_mode):
        return f"{rel} {IN_SNAPSHOT} is not a directory"
    return None


def _fail_listed_nodes(snap: Snapshot, problem: str) -> None:
    for key, section in list(snap.sections.items()):
        if key.startswith("node/") and section.state.readable:
            snap.sections[key] = Section(SectionState.FAILED, problem, _advice_for(problem, "nodes/"))
    snap.problems.append(problem)


def _read_node(root: Path, node_dir: Path, name: str) -> tuple[NodeFacts, bool, str | None]:
    """(facts, whether any part was read, why the node's facts cannot be trusted as a whole or None)."""
    facts = NodeFacts(name=name)
    try:
        with os.scandir(node_dir) as it:
            present = {e.name for e in it}
    except OSError as exc:
        return facts, False, f"nodes/{name} {IN_SNAPSHOT} cannot be listed: {_os_reason(exc, node_dir)}"
    read = False
    for part, attr in (("ip-addr.json", "ip_addr"), ("ip-route.json", "ip_route")):
        if part in present:
            try:
                value = _read_json(root, node_dir / part)
                if (problem := node_file_problem(part, value)) is not None:
                    raise _Unreadable(problem, RECOLLECT.format(what=f"nodes/{name}/{part}"))
                setattr(facts, attr, value)
                read = True
            except _Unreadable as exc:
                facts.unreadable[part] = f"{part} {IN_SNAPSHOT} {exc}"
    if "dirs.json" in present:
        try:
            facts.dirs = _parse_dirs(_read_json(root, node_dir / "dirs.json"))
            read = True
        except _Unreadable as exc:
            facts.unreadable["dirs.json"] = f"dirs.json {IN_SNAPSHOT} {exc}"
    trouble = None
    if "files" in present:
        trouble = _dir_problem(node_dir / "files", f"nodes/{name}/files") or _read_files(root, node_dir / "files", facts, name)
        read = read or bool(facts.files)
    return facts, read, trouble


def _parse_dirs(data: Any) -> dict[str, list[DirEntry] | None]:
    """dirs.json, judged by its schema: the first problem makes the whole file unreadable."""
    problems = dirs_problems(data)
    if problems:
        raise _Unreadable(problems[0].message)
    return {"/" + str(path).strip("/"): None if listing is None else [DirEntry.from_dict(item) for item in listing]
            for path, listing in data.items()}


def _read_files(root: Path, files_root: Path, facts: NodeFacts, node: str) -> str | None:
    """Read every host file under files/; a directory that cannot be listed, or is a symlink, makes the
    node's files incomplete, so the absence of a file would be no evidence: that is the node's trouble.
    The walk keeps its own stack (os.walk recurses, and a tree ~1000 levels deep would overflow it)."""
    base = str(files_root)
    unlisted: list[str] = []
    stack = [base]
    while stack:
        dirpath = stack.pop()
        host_dir = dirpath[len(base):] or ""
        try:
            with os.scandir(dirpath) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            unlisted.append(f"nodes/{node}/files{host_dir} {IN_SNAPSHOT} cannot be listed: {_os_reason(exc, dirpath)}")
            continue
        subdirs = []
        for entry in entries:
            host = f"{host_dir}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry.path)
            elif entry.is_symlink() and os.path.isdir(entry.path):  # a whole subtree the node's facts would miss
                facts.unreadable[host] = f"{host} {IN_SNAPSHOT} is a symlink; links are not followed"
                unlisted.append(f"nodes/{node}/files{host} {IN_SNAPSHOT} is a symlink to a directory; "
                                "links are not followed")
            else:
                try:
                    facts.files[host] = _read_text(root, entry.path)
                except _Unreadable as exc:
                    facts.unreadable[host] = f"{host} {IN_SNAPSHOT} {exc}"
        stack.extend(reversed(subdirs))
    return "; ".join(unlisted) or None
