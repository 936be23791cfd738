"""The `multus-check` command line.

Parses options, picks where the snapshot comes from (a directory, or the live cluster), runs
the analysis and writes the reports. Heavy libraries (pytest, the kubernetes client, scapy)
are imported only on the paths that use them, so --help and --version answer at once.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from multus_check import __version__, signals
from multus_check.errors import MultusCheckError, Terminated, UsageError
from multus_check.model import EXIT_BROKEN_PIPE, EXIT_OK, EXIT_USAGE

#: subcommand name -> module with HELP, add_arguments(parser), run(args) -> int
SUBCOMMANDS: dict[str, str] = {
    "explain": "multus_check.commands.explain",
    "snapshot": "multus_check.commands.snapshot",
    "cleanup": "multus_check.commands.cleanup",
    "node": "multus_check.commands.node",
    "lab": "multus_check.commands.lab",
    "undo": "multus_check.commands.undo",
    "attach": "multus_check.commands.attach",
}

EXAMPLES = """\
examples:
  multus-check                                   diagnose the cluster of the current kubeconfig context
  multus-check --snapshot fixtures/snapshots/healthy-k3s
                                                 judge a snapshot directory offline
  multus-check --snapshot DIR --format junit --output junit.xml --fail-on high
                                                 gate CI on high and critical failures
  multus-check --check 'cidr.*' --skip cidr.supernet-safety
  multus-check --list                            the check catalog
  multus-check explain cidr.service-routing      what a check verifies and how to fix it
  multus-check snapshot DIR                      collect the cluster into a snapshot directory
  multus-check node --nad-config nad.json        probe this node's data path (root)
  multus-check lab run                           demo on a simulated LAN (root)

exit codes:
  0  no check failed          1  at least one check failed (at or above --fail-on)
  2  unusable invocation or input (bad flags, unreadable snapshot, cluster unreachable)
  3  nothing failed, but some checks could not be evaluated
  130, 143  interrupted by Ctrl-C, by SIGTERM (after removing what the run created)
"""


def _subcommand(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(SUBCOMMANDS[name])
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("multus_check.commands"):
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="multus-check",
        description="Diagnose a Multus + flannel + macvlan/DHCP cluster: every prerequisite, with a verdict and a fix.",
        epilog="subcommands: " + ", ".join(SUBCOMMANDS) + " (multus-check SUBCOMMAND --help)\n\n" + EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_analysis_arguments(p)
    from multus_check.fixes.flow import add_fix_arguments

    add_fix_arguments(p)
    p.add_argument("--list", action="store_true", help="list the check catalog and exit")
    p.add_argument("--version", action="version", version=f"multus-check {__version__}")
    return p


def add_analysis_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that judges findings (also used by `node`)."""
    p.add_argument("--snapshot", metavar="DIR", help="analyse a snapshot directory offline instead of the live cluster")
    p.add_argument("--format", choices=("table", "json", "junit", "markdown"), default="table",
                   help="report printed on stdout (default: table; colours only on a terminal)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--report-dir", metavar="DIR",
                   help="where results.json and junit.xml always go (default: reports/<run-id>/)")
    p.add_argument("--check", action="append", default=[], metavar="ID", help="run only matching checks (id or glob, repeatable)")
    p.add_argument("--skip", action="append", default=[], metavar="ID", help="skip matching checks (id or glob, repeatable)")
    p.add_argument("--fail-on", choices=("info", "low", "medium", "high", "critical"), default="info",
                   help="exit 1 only for failures of at least this severity (default: any failure)")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when checks fail or cannot be evaluated")
    p.add_argument("-v", "--verbose", action="count", default=0, help="show passing findings too; -vv adds debug logs")


