"""The main command's run: a snapshot (a directory, or the live cluster) → the static checks through pytest →
the sample pods → one results document → the reports and the exit code → `--fix` if asked.

One run id for everything the run makes: its report directory and results, its collector and sample
pods, its fix journal. The live collection and the sample pods touch the cluster (collect/live,
e2e/); everything else here is the order of the steps.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from multus_check.checks import registry
from multus_check.errors import UsageError
from multus_check.model import Finding, new_run_id
from multus_check.pipeline import suites, validate
from multus_check.pipeline.options import AnalysisOptions
from multus_check.report.output import emit
from multus_check.report.results import Results
from multus_check.snapshot.data import Snapshot


def run(opts: AnalysisOptions) -> int:
    validate.before_any_work(opts.selection, opts.report, opts.fix.only, opts.fix.variants)
    run_id = new_run_id()  # the one id of this run: its reports, its pods, its journal
    snap, source = load_or_collect(opts, run_id)
    static = suites.judge(snap, opts.selection)
    extra = _sample_pods(opts, snap, static.findings, run_id)
    titles = static.titles | {f.check: registry.get(f.check).title for f in extra}
    results = Results.build(static.findings + extra, source=source, checks=titles, run_id=run_id,
                            started_at=static.started_at, notes=[f"snapshot: {p}" for p in snap.problems])
    code = emit(results, opts.report)
    if opts.fix.enabled:
        from multus_check.pipeline.fix_run import run_fix

        return run_fix(opts, snap, results)
    return code


def _sample_pods(opts: AnalysisOptions, snap: Snapshot, static: list[Finding], run_id: str) -> list[Finding]:
    """The e2e findings; a snapshot directory has no cluster to run a pod on (imported only when live)."""
    if opts.e2e.offline:
        return []
    from multus_check.e2e.phase import run_e2e

    return run_e2e(opts.e2e, snap, list(static), run_id=run_id)


def load_or_collect(opts: AnalysisOptions, run_id: str) -> tuple[Snapshot, dict[str, Any]]:
    """The snapshot to judge, and a description of where it came from."""
    if opts.snapshot is not None:  # "" too: an unset $SNAP must not turn into a live run
        from multus_check.snapshot import load_snapshot

        snap = load_snapshot(opts.snapshot)
        return snap, {"kind": "snapshot", "path": str(Path(opts.snapshot).resolve()),
                      "description": f"snapshot {opts.snapshot}", "collected_at": snap.collected_at,
                      "snapshot_source": snap.source}
    try:
        live = importlib.import_module("multus_check.collect.live")
    except ModuleNotFoundError as exc:
        raise UsageError("live collection is not available in this build; pass --snapshot DIR") from exc
    snap = live.collect(opts.live, run_id=run_id)
    return snap, {"kind": "live", **snap.source}
