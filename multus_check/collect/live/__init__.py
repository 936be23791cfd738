"""Live collection: read a cluster through its API and its nodes' collector pods into a Snapshot.

Integration points for cli.py: `add_live_arguments(parser)` and `collect_cluster(args)`.
The kubernetes client is imported only when collection starts (lazy attributes below), so that
`multus-check --help` and offline runs stay fast.
"""

from __future__ import annotations

from typing import Any

from multus_check.collect.live.options import add_live_arguments

__all__ = ["add_live_arguments", "collect", "collect_cluster"]


def __getattr__(name: str) -> Any:
    if name in ("collect", "collect_cluster"):
        from multus_check.collect.live import session

        return getattr(session, name)
    raise AttributeError(name)
