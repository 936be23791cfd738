"""Collection benchmark against the API emulator: 10, 100 and 500 nodes.

For each size it runs a live collection twice against an emulated cluster (the healthy
example with its worker multiplied, see tests/api/scale.py): API objects only
(--no-node-facts), then with node facts, where the fake kubelet holds each collector pod for
JOB_SECONDS (1 s) before it finishes. It prints API requests (split into the fixed listing
part and the per-node part), collector pods, and wall time.

Targets (issue 3): the listing needs the same number of requests at every size; with 1 s
pods, 100 nodes take under 5 s (default --concurrency).

    .venv/bin/python bench/bench_collect.py [--sizes 10,100,500] [--job-seconds 1]
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from multus_check.collect.live.options import DEFAULT_CONCURRENCY
from tests.api.scale import sized_cluster

PER_NODE = re.compile(r"^(POST /api/v1/namespaces/[^/]+/pods|GET /api/v1/namespaces/[^/]+/pods/[^/]+/log)$")
POLL = "GET /api/v1/namespaces/multus-check/pods"


def measure(size: int, node_facts: bool, job_seconds: float, concurrency: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, sized_cluster(size, Path(tmp), job_seconds=job_seconds) as sc:
        started = time.monotonic()
        snap = sc.collect(node_facts=node_facts, concurrency=concurrency, poll_interval=0.25, timeout=60.0)
        wall = time.monotonic() - started
        calls = [f"{m} {p}" for m, p, _ in sc.emulator.calls]
    per_node = sum(1 for c in calls if PER_NODE.match(c))
    polls = calls.count(POLL)
    return {"requests": len(calls), "fixed": len(calls) - per_node - polls, "per_node": per_node, "polls": polls,
            "pods": len(sc.kubelet.started), "facts": len(snap.nodes), "wall": wall}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10,100,500")
    p.add_argument("--job-seconds", type=float, default=1.0)
    p.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    args = p.parse_args()
    logging.disable(logging.WARNING)
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"collection benchmark: fake kubelet {args.job_seconds:g} s per pod, --concurrency {args.concurrency}")
    print(f"{'nodes':>6} {'mode':<11} {'requests':>8} {'listing':>7} {'per-node':>8} {'polls':>5} "
          f"{'pods':>5} {'facts':>5} {'wall s':>7}")
    listing: set[float] = set()
    for size in sizes:
        for node_facts in (False, True):
            r = measure(size, node_facts, args.job_seconds, args.concurrency)
            listing.add(r["fixed"]) if not node_facts else None
            mode = "node-facts" if node_facts else "api-only"
            print(f"{size:>6} {mode:<11} {r['requests']:>8.0f} {r['fixed']:>7.0f} {r['per_node']:>8.0f} {r['polls']:>5.0f} "
                  f"{r['pods']:>5.0f} {r['facts']:>5.0f} {r['wall']:>7.2f}")
    print("listing requests identical at every size:", "yes" if len(listing) == 1 else f"NO {sorted(listing)}")
    return 0 if len(listing) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
