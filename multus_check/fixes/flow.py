"""`multus-check --fix`: diagnose, show the plan as a diff, confirm, apply, verify (cli.py calls this).

Without a terminal and without `--yes` only the plan is printed. On a terminal the answer is read
from standard input: only `y`/`yes` applies; `n`, an empty line, end of input (Ctrl-D) and Ctrl-C
apply nothing, each with a message (Ctrl-C exits 130, like an interrupt anywhere else). A snapshot
directory can be planned against but never fixed. Before asking or applying, the permissions the
plan needs are checked by review; missing ones stop the run (exit 2) before any dry run, naming
them (permissions.py). The journal goes to the run's report directory, from where
`multus-check undo RUN_ID` reverts everything. Manual steps are printed, never applied.
"""

from __future__ import annotations

import argparse
import enum
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from multus_check import signals
from multus_check.errors import Terminated, UsageError
from multus_check.report.results import EXIT_FAILED, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, now_iso

#: the exit code of an interrupted run (cli.py uses it for Ctrl-C anywhere else too)
EXIT_INTERRUPTED = 130

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
            recollect: Any = None, writer: Any = None, stdin: TextIO | None = None) -> int:
    """The fix flow after a diagnosis; `recollect`, `writer` and `stdin` are injectable for tests."""
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
        manual = any(p.manual for p in plans)
        out.write("No change to apply" + (": the manual steps above are yours to do.\n" if manual else ".\n"))
        return _diagnosis_code(args, results)
    if getattr(args, "snapshot", None):
        out.write("Plan only: a snapshot directory cannot be fixed; run multus-check --fix against the cluster.\n")
        return _diagnosis_code(args, results)
    if args.yes or (stdin or sys.stdin).isatty():  # about to ask or apply: first the permissions it needs
        from multus_check.fixes.permissions import require_for_plans

        require_for_plans(args, actionable, writer)
    if not args.yes:
        answer = ask(out, stdin)
        if answer is Answer.INTERRUPTED:
            return EXIT_INTERRUPTED
        if answer is not Answer.YES:
            return _diagnosis_code(args, results)
    return _apply(args, snapshot, results, actionable, out, recollect, writer)


def _diagnosis_code(args: argparse.Namespace, results: Any) -> int:
    """Nothing was applied: the exit code is the diagnosis's own."""
    from multus_check.model import Severity

    if getattr(args, "exit_zero", False):
        return EXIT_OK
    code: int = results.exit_code(Severity(getattr(args, "fail_on", "info")))
    return code


class Answer(enum.Enum):
    YES = "yes"
    NO = "no"
    NOT_A_TERMINAL = "not a terminal"
    END_OF_INPUT = "end of input"
    INTERRUPTED = "interrupted"


def ask(out: TextIO, stdin: TextIO | None = None, question: str = "Apply these changes?") -> Answer:
    """Ask on a terminal; anything but y/yes, including Ctrl-D and Ctrl-C, applies nothing."""
    stdin = stdin or sys.stdin
    if not stdin.isatty():
        out.write("Not a terminal: plan only. Re-run with --fix --yes to apply it.\n")
        return Answer.NOT_A_TERMINAL
    try:
        out.write(f"{question} [y/N] ")
        out.flush()
        line = stdin.readline()
    except KeyboardInterrupt:
        out.write("\nInterrupted at the prompt: nothing was applied.\n")
        return Answer.INTERRUPTED
    if not line:
        out.write("\nNo answer (end of input): nothing was applied.\n")
        return Answer.END_OF_INPUT
    if line.strip().lower() in ("y", "yes"):
        return Answer.YES
    out.write("Not confirmed: nothing was applied.\n")
    return Answer.NO


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
    _private_report_dir(report_dir, getattr(args, "output", None))
    try:
        run = execute(plans, writer, snapshot, report_dir, results.run_id, recollect)
    except (KeyboardInterrupt, Terminated):  # the one final line: what was changed or sent, where the journal is
        from multus_check.fixes.journal import interruption_note

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
        lines.append(f"undo with: multus-check undo {run_id}")
    return "\n".join(lines) + "\n"
