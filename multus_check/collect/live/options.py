"""The options of a live collection, typed, and their defaults (the command line's `live cluster` group).

Kept apart from session.py so that the command line can declare and build them without importing
the collector. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from multus_check.kube.connect import DEFAULT_NAMESPACE, ClusterTarget

#: python:3.12 on Alpine 3.21 (about 20 MB compressed), pinned to a patch release. Pin by digest
#: with --collector-image for immutability; docs/COLLECTION.md says how to mirror it.
DEFAULT_COLLECTOR_IMAGE = "docker.io/library/python:3.12.8-alpine3.21"
DEFAULT_CONCURRENCY = 64
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class LiveOptions:
    """How a live collection reads the cluster (the command line's `live cluster` options, typed)."""

    cluster: ClusterTarget = field(default_factory=ClusterTarget)
    namespace: str = DEFAULT_NAMESPACE
    collector_image: str = DEFAULT_COLLECTOR_IMAGE
    node_facts: bool = True
    keep: bool = False
    #: where the Service CIDR dry-run probe may run; None: the run's namespace with node facts, no probe without
    cidr_probe_namespace: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    timeout: float = DEFAULT_TIMEOUT
    progress: bool | None = None  # None: decide from the terminal

    @property
    def probe_namespace(self) -> str | None:
        """Where the Service CIDR dry-run probe runs: never without node facts unless asked (read-only)."""
        return self.cidr_probe_namespace or (self.namespace if self.node_facts else None)
