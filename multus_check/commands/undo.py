"""`multus-check undo RUN_ID`: revert what `multus-check --fix` changed in that run, from its journal.

The permissions the revert needs are checked by review first; missing ones are named and nothing
is sent (exit 2). Entries whose write never got an answer (`pending`, `unknown`) are undone too,
when the object shows that the write took effect (fixes/undo.py). An undo that is interrupted can
simply be run again: what it already restored is recognised as such.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from multus_check.commands.arguments import add_cluster_arguments, cluster_target
from multus_check.files import REPORTS_ROOT
from multus_check.model import EXIT_FAILED, EXIT_OK

HELP = "Restore every object a `--fix` run changed, exactly as journaled, and delete what it created."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", metavar="RUN_ID", help="the run id printed by --fix (or a report directory / journal file)")
    parser.add_argument("--reports-root", default=str(REPORTS_ROOT), metavar="DIR",
                        help=f"where run report directories live (default: {REPORTS_ROOT})")
    parser.add_argument("--force", action="store_true", help="restore objects even if they changed after the fix")
    add_cluster_arguments(parser)
    parser.add_argument("-v", "--verbose", action="count", default=0)


def run(args: argparse.Namespace) -> int:
    from multus_check import signals
    from multus_check.errors import Terminated
    from multus_check.fixes.journal import UNDOABLE, Journal, find_journal
    from multus_check.fixes.permissions import for_undo, require
    from multus_check.fixes.undo import undo
    from multus_check.kube.connect import connect
    from multus_check.kube.writes import Writer

    journal = Journal.load(find_journal(args.run_id, Path(args.reports_root)))
    pending = [e for e in journal.entries if e.state in UNDOABLE]
    if not pending:
        print(f"Nothing to undo in run {journal.run_id}: no applied change is left in {journal.path}.")
        return EXIT_OK
    gateway = connect(cluster_target(args))
    try:
        require(gateway, for_undo(pending), f"undo run {journal.run_id}")
        outcome = undo(journal, Writer(gateway), force=args.force)
    except (KeyboardInterrupt, Terminated):
        signals.report(f"the undo was interrupted; run `multus-check undo {args.run_id}` again: it finishes what is "
                       "left and recognises what was already restored")
        raise
    finally:
        gateway.close()
    for ref in outcome.restored:
        print(f"restored {ref}")
    for ref in outcome.deleted:
        print(f"deleted {ref}")
    for ref in outcome.unchanged:
        print(f"nothing to undo: {ref}")
    for problem in outcome.problems:
        print(f"NOT UNDONE: {problem}", file=sys.stderr)
    return EXIT_OK if outcome.ok else EXIT_FAILED