def list_catalog() -> str:
    from multus_check.checks import registry

    specs = registry.all_checks()
    width = max(len(s.id) for s in specs)
    lines = [f"{'ID'.ljust(width)}  {'KIND':6}  {'SEVERITY':8}  TITLE"]
    lines += [f"{s.id.ljust(width)}  {s.kind:6}  {s.severity.value:8}  {s.title}" for s in specs]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with signals.handled():
            return _main(argv)
    except (KeyboardInterrupt, Terminated) as exc:  # Ctrl-C 130, SIGTERM 143: one line, cleanup already done
        code, line = signals.final_line(exc)
        print(line, file=sys.stderr)
        return code
    except MultusCheckError as exc:
        print(f"multus-check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _main(argv: list[str]) -> int:
    if argv and argv[0] in SUBCOMMANDS:
        return _run_subcommand(argv)
    parser = build_parser()
    _add_live_arguments(parser)
    importlib.import_module("multus_check.e2e.arguments").add_e2e_arguments(parser)
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    if args.list:
        importlib.import_module("multus_check.report.output").write_stdout(list_catalog() + "\n")
        return EXIT_OK
    return run_analysis(args)


def _run_subcommand(argv: list[str]) -> int:
    name = argv[0]
    module = _subcommand(name)
    if module is None:
        print(f"multus-check: error: the {name!r} command is not available in this build", file=sys.stderr)
        return EXIT_USAGE
    parser = argparse.ArgumentParser(prog=f"multus-check {name}", description=module.HELP)
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    _setup_logging(getattr(args, "verbose", 0))
    code: int = module.run(args)
    return code


def _add_live_arguments(parser: argparse.ArgumentParser) -> None:
    try:
        live = importlib.import_module("multus_check.collect.live")
    except ModuleNotFoundError:
        return
    add = getattr(live, "add_live_arguments", None)
    if add is not None:
        add(parser)


def _setup_logging(verbose: int) -> None:
    level = logging.DEBUG if verbose >= 2 else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def load_or_collect(args: argparse.Namespace, run_id: str) -> tuple[Any, dict[str, Any]]:
    """The snapshot to judge, and a description of where it came from."""
    if args.snapshot:
        from multus_check.snapshot import load_snapshot

        snap = load_snapshot(args.snapshot)
        return snap, {"kind": "snapshot", "path": str(Path(args.snapshot).resolve()),
                      "description": f"snapshot {args.snapshot}", "collected_at": snap.collected_at,
                      "snapshot_source": snap.source}
    try:
        live = importlib.import_module("multus_check.collect.live")
    except ModuleNotFoundError as exc:
        raise UsageError("live collection is not available in this build; pass --snapshot DIR") from exc
    snap = live.collect_cluster(args, run_id)
    return snap, {"kind": "live", **snap.source}


def run_analysis(args: argparse.Namespace) -> int:
    from multus_check.model import Severity, new_run_id
    from multus_check.run import analyse

    check_selection(args)
    importlib.import_module("multus_check.report.output").check_destinations(args)
    run_id = new_run_id()  # the one id of this run: its reports, its pods, its journal
    snap, source = load_or_collect(args, run_id)
    results = analyse(snap, include=args.check, exclude=args.skip, source=source, run_id=run_id)
    results = importlib.import_module("multus_check.e2e.options").with_e2e(results, args, snap)
    results.notes += [f"snapshot: {p}" for p in snap.problems]
    code = emit(results, args, Severity(args.fail_on))
    if getattr(args, "fix", False):
        from multus_check.fixes.flow import run_fix

        return run_fix(args, snap, results)
    return code


def emit(results: Any, args: argparse.Namespace, fail_on: Any) -> int:
    """Write the reports and return the exit code (multus_check.report.output)."""
    from multus_check.report.output import emit as emit_reports

    return emit_reports(results, args, fail_on)


def check_selection(args: argparse.Namespace) -> None:
    """Exit 2 before any work for a --check/--skip pattern that names no check, or an unknown fix or variant."""
    from multus_check.checks import registry

    for flag, patterns in (("--check", args.check), ("--skip", args.skip)):
        unknown = registry.unknown_patterns(patterns)
        if unknown:
            raise UsageError(f"no check matches {flag} {', '.join(unknown)}{registry.suggestion(unknown)}; "
                             "`multus-check --list` shows the ids")
    if not registry.select(args.check, args.skip):
        raise UsageError(f"no check matches --check {args.check} --skip {args.skip}; `multus-check --list` shows the ids")
    if getattr(args, "fix_only", None) or getattr(args, "fix_option", None):
        from multus_check.fixes.registry import check_fix_arguments

        check_fix_arguments(args.fix_only, args.fix_option)


def entrypoint() -> None:
    try:
        code = main()
    except BrokenPipeError:  # a reader of stdout went away while a command was still printing progress
        from multus_check.report.output import silence_stdout

        silence_stdout()
        code = EXIT_BROKEN_PIPE
    sys.exit(code)


if __name__ == "__main__":
    entrypoint()
