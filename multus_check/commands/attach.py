"""`multus-check attach KIND/NAME`: move a workload off hostNetwork onto a NAD, journaled and undoable.

The permissions it needs (read and replace the workload, read the NAD) are checked by review before
the first request; missing ones are named and nothing is sent (exit 2).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from multus_check.commands.arguments import add_cluster_arguments, cluster_target
from multus_check.model import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from multus_check.fixes.permissions import Requirement

HELP = "Move a Deployment/StatefulSet/DaemonSet off hostNetwork onto a NetworkAttachmentDefinition (undo with `multus-check undo`)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="KIND/NAME", help="deployment/NAME, statefulset/NAME or daemonset/NAME")
    parser.add_argument("-n", "--namespace", default="default", help="the workload's namespace (default: default)")
    parser.add_argument("--network", metavar="[NS/]NAD", help="the NAD (default: the only NAD in the namespace)")
    parser.add_argument("--mac", help="a fixed unicast MAC for net1 (keeps the DHCP lease across restarts)")
    parser.add_argument("--yes", action="store_true", help="apply without asking")
    parser.add_argument("--report-dir", metavar="DIR", help="where the journal goes (default: reports/<run-id>/)")
    add_cluster_arguments(parser)
    parser.add_argument("-v", "--verbose", action="count", default=0)


def attach_requirements(kind: str, namespace: str, name: str, network: str | None) -> list[Requirement]:
    """Read and replace the workload; read the NAD, or list the namespace's NADs when none is named."""
    from multus_check.fixes.permissions import Requirement
    from multus_check.kube.access import Permission
    from multus_check.kube.resources import NADS
    from multus_check.kube.writes import resource_for

    res = resource_for(kind)
    needs = [Permission(v, res, namespace, name) for v in ("get", "update")]
    if network:
        nad_ns, _, nad_name = network.rpartition("/")
        needs.append(Permission("get", NADS, nad_ns or namespace, nad_name))
    else:
        needs.append(Permission("list", NADS, namespace))
    return [Requirement.of(p) for p in needs]


def run(args: argparse.Namespace) -> int:
    from multus_check import signals
    from multus_check.errors import NotFound, Terminated, UsageError
    from multus_check.files import report_dir
    from multus_check.fixes.apply import apply
    from multus_check.fixes.attach import attach_plan, check_mac, parse_target
    from multus_check.fixes.journal import Journal, interruption_note
    from multus_check.fixes.permissions import require
    from multus_check.fixes.prompt import Answer, ask
    from multus_check.fixes.render import render_plan
    from multus_check.kube.connect import connect
    from multus_check.kube.resources import NADS
    from multus_check.kube.writes import Writer
    from multus_check.model import new_run_id

    kind, name = parse_target(args.target)
    mac = check_mac(args.mac) if args.mac else None
    gateway = connect(cluster_target(args))
    writer = Writer(gateway)
    try:
        require(gateway, attach_requirements(kind, args.namespace, name, args.network), f"attach {kind} {name}")
        try:
            workload = writer.get(kind, args.namespace, name)
        except NotFound as exc:
            raise UsageError(f"{kind} {args.namespace}/{name} does not exist") from exc
        if args.network:
            nad_ns, _, nad_name = args.network.rpartition("/")
            nad_ns = nad_ns or args.namespace
            try:
                writer.get("NetworkAttachmentDefinition", nad_ns, nad_name)
            except NotFound as exc:
                raise UsageError(f"NAD {nad_ns}/{nad_name} does not exist; `multus-check --fix` can create one") from exc
        else:
            found = [str(o.get("metadata", {}).get("name")) for o in gateway.list(NADS, args.namespace)]
            if len(found) != 1:
                raise UsageError(f"namespace {args.namespace} has {len(found)} NADs ({', '.join(found) or 'none'}); "
                                 "name one with --network")
            nad_ns, nad_name = args.namespace, found[0]
        plan = attach_plan(workload, nad_name, nad_ns, mac)
        print(render_plan([plan]), end="")
        if not plan.changes:
            return EXIT_OK
        if not args.yes:
            answer = ask(sys.stdout)
            if answer is not Answer.YES:
                return EXIT_INTERRUPTED if answer is Answer.INTERRUPTED else EXIT_OK
        run_id = new_run_id()
        journal = Journal.create(report_dir(args.report_dir, run_id), run_id)
        try:
            outcome = apply([plan], writer, journal)
        except (KeyboardInterrupt, Terminated):
            signals.report(interruption_note(journal.path.parent, "the attach"))
            raise
    finally:
        gateway.close()
    if not outcome.ok:
        print(f"STOPPED: {outcome.stopped}", file=sys.stderr)
        return EXIT_USAGE
    print(f"applied: {', '.join(outcome.applied)}\njournal: {journal.path}\nundo with: multus-check undo {journal.path.parent}")
    return EXIT_OK
