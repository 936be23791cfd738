"""Fix benchmark against the API emulator: requests and time per fix, apply and undo.

For each broken fixture it diagnoses (live collection through the fake kubelet), plans, applies
(server-side dry run, journal, writes with preconditions), verifies (a second collection) and
undoes. It prints the fix's own API requests, split into dry runs, reads and real writes
(the collections' requests are not counted), and the wall time of apply+verify and of undo.

    .venv/bin/python bench/bench_fix.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from multus_check.fixes.journal import Journal
from multus_check.fixes.undo import undo
from multus_check.pipeline.fix_run import execute
from tests.api.scenario import FIXTURES
from tests.fixes.world import world

CASES = [
    ("flannel-service-routes", "cidr-service-routing"),
    ("nad-repair", "nad-config-invalid"),
    ("install-cni-plugins", "plugins-missing"),
    ("install-multus", "multus-missing"),
    ("multus-nesting", "multus-nested-delegates"),
    ("multus-k3s-kubeconfig", "multus-kubeconfig-missing"),
    ("nad-ipv6-ready", "nad-ipv6-not-ready"),
]


def _fix_requests(counter: dict[str, int]) -> int:
    return sum(counter.values())


def measure(fix_id: str, fixture: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp, world(FIXTURES / fixture, Path(tmp)) as w:
        snap, findings = w.diagnose()
        plans = [p for p in w.plans(snap, findings) if p.fix_id == fix_id]
        w.gateway.requests.clear()
        started = time.monotonic()
        run = execute(plans, w.writer, snap, Path(tmp) / "report", "bench", w.collect)
        apply_s = time.monotonic() - started
        apply_requests = dict(w.gateway.requests)
        dry, real = len(w.fix_writes(dry_run=True)), len(w.fix_writes(dry_run=False))
        w.gateway.requests.clear()
        started = time.monotonic()
        outcome = undo(Journal.load(run.journal.path), w.writer)
        undo_s = time.monotonic() - started
        return {"fix": fix_id, "changes": sum(len(p.changes) for p in plans), "apply_requests": _fix_requests(apply_requests),
                "dry_runs": dry, "writes": real, "undo_requests": _fix_requests(dict(w.gateway.requests)),
                "apply_verify_s": apply_s, "undo_s": undo_s, "ok": run.outcome.ok and outcome.ok,
                "verified": ",".join(f"{k}={v}" for k, v in run.repaired.items())}


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    print(f"{'fix':24} {'changes':>7} {'requests':>8} {'dry':>4} {'writes':>6} {'undo req':>8} {'apply+verify':>12} "
          f"{'undo':>6}  verified")
    for fix_id, fixture in CASES:
        r = measure(fix_id, fixture)
        print(f"{r['fix']:24} {r['changes']:>7} {r['apply_requests']:>8} {r['dry_runs']:>4} {r['writes']:>6} "
              f"{r['undo_requests']:>8} {r['apply_verify_s']:>11.2f}s {r['undo_s']:>5.2f}s  {r['verified']}"
              + ("" if r["ok"] else "  FAILED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
