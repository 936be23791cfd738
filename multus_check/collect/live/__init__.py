"""Live collection: read a cluster through its API and its nodes' collector pods into a Snapshot.

`collect(LiveOptions, run_id=...)` is the entry point (collect/live/session.py), imported on first
use, so that the command line can build `LiveOptions` and `multus-check --help` and offline runs
stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from multus_check.collect.live.options import LiveOptions

if TYPE_CHECKING:
    from multus_check.collect.live.session import collect

__all__ = ["LiveOptions", "collect"]


def __getattr__(name: str) -> Any:
    if name == "collect":
        from multus_check.collect.live import session

        return session.collect
    raise AttributeError(name)
