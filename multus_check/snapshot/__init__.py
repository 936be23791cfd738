"""The snapshot: everything multus-check knows about a cluster, as plain data.

`load_snapshot` reads a snapshot directory, `write_snapshot` writes one; both follow
docs/SNAPSHOT.md, a public format. Checks read a `Snapshot` and nothing else.
"""

from multus_check.snapshot.data import (
    CLUSTER_RESOURCES,
    FORMAT,
    REDACTED_MARKER,
    DirEntry,
    NodeFacts,
    Section,
    SectionState,
    Snapshot,
)
from multus_check.snapshot.load import load_snapshot
from multus_check.snapshot.write import write_snapshot

__all__ = [
    "CLUSTER_RESOURCES",
    "FORMAT",
    "REDACTED_MARKER",
    "DirEntry",
    "NodeFacts",
    "Section",
    "SectionState",
    "Snapshot",
    "load_snapshot",
    "write_snapshot",
]
