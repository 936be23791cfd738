"""`multus-check node`: judge this host as a Multus node, then probe its data path for real.

Run as root on a node. The run itself is pipeline/node_run.py: this host's node facts, the
node-scoped static checks on them, then the path a pod's net1 takes with the node's own CNI plugins
and the NAD's config, one finding per layer.
"""

from __future__ import annotations

import argparse

from multus_check.commands.arguments import add_analysis_arguments, add_node_arguments, node_options
from multus_check.errors import UsageError

HELP = "probe this node's data path: CNI ADD with the NAD's config, DHCP lease, routes, mDNS, SSDP, DEL (root)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_analysis_arguments(parser)
    add_node_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from multus_check.pipeline import node_run

    if args.snapshot is not None:
        raise UsageError("`multus-check node` judges this host; --snapshot is for the cluster analysis")
    if args.nad and args.nad_config:
        raise UsageError("pass either --nad [NS/]NAME (read from the cluster) or --nad-config FILE, not both")
    if args.trials < 1:
        raise UsageError("--trials must be at least 1")
    return node_run.run(node_options(args))
