"""`multus-check lab up|down|status|run`: a simulated home LAN in network namespaces (root).

`run` is the demo: bring a lab up (optionally broken with --break), run `multus-check node`
against it, take it down again (also on failure or Ctrl-C): pipeline/lab_run.py. See docs/LAB.md.
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from multus_check.collect.live.progress import spinning
from multus_check.commands.arguments import add_analysis_arguments, add_node_arguments, lab_run_options
from multus_check.errors import UsageError
from multus_check.lab.config import FAULTS
from multus_check.model import EXIT_INCOMPLETE, EXIT_OK

HELP = ("a simulated home LAN in network namespaces (dnsmasq, avahi, SSDP, radvd, a Thread border router with a "
        "Matter node, CNI dhcp daemon) to try the data path on")
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
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
    from multus_check.lab import lifecycle as lab

    if args.action != "run" and (args.keep or args.snapshot):
        raise UsageError("--keep and --snapshot only apply to `lab run`" if args.keep else "--snapshot is not used by lab")
    if args.action == "up":
        with spinning(f"lab {args.name}: coming up"):
            report = lab.up(args.name, args.subnet, tuple(args.breaks))
        _print_up(report)
        return EXIT_OK
    if args.action == "down":
        done = lab.down(args.name)
        print(f"lab {done.name}: removed namespaces {', '.join(done.namespaces) or '(none)'}; "
              f"stopped {len(done.stopped)} process(es)")
        return EXIT_OK
    if args.action == "status":
        status = lab.status(args.name)
        print(json.dumps(status, indent=1))
        return EXIT_OK if status["state"] == "up" else EXIT_INCOMPLETE
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


def _run(args: argparse.Namespace) -> int:
    from multus_check.pipeline import lab_run

    return lab_run.run(lab_run_options(args))
