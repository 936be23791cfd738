"""`multus-check lab up|down|status|run`: a simulated home LAN in network namespaces (root).

`run` is the demo: bring a lab up (optionally broken with --break), run `multus-check node`
against it, take it down again (also on failure or Ctrl-C). See docs/LAB.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

from multus_check.collect.live.progress import spinning
from multus_check.errors import UsageError
from multus_check.lab.config import FAULTS

HELP = ("a simulated home LAN in network namespaces (dnsmasq, avahi, SSDP, radvd, a Thread border router with a "
        "Matter node, CNI dhcp daemon) to try the data path on")
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from multus_check.cli import add_analysis_arguments
    from multus_check.commands.node import add_node_arguments

    parser.add_argument("action", choices=("up", "down", "status", "run"),
                        help="up: create; down: remove (also a crashed lab's leftovers); status; run: up + node + down")
    parser.add_argument("--name", default="demo", help="lab name (namespaces mcl-<name>-router/-node/-thread); default demo")
    parser.add_argument("--subnet", help="the lab LAN, a /24 (default: the first free 192.168.77-126.0/24)")
    parser.add_argument("--break", dest="breaks", action="append", default=[], choices=FAULTS, metavar="FAULT",
                        help=f"inject a fault (repeatable): {', '.join(FAULTS)}")
    parser.add_argument("--keep", action="store_true", help="run: leave the lab up afterwards")
    add_analysis_arguments(parser)
    add_node_arguments(parser, lab=True)


def run(args: argparse.Namespace) -> int:
    from multus_check.lab import lab

    if args.action != "run" and (args.keep or args.snapshot):
        raise UsageError("--keep and --snapshot only apply to `lab run`" if args.keep else "--snapshot is not used by lab")
    if args.action == "up":
        with spinning(f"lab {args.name}: coming up"):
            report = lab.up(args.name, args.subnet, tuple(args.breaks))
        _print_up(report)
        return 0
    if args.action == "down":
        done = lab.down(args.name)
        print(f"lab {done.name}: removed namespaces {', '.join(done.namespaces) or '(none)'}; "
              f"stopped {len(done.stopped)} process(es)")
        return 0
    if args.action == "status":
        status = lab.status(args.name)
        print(json.dumps(status, indent=1))
        return 0 if status["state"] == "up" else 3
    if args.breaks and args.action != "run":
        raise UsageError("--break applies to `lab up` and `lab run`")
    return _run(args)


def _print_up(report: Any) -> None:
    s = report.state
    timings = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in report.seconds.items())
    print(f"lab {s.name} up: LAN {s.subnet}, router {s.router_ip} ({s.router_ns}), node {s.node_ns} with master lan0\n"
          f"  NAD config: {s.nad_config}\n  CNI bin dir: {s.cni_bin}\n"
          f"  faults: {', '.join(s.breaks) or 'none'}\n  timings: {timings}\n"
          f"  try: multus-check node --nad-config {s.nad_config} --cni-bin-dir {s.cni_bin} "
          f"--node-netns {s.node_ns} --pod-netns-prefix {s.pod_ns_prefix} --lan-subnet {s.subnet} --no-static")


def lab_node_args(args: argparse.Namespace, state: Any) -> argparse.Namespace:
    """The `multus-check node` arguments that point it at a lab's node."""
    return argparse.Namespace(**{**vars(args), "node": f"lab-{state.name}", "nad_config": str(state.nad_config),
                                 "nad": None, "cni_bin_dir": [str(state.cni_bin)], "lan_subnet": state.subnet,
                                 "node_netns": state.node_ns, "pod_netns_prefix": state.pod_ns_prefix,
                                 "no_static": True, "save_snapshot": None})


def _run(args: argparse.Namespace) -> int:
    from multus_check.cli import check_selection, emit
    from multus_check.commands.node import node_results
    from multus_check.lab import lab
    from multus_check.model import Severity
    from multus_check.report.output import check_destinations

    check_selection(args)
    check_destinations(args)
    t0 = time.monotonic()
    with spinning(f"lab {args.name}: coming up"):
        report = lab.up(args.name, args.subnet, tuple(args.breaks))
    try:
        print(f"lab {args.name}: up in {report.seconds['total']:.1f} s on {report.state.subnet}"
              + (f", broken: {', '.join(args.breaks)}" if args.breaks else ""), file=sys.stderr)
        notes = ["static node checks skipped: the lab's node is simulated; this machine's files are not a k3s node's",
                 f"lab {args.name}: {report.state.subnet}, faults: {', '.join(args.breaks) or 'none'}"]
        with spinning(f"lab {args.name}: probing the data path"):
            results = node_results(lab_node_args(args, report.state), notes)
    finally:
        if not args.keep:
            lab.down(args.name)
    print(f"lab {args.name}: done in {time.monotonic() - t0:.1f} s" + (" (kept up)" if args.keep else ""),
          file=sys.stderr)
    code: int = emit(results, args, Severity(args.fail_on))
    return code
