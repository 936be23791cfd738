"""e2e benchmark: a sample pod whose sandbox fails -> the e2e.attach finding, on the API emulator.

Run: `python bench/bench_sandbox_failure.py [--runs 3] [--poll 0.25]`. No root, no lab: the fake
kubelet of tests/e2e/sandbox.py fails the sandbox 0.8 s after the pod appears (as Multus v4.2.3
without update on pods/status did; also 1.1 s, just after the runner's first event read, the
worst phase for its once-a-second event reads) and keeps retrying it. Prints, per run, the
seconds from the first FailedCreatePodSandBox event to the findings (target: a couple of
seconds, never the --e2e-timeout of 60 s) and the whole run. Touches nothing but the emulator on
127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from multus_check.checks import e2e as ids
from tests.e2e.sandbox import TIMEOUT, failing_run, multus_forbidden, not_catalogued


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--poll", type=float, default=0.25, help="the runner's pod poll interval (CLI default 0.25)")
    a = ap.parse_args()
    sys.stdout.write("case            ADD fails  run  event->finding  whole run  verdict   "
                     f"(--e2e-timeout {TIMEOUT:g} s)\n")
    for label, error in (("F38 forbidden", multus_forbidden), ("not catalogued", not_catalogued)):
        for add in (0.8, 1.1):
            lags = []
            for run in range(1, a.runs + 1):
                with tempfile.TemporaryDirectory(prefix="bench-sandbox") as workdir:
                    out = failing_run(Path(workdir), error, poll_interval=a.poll, add_seconds=add)
                lags.append(out.lag())
                sys.stdout.write(f"{label:15} {add:7.1f} s  {run:3}  {out.lag():12.2f} s  "
                                 f"{out.returned - out.started:7.2f} s  {out.findings[ids.ATTACH].status.value}\n")
                sys.stdout.flush()
            sys.stdout.write(f"{label:15} {add:7.1f} s  median {statistics.median(lags):.2f} s, max {max(lags):.2f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
