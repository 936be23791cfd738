"""`multus-check` (no subcommand): diagnose the cluster of the current kubeconfig context, or a snapshot
directory, with a verdict and a fix for every prerequisite; `--list` prints the check catalog.

Builds the main parser (every option group: analysis, fix, live cluster, sample pods) and hands the
typed options to pipeline/diagnosis.py.
"""

from __future__ import annotations

import argparse

from multus_check import __version__
from multus_check.commands import SUBCOMMANDS
from multus_check.commands.arguments import (
    add_analysis_arguments,
    add_e2e_arguments,
    add_fix_arguments,
    add_live_arguments,
    analysis_options,
)
from multus_check.model import EXIT_OK

HELP = "Diagnose a Multus + flannel + macvlan/DHCP cluster: every prerequisite, with a verdict and a fix."
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="multus-check",
        description=HELP,
        epilog="subcommands: " + ", ".join(SUBCOMMANDS) + " (multus-check SUBCOMMAND --help)\n\n" + EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # `node --probe mdns` must not be read as --probe-timeout
    )
    add_analysis_arguments(p)
    add_fix_arguments(p)
    p.add_argument("--list", action="store_true", help="list the check catalog and exit")
    p.add_argument("--version", action="version", version=f"multus-check {__version__}")
    add_live_arguments(p)
    add_e2e_arguments(p)
    return p


def list_catalog() -> str:
    from multus_check.checks import registry

    specs = registry.all_checks()
    width = max(len(s.id) for s in specs)
    lines = [f"{'ID'.ljust(width)}  {'KIND':6}  {'SEVERITY':8}  TITLE"]
    lines += [f"{s.id.ljust(width)}  {s.kind:6}  {s.severity.value:8}  {s.title}" for s in specs]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.list:
        from multus_check.report.output import write_stdout

        write_stdout(list_catalog() + "\n")
        return EXIT_OK
    from multus_check.pipeline import diagnosis

    return diagnosis.run(analysis_options(args))
