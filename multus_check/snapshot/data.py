"""Typed in-memory form of a snapshot directory (see docs/SNAPSHOT.md).

Pure data with small lookups; no I/O here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

FORMAT = "multus-check/snapshot/v1"

#: What a collector writes instead of a credential-bearing file's content.
REDACTED_MARKER = "# multus-check: REDACTED (file present on the host; credentials never leave the node)\n"

#: Every reason the loader records for a part it could not use carries IN_SNAPSHOT, and one about file
#: modes carries PERMISSION, so a check's advice can match the cause (fix the file, or make it readable).
IN_SNAPSHOT = "(in the snapshot)"
PERMISSION = "permission denied reading"

#: The API resources a snapshot may hold, by section key suffix (`cluster/<resource>`) and kind.
CLUSTER_RESOURCES: Mapping[str, str] = {
    "nodes": "Node",
    "daemonsets": "DaemonSet",
    "configmaps": "ConfigMap",
    "services": "Service",
    "servicecidrs": "ServiceCIDR",
    "events": "Event",
    "pods": "Pod",
    "network-attachment-definitions": "NetworkAttachmentDefinition",
    "customresourcedefinitions": "CustomResourceDefinition",
}
KIND_TO_RESOURCE: Mapping[str, str] = {kind: res for res, kind in CLUSTER_RESOURCES.items()}


class SectionState(enum.Enum):
    """Whether a part of the snapshot was read, and if not, why."""

    OK = "ok"
    FORBIDDEN = "forbidden"  # RBAC denied the read
    FAILED = "failed"  # the read was attempted and failed (API error, collector pod failed, parse error)
    NOT_COLLECTED = "not-collected"  # nobody tried (absent from a hand-made snapshot, --no-node-facts)
    UNSUPPORTED = "unsupported"  # the API kind does not exist on this server (e.g. no ServiceCIDR API)

    @property
    def readable(self) -> bool:
        """True when the data in the section can be trusted as complete (also when empty)."""
        return self in (SectionState.OK, SectionState.UNSUPPORTED)


@dataclass(frozen=True)
class Section:
    state: SectionState
    detail: str = ""
    #: the next step when the section cannot be used and the generic one for its state would mislead
    #: (a snapshot file that failed to parse, or that this user may not read); not written to snapshot.json
    advice: str = field(default="", compare=False)

    def to_dict(self) -> dict[str, str]:
        out = {"state": self.state.value}
        if self.detail:
            out["detail"] = self.detail
        return out


_DIR_TYPES = frozenset({"file", "dir", "socket", "symlink", "other"})


@dataclass(frozen=True)
class DirEntry:
    """One entry of a host directory listing."""

    name: str
    type: str  # file | dir | socket | symlink | other
    target: str | None = None  # symlinks only
    live: bool | None = None  # sockets only: did connect() succeed (None = not tried)
    #: CNI plugin binaries only: what the plugin says about itself when run without CNI_COMMAND
    #: ("CNI macvlan plugin v1.6.2" -> "v1.6.2") and the CNI spec versions it accepts
    version: str | None = None
    cni_versions: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.target is not None:
            out["target"] = self.target
        if self.live is not None:
            out["live"] = self.live
        if self.version is not None:
            out["version"] = self.version
        if self.cni_versions is not None:
            out["cniVersions"] = list(self.cni_versions)
        return out

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> DirEntry:
        """An entry as dirs.json (or the collector's output) holds it; unknown types read as `other`."""
        kind = str(item.get("type", "file"))
        versions = item.get("cniVersions")
        return cls(
            name=str(item.get("name", "")),
            type=kind if kind in _DIR_TYPES else "other",
            target=item.get("target") if isinstance(item.get("target"), str) else None,
            live=item.get("live") if isinstance(item.get("live"), bool) else None,
            version=item.get("version") if isinstance(item.get("version"), str) else None,
            cni_versions=tuple(str(v) for v in versions) if isinstance(versions, list) else None,
        )


@dataclass
class NodeFacts:
    """What a collector saw on one node's host.

    `files` maps absolute host paths to their text. `dirs` maps absolute host paths to their
    listing, or to None when the directory does not exist on the host; a path missing from
    `dirs` was not looked at. `ip_addr`/`ip_route` are `ip -j` output, None when not collected.
    """

    name: str
    files: dict[str, str] = field(default_factory=dict)
    dirs: dict[str, list[DirEntry] | None] = field(default_factory=dict)
    ip_addr: list[dict[str, Any]] | None = None
    ip_route: list[dict[str, Any]] | None = None
    #: parts that were present but could not be read: "dirs.json", "ip-addr.json",
    #: "ip-route.json" or a host file path, mapped to the reason.
    unreadable: dict[str, str] = field(default_factory=dict)

    def listing(self, path: str) -> list[DirEntry] | None:
        """The listing of `path`; raises KeyError when it was not collected."""
        return self.dirs[_norm(path)]

    def has_listing(self, path: str) -> bool:
        return _norm(path) in self.dirs

    def entry(self, path: str) -> DirEntry | None:
        """The entry for a host path from its parent's listing; KeyError when not collected."""
        parent, _, name = _norm(path).rpartition("/")
        listing = self.listing(parent or "/")
        if listing is None:
            return None
        return next((e for e in listing if e.name == name), None)

    def file(self, path: str) -> str | None:
        return self.files.get(_norm(path))


def _norm(path: str) -> str:
    """Absolute host path without trailing slash (fast path for already-clean paths)."""
    if path.startswith("/") and not path.endswith("/") and "//" not in path and "/." not in path:
        return path
    text = str(PurePosixPath("/") / path.strip())
    return text.rstrip("/") or "/"


@dataclass
class Snapshot:
    """A whole snapshot: metadata, section states, API objects and node facts."""

    format: str = FORMAT
    collected_at: str = ""
    source: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, Section] = field(default_factory=dict)
    objects: list[dict[str, Any]] = field(default_factory=list)
    nodes: dict[str, NodeFacts] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    _by_kind: dict[str, list[dict[str, Any]]] | None = field(default=None, repr=False, compare=False)
    #: derived views computed once per snapshot by the domain layer (see domain/cluster.py)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def invalidate(self) -> None:
        """Forget derived indexes and views after the objects or node facts were changed in place."""
        self._by_kind = None
        self.cache.clear()

    def section(self, key: str) -> Section:
        """State of a section; `cluster/<resource>` falls back to `cluster`."""
        if key in self.sections:
            return self.sections[key]
        if key.startswith("cluster/") and "cluster" in self.sections:
            return self.sections["cluster"]
        return Section(SectionState.NOT_COLLECTED, f"{key} is not in the snapshot")

    def resource_section(self, resource: str) -> Section:
        return self.section(f"cluster/{resource}")

    def node_section(self, node: str) -> Section:
        return self.section(f"node/{node}")

    def kind(self, kind: str) -> list[dict[str, Any]]:
        """All objects of a kind, in snapshot order."""
        if self._by_kind is None:
            index: dict[str, list[dict[str, Any]]] = {}
            for obj in self.objects:
                index.setdefault(str(obj.get("kind", "")), []).append(obj)
            self._by_kind = index
        return self._by_kind.get(kind, [])

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        if kind == "Node":
            return self._nodes_by_name().get(name)
        for obj in self.kind(kind):
            meta = obj.get("metadata") or {}
            if meta.get("name") == name and (namespace is None or meta.get("namespace") == namespace):
                return obj
        return None

    def _nodes_by_name(self) -> dict[str, dict[str, Any]]:
        key = "_nodes_by_name"
        if key not in self.cache:
            self.cache[key] = {str((n.get("metadata") or {}).get("name", "")): n for n in self.kind("Node")}
        index: dict[str, dict[str, Any]] = self.cache[key]
        return index

    def node_names(self) -> list[str]:
        """Nodes known from the API, else from node facts."""
        names = [str((n.get("metadata") or {}).get("name", "")) for n in self.kind("Node")]
        names = [n for n in names if n]
        return names or sorted(self.nodes)

    def iter_nodes(self) -> Iterator[tuple[str, NodeFacts | None]]:
        for name in self.node_names():
            yield name, self.nodes.get(name)
