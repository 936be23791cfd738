"""`multus-check --fix`: diagnose, show the plan as a diff, confirm, apply, verify (cli.py calls this).

Without a terminal and without `--yes` only the plan is printed. A snapshot directory can be
planned against but never fixed. The journal goes to the run's report directory, from where
`multus-check undo RUN_ID` reverts everything.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from multus_check.errors import UsageError
from multus_check.report.results import EXIT_FAILED, EXIT_OK, EXIT_USAGE, now_iso

if TYPE_CHECKING:
    from multus_check.fixes.model import Plan
    from multus_check.fixes.verify import FixRun


def add_fix_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("fix")
    g.add_argument("--fix", action="store_true", help="plan repairs for failing checks, show them as a diff, apply on consent")
    g.add_argument("--yes", action="store_true", help="with --fix: apply without asking")
    g.add_argument("--fix-only", action="append", default=[], metavar="FIX",
                   help="with --fix: only this fix id, e.g. flannel-service-routes (repeatable)")
    g.add_argument("--fix-option", action="append", default=[], metavar="FIX=VALUE",
                   help="with --fix: choose a variant, e.g. multus-nesting=workaround (keep Multus v4.0.x)")


def run_fix(args: argparse.Namespace, snapshot: Any, results: Any, out: TextIO | None = None,
            recollect: Any = None, writer: Any = None) -> int:
    """The fix flow after a diagnosis; `recollect` and `writer` are injectable for tests."""
    from multus_check.fixes.model import PlanContext
    from multus_check.fixes.registry import fix_ids, plan_all
    from multus_check.fixes.render import render_plan

    out = out or sys.stdout
    only = frozenset(args.fix_only) if getattr(args, "fix_only", None) else None
    if only and only - fix_ids():
        raise UsageError(f"unknown fix {', '.join(sorted(only - fix_ids()))}; available: {', '.join(sorted(fix_ids()))}")
    options = dict(o.partition("=")[::2] for o in getattr(args, "fix_option", None) or [])
    plans = plan_all(snapshot, list(results.findings), PlanContext(now=now_iso(), options=options), only)
    out.write(render_plan(plans))
    actionable = [p for p in plans if p.changes and p.refused is None]
    if not actionable:
        out.write("No change to apply.\n")
        return _diagnosis_code(args, results)
    if getattr(args, "snapshot", None):
        out.write("Plan only: a snapshot directory cannot be fixed; run multus-check --fix against the cluster.\n")
        return _diagnosis_code(args, results)
    if not args.yes and not confirmed(out):
        return _diagnosis_code(args, results)
    return _apply(args, snapshot, results, actionable, out, recollect, writer)


def _diagnosis_code(args: argparse.Namespace, results: Any) -> int:
    """Nothing was applied: the exit code is the diagnosis's own."""
    from multus_check.model import Severity

    if getattr(args, "exit_zero", False):
        return EXIT_OK
    code: int = results.exit_code(Severity(getattr(args, "fail_on", "info")))
    return code


def confirmed(out: TextIO) -> bool:
    if not sys.stdin.isatty():
        out.write("Not a terminal: plan only. Re-run with --fix --yes to apply it.\n")
        return False
    out.write("Apply these changes? [y/N] ")
    out.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _apply(args: argparse.Namespace, snapshot: Any, results: Any, plans: list[Plan], out: TextIO,
           recollect: Any, writer: Any) -> int:
    from multus_check.fixes.verify import execute

    gateway = None
    if writer is None:
        from multus_check.kube import Gateway, load_target
        from multus_check.kube.writes import Writer

        gateway = Gateway(load_target(getattr(args, "kubeconfig", None), getattr(args, "context", None)))
        writer = Writer(gateway)
    if recollect is None:
        live = importlib.import_module("multus_check.collect.live")
        recollect = lambda: live.collect_cluster(args)  # noqa: E731
    report_dir = Path(args.report_dir or Path("reports") / results.run_id)
    try:
        run = execute(plans, writer, snapshot, report_dir, results.run_id, recollect)
    finally:
        if gateway is not None:
            gateway.close()
    out.write(render_run(run, results.run_id))
    if not run.outcome.ok:
        return EXIT_USAGE
    return EXIT_OK if run.verified else EXIT_FAILED


def render_run(run: FixRun, run_id: str) -> str:
    lines = [f"journal: {run.journal.path}"]
    if run.outcome.stopped:
        lines.append(f"STOPPED: {run.outcome.stopped}")
        if run.outcome.rolled_back is not None:
            rb = run.outcome.rolled_back
            lines.append(f"rolled back: {', '.join(rb.restored + rb.deleted) or 'nothing'}")
            lines += [f"ROLLBACK PROBLEM: {p}" for p in rb.problems]
        return "\n".join(lines) + "\n"
    lines.append("applied: " + ", ".join(run.outcome.applied))
    for cid, status in run.repaired.items():
        lines.append(f"verified {cid}: {status}" + (f" ({run.pending[cid]})" if cid in run.pending else ""))
    lines += [f"REGRESSION: {cid} passed before the fix and does not now" for cid in run.regressions]
    lines.append(f"undo with: multus-check undo {run_id}")
    return "\n".join(lines) + "\n"
