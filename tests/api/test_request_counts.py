"""The number of API requests does not grow with the number of nodes (3 vs 300).

Reading the API costs the same at any size. Node facts cost exactly one pod create and one
log read per node, plus pod-state polls (one list per poll for all pods), whose number
depends on how long the pods take, not on how many there are.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.api.scale import sized_cluster

NODE_SCOPED = re.compile(r"^(POST /api/v1/namespaces/[^/]+/pods|GET /api/v1/namespaces/[^/]+/pods/[^/]+/log)$")
POLL = "GET /api/v1/namespaces/multus-check/pods"


def _requests(count: int, tmp_path: Path, node_facts: bool) -> tuple[list[str], int]:
    with sized_cluster(count, tmp_path / str(count)) as sc:
        snap = sc.collect(node_facts=node_facts, concurrency=400, poll_interval=0.05)
        calls = [f"{m} {p}" for m, p, _ in sc.emulator.calls]
        assert len(snap.nodes) == (count if node_facts else 0)
    return calls, int(snap.source["api_requests"])


def test_api_reads_cost_the_same_for_3_and_300_nodes(tmp_path: Path) -> None:
    small, small_count = _requests(3, tmp_path, node_facts=False)
    large, large_count = _requests(300, tmp_path, node_facts=False)
    assert sorted(small) == sorted(large)
    assert small_count == large_count == len(small)
    assert small_count <= 30


def test_node_facts_add_one_create_and_one_log_read_per_node_and_polls_stay_bounded(tmp_path: Path) -> None:
    small, _ = _requests(3, tmp_path, node_facts=True)
    large, _ = _requests(300, tmp_path, node_facts=True)
    for calls, n in ((small, 3), (large, 300)):
        per_node = [c for c in calls if NODE_SCOPED.match(c)]
        assert len(per_node) == 2 * n
    fixed_small = sorted(c for c in small if not NODE_SCOPED.match(c) and c != POLL)
    fixed_large = sorted(c for c in large if not NODE_SCOPED.match(c) and c != POLL)
    assert fixed_small == fixed_large
    assert large.count(POLL) < 100
