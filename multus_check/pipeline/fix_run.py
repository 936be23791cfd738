"""`multus-check --fix`: plan, show the plan as a diff, confirm, apply, collect again, verify (the main run calls it).

Without a terminal and without `--yes` only the plan is printed (fixes/prompt.py asks on a terminal).
A snapshot directory can be planned against but never fixed. Before asking or applying, the
permissions the plan needs are checked by review; missing ones stop the run (exit 2) before any dry
run, naming them (fixes/permissions.py). The journal goes to the run's report directory, from where
`multus-check undo RUN_ID` reverts everything. Manual steps are printed, never applied.

Verification re-runs the static checks, through the one engine, on a fresh collection: the checks
each fix meant to repair must now pass, and no check that passed before may fail afterwards (a
widened flannel Network, for instance, must not make cidr.supernet-safety fail). "Could not look" is
never "verified": a re-collection that fails, a repaired check that now says `error` (could not
evaluate) or gives no verdict at all leaves the run unverified, and only a check that still fails or
warns waits for a rollout as `pending`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from multus_check import signals
from multus_check.checks.base import worst
from multus_check.checks.engine import run_checks
from multus_check.errors import MultusCheckError, Terminated, UsageError
from multus_check.files import report_dir as run_report_dir
from multus_check.fixes.apply import ApplyOutcome, apply
from multus_check.fixes.journal import Journal, interruption_note
from multus_check.fixes.plan import Plan
from multus_check.fixes.prompt import Answer, ask
from multus_check.kube.writes import Writer
from multus_check.model import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Finding, Status, now_iso
from multus_check.pipeline.options import AnalysisOptions
from multus_check.report.results import Results
from multus_check.snapshot.data import Snapshot

log = logging.getLogger(__name__)


def run_fix(opts: AnalysisOptions, snapshot: Snapshot, results: Results, out: TextIO | None = None,
            recollect: Callable[[], Snapshot] | None = None, writer: Writer | None = None, stdin: TextIO | None = None) -> int:
    """The fix flow after a diagnosis; `recollect`, `writer` and `stdin` are injectable for tests."""
    from multus_check.fixes.plan import PlanContext
    from multus_check.fixes.registry import fix_ids, plan_all
    from multus_check.fixes.render import render_plan

    out = out or sys.stdout
    only = opts.fix.chosen
    if only and only - fix_ids():
        raise UsageError(f"unknown fix {', '.join(sorted(only - fix_ids()))}; available: {', '.join(sorted(fix_ids()))}")
    plans = plan_all(snapshot, list(results.findings), PlanContext(now=now_iso(), options=opts.fix.variant_map), only)
    out.write(render_plan(plans))
    actionable = [p for p in plans if p.changes and p.refused is None]
    if not actionable:
        manual = any(p.manual for p in plans)
        out.write("No change to apply" + (": the manual steps above are yours to do.\n" if manual else ".\n"))
        return _diagnosis_code(opts, results)
    if opts.snapshot is not None:
        out.write("Plan only: a snapshot directory cannot be fixed; run multus-check --fix against the cluster.\n")
        return _diagnosis_code(opts, results)
    if opts.fix.yes or (stdin or sys.stdin).isatty():  # about to ask or apply: first the permissions it needs
        from multus_check.fixes.permissions import require_for_plans

        require_for_plans(opts.cluster, actionable, writer)
    if not opts.fix.yes:
        answer = ask(out, stdin)
        if answer is Answer.INTERRUPTED:
            return EXIT_INTERRUPTED
        if answer is not Answer.YES:
            return _diagnosis_code(opts, results)
    return _apply(opts, snapshot, results, actionable, out, recollect, writer)


def _diagnosis_code(opts: AnalysisOptions, results: Results) -> int:
    """Nothing was applied: the exit code is the diagnosis's own."""
    return EXIT_OK if opts.report.exit_zero else results.exit_code(opts.report.fail_on)


def _apply(opts: AnalysisOptions, snapshot: Snapshot, results: Results, plans: list[Plan], out: TextIO,
           recollect: Callable[[], Snapshot] | None, writer: Writer | None) -> int:
    gateway = None
    if writer is None:
        from multus_check.kube.connect import connect

        gateway = connect(opts.cluster)
        writer = Writer(gateway)
    if recollect is None:
        recollect = _recollect(opts, results.run_id)
    report_dir = run_report_dir(opts.report.report_dir, results.run_id)
    _private_report_dir(report_dir, opts.report.output)
    try:
        run = execute(plans, writer, snapshot, report_dir, results.run_id, recollect)
    except (KeyboardInterrupt, Terminated):  # the one final line: what was changed or sent, where the journal is
        signals.report(interruption_note(report_dir))
        raise
    finally:
        if gateway is not None:
            gateway.close()
    out.write(render_run(run, results.run_id))
    if not run.outcome.ok:
        return EXIT_USAGE
    if run.verified:
        return EXIT_OK
    failed = bool(run.regressions) or any(s in ("fail", "warn", "skip") for s in run.repaired.values())
    could_not_look = run.recheck_problem is not None or any(s in ("error", "not evaluated") for s in run.repaired.values())
    return EXIT_INCOMPLETE if could_not_look and not failed else EXIT_FAILED


