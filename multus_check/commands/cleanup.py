"""`multus-check cleanup`: remove what any earlier run left in the cluster.

Finds objects by the label every run sets (`app.kubernetes.io/managed-by=multus-check`):
namespaces the runs created are deleted whole; labelled pods and ConfigMaps in other
namespaces are deleted by label. Safe to run any time; it never touches unlabelled objects.
Exit 0 when everything could be checked (and what was found is removed); 3 when RBAC kept it
from looking somewhere or removing something, which it names; 2 when the cluster is unusable.
"""

from __future__ import annotations

import argparse
import sys

from multus_check.commands.arguments import add_cluster_arguments, cluster_target
from multus_check.errors import MultusCheckError
from multus_check.kube.connect import connect
from multus_check.kube.leftovers import cleanup_leftovers
from multus_check.model import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE

HELP = "remove the pods, ConfigMaps and namespaces left by earlier multus-check runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_cluster_arguments(parser)
    parser.add_argument("--namespace", metavar="NS", help="only this namespace (default: every namespace)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="-vv adds debug logs")


def run(args: argparse.Namespace) -> int:
    try:
        gw = connect(cluster_target(args))
        report = cleanup_leftovers(gw, args.namespace)
    except MultusCheckError as exc:
        print(f"multus-check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for ns in report.namespaces:
        print(f"deleted namespace {ns}")
    for ns, count in sorted(report.objects.items()):
        print(f"deleted {count} labelled pods/ConfigMaps in namespace {ns}")
    for what in report.unchecked:
        print(f"multus-check cleanup: could not check: {what}", file=sys.stderr)
    if report.unchecked:
        print("multus-check cleanup: not everything could be checked, so leftovers may remain (exit 3)", file=sys.stderr)
        return EXIT_INCOMPLETE
    if report.empty:
        print("multus-check cleanup: nothing left by earlier runs")
    return EXIT_OK
