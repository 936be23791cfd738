"""The e2e phase's command-line options. Kept apart from `options` so that `multus-check --help`
builds its parser without importing the snapshot loader, YAML or the Kubernetes client."""

from __future__ import annotations

import argparse

#: nicolaka/netshoot: Alpine + python3 + scapy + libpcap (tcpdump) + iproute2; widely mirrored.
DEFAULT_PROBE_IMAGE = "docker.io/nicolaka/netshoot:v0.13"
DEFAULT_E2E_TIMEOUT = 120.0
DEFAULT_PEER_WINDOW = 30.0


def add_e2e_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("end-to-end (sample pod)")
    g.add_argument("--no-e2e", action="store_true", help="do not run the sample-pod end-to-end checks")
    g.add_argument("--nad", action="append", default=[], metavar="[NS/]NAME",
                   help="NAD to test (repeatable; default: every macvlan NAD)")
    where = g.add_mutually_exclusive_group()
    where.add_argument("--node", metavar="NAME", help="run the sample pod on this node (default: the first "
                       "schedulable node)")
    where.add_argument("--all-nodes", action="store_true", help="one sample pod per schedulable node")
    g.add_argument("--probe-image", metavar="IMAGE", default=DEFAULT_PROBE_IMAGE,
                   help=f"image with python3 + scapy for the sample pod (default: {DEFAULT_PROBE_IMAGE})")
    g.add_argument("--e2e-timeout", metavar="SECONDS", type=float, default=DEFAULT_E2E_TIMEOUT,
                   help=f"how long the sample pods may take, image pull included (default: {DEFAULT_E2E_TIMEOUT:g})")
    g.add_argument("--e2e-peer-window", metavar="SECONDS", type=float, default=DEFAULT_PEER_WINDOW,
                   help="with --all-nodes: how long each sample pod beacons and listens for the others' multicast "
                        f"at most (default: {DEFAULT_PEER_WINDOW:g}; it stops early once all pods heard each other)")
    g.add_argument("--e2e-lan-subnet", metavar="CIDR",
                   help="the LAN subnet net1's lease must lie in (default: the master NIC's subnet on the node)")
