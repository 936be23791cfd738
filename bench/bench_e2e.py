"""e2e benchmark: sample pod created -> verdicts, on the API emulator + netns lab (root).

Run: `python bench/bench_e2e.py [--runs 2]`. Measures one node, and `--all-nodes` on 3
simulated nodes (three Node objects whose pods all attach to the one lab LAN, in parallel).
Everything happens inside the lab's namespaces (mcl-bench-e2e*), removed also on failure.
Targets: < 10 s for 1 node, < 15 s for 3 nodes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from multus_check.checks.e2e import PER_POD_CHECKS
from multus_check.lab import daemons
from multus_check.lab import lifecycle as lab
from multus_check.model import Status
from tests.e2e.world import e2e_world

NAME = "bench-e2e"


def one(state: lab.config.LabState, nodes: list[str], *argv: str) -> tuple[float, str]:
    with e2e_world(state, Path(tempfile.mkdtemp(prefix="bench-e2e")), nodes=nodes) as world:
        t0 = time.monotonic()
        findings = world.run(*argv)
        seconds = time.monotonic() - t0
    verdicts = sorted({f.status.value for f in findings})
    # e2e.pod-multicast is skipped with one node (it needs two) and must pass with three
    expected = Status.PASS if len(nodes) > 1 else Status.SKIP
    ok = (all(f.status is (expected if f.check == "e2e.pod-multicast" else Status.PASS) for f in findings)
          and len(findings) == len(PER_POD_CHECKS) * len(nodes) + 1)
    return seconds, ("all pass" if ok else f"NOT all pass: {verdicts}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    missing = daemons.missing_prerequisites()
    if missing:
        sys.stderr.write("bench_e2e needs: " + "; ".join(missing) + "\n")
        return 2
    lab.down(NAME)
    state = lab.up(NAME).state
    try:
        sys.stdout.write("case                  run  seconds  verdicts   (target)\n")
        for run in range(1, a.runs + 1):
            for label, nodes, argv, target in (("1 node", ["lab-node-1"], (), 10.0),
                                               ("--all-nodes, 3 nodes", ["lab-node-1", "lab-node-2", "lab-node-3"],
                                                ("--all-nodes",), 15.0)):
                seconds, verdict = one(state, nodes, *argv)
                sys.stdout.write(f"{label:21} {run:3}  {seconds:7.2f}  {verdict}   (< {target:g} s)\n")
                sys.stdout.flush()
    finally:
        lab.down(NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