def _recollect(opts: AnalysisOptions, run_id: str) -> Callable[[], Snapshot]:
    """The same run's second collection; its pods must not meet the first one's, still terminating, by name."""
    def again() -> Snapshot:
        from multus_check.collect.live import collect

        return collect(opts.live, run_id=f"{run_id}-recheck")

    return again


def _private_report_dir(report_dir: Path, output: str | None) -> None:
    """The journal about to go there holds credentials: make the run's report directory 0700
    (this run's --output file there does not make it someone else's directory)."""
    from multus_check.fixes.journal import private_dir

    own = [Path(output).name] if output and Path(output).resolve().parent == report_dir.resolve() else []
    try:
        private_dir(report_dir, own)
    except OSError as exc:
        raise UsageError(f"cannot prepare the report directory {report_dir}: {exc.strerror}") from exc


def render_run(run: FixRun, run_id: str) -> str:
    lines = [f"journal: {run.journal.path}"]
    if run.outcome.stopped:
        lines.append(f"STOPPED: {run.outcome.stopped}")
        if run.outcome.rolled_back is not None:
            rb = run.outcome.rolled_back
            lines.append(f"rolled back: {', '.join(rb.restored + rb.deleted) or 'nothing'}")
            lines += [f"nothing to roll back: {ref}" for ref in rb.unchanged]
            lines += [f"ROLLBACK PROBLEM: {p}" for p in rb.problems]
        return "\n".join(lines) + "\n"
    lines.append("applied: " + (", ".join(run.outcome.applied) or "nothing"))
    if run.outcome.skipped:
        lines.append("left alone (already existed, not the fix's to undo): " + ", ".join(run.outcome.skipped))
    if run.recheck_problem:
        lines.append(f"NOT VERIFIED: {run.recheck_problem}")
    for cid, status in run.repaired.items():
        lines.append(f"verified {cid}: {status}" + (f" ({run.pending[cid]})" if cid in run.pending else ""))
    lines += [f"REGRESSION: {cid} passed before the fix and does not now" for cid in run.regressions]
    if run.outcome.applied:
        lines += [f"next: {step}" for step in run.next_steps]
        lines.append(f"undo with: multus-check undo {run_id}")
    return "\n".join(lines) + "\n"


def static_findings(snap: Snapshot) -> list[Finding]:
    """Every static check on a snapshot through the one engine (crash guard included), without pytest:
    verification needs only the verdicts."""
    return run_checks(snap)


def statuses(findings: list[Finding]) -> dict[str, Status]:
    by_check: dict[str, list[Status]] = {}
    for f in findings:
        by_check.setdefault(f.check, []).append(f.status)
    return {cid: worst(s) for cid, s in by_check.items()}


@dataclass
class FixRun:
    journal: Journal
    outcome: ApplyOutcome
    repaired: dict[str, str] = field(default_factory=dict)  # check id -> status after the fix, or "pending"
    pending: dict[str, str] = field(default_factory=dict)  # check id -> what must happen first
    regressions: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)  # the applied plans' `after_apply`
    #: why the checks could not be run again after the fix (the collection failed), if they could not
    recheck_problem: str | None = None
    checked: bool = False  # the checks ran again on a fresh collection

    @property
    def verified(self) -> bool:
        """Applied, checked again, nothing regressed, and every repaired check passes (or waits for a rollout)."""
        return (self.outcome.ok and self.checked and self.recheck_problem is None and not self.regressions
                and all(s in ("pass", "pending") for s in self.repaired.values()))


def execute(plans: list[Plan], writer: Writer, before: Snapshot, report_dir: Path, run_id: str,
            recollect: Callable[[], Snapshot]) -> FixRun:
    journal = Journal.create(report_dir, run_id)
    outcome = apply(plans, writer, journal)
    run = FixRun(journal, outcome)
    run.next_steps = [step for p in plans if p.changes and p.refused is None for step in p.after_apply]
    if not outcome.ok or not outcome.applied:
        return run
    old = statuses(static_findings(before))
    try:
        again = recollect()
    except MultusCheckError as exc:
        run.recheck_problem = f"collecting again after the fix failed, so nothing is verified: {exc}"
        journal.verified = {"problem": run.recheck_problem}
        journal.save()
        log.info("fix run %s: %s", run_id, run.recheck_problem)
        return run
    new = statuses(static_findings(again))
    run.checked = True
    for plan in plans:
        if plan.changes and plan.refused is None:
            for cid in sorted(plan.repairs):
                if cid not in new:
                    if old.get(cid) in (Status.FAIL, Status.WARN):
                        run.repaired[cid] = "not evaluated"  # failed before, and no verdict now
                    continue
                run.repaired[cid] = new[cid].value
                if new[cid] in (Status.FAIL, Status.WARN) and plan.pending:
                    run.repaired[cid], run.pending[cid] = "pending", plan.pending
    run.regressions = sorted(cid for cid, s in new.items()
                             if old.get(cid) is Status.PASS and s in (Status.FAIL, Status.ERROR))
    journal.verified = {"repaired": run.repaired, "pending": run.pending, "regressions": run.regressions}
    journal.save()
    log.info("fix run %s verified: %s", run_id, run.verified)
    return run
