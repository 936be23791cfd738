"""`multus-check snapshot DIR`: collect the live cluster and write a snapshot directory.

For bug reports and offline analysis: `multus-check --snapshot DIR` later judges it with the
same checks. Exit 0 when everything was read, 3 when some part was forbidden or failed (the
directory is still written, and says which parts are missing), 2 when nothing could be done.
"""

from __future__ import annotations

import argparse
import sys

from multus_check.collect.live import collect
from multus_check.commands.arguments import add_live_arguments, live_options
from multus_check.errors import MultusCheckError
from multus_check.model import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE
from multus_check.snapshot import SectionState, write_snapshot
from multus_check.snapshot.write import check_target

HELP = "collect the live cluster (API objects and node facts) into a snapshot directory"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="where to write the snapshot (new or empty directory)")
    add_live_arguments(parser)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="-vv adds debug logs")


def run(args: argparse.Namespace) -> int:
    try:
        check_target(args.directory)  # before collecting: a cluster read for nothing helps no one
        snap = collect(live_options(args))
        path = write_snapshot(snap, args.directory)
    except MultusCheckError as exc:
        print(f"multus-check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    missing = {k: s for k, s in sorted(snap.sections.items())
               if s.state in (SectionState.FORBIDDEN, SectionState.FAILED)}
    print(f"snapshot written to {path}: {len(snap.objects)} API objects, node facts from "
          f"{len(snap.nodes)} of {len(snap.node_names())} nodes", file=sys.stderr)
    for key, section in missing.items():
        print(f"  {key}: {section.state.value}: {section.detail}", file=sys.stderr)
    print(f"judge it with: multus-check --snapshot {path}", file=sys.stderr)
    return EXIT_INCOMPLETE if missing else EXIT_OK
