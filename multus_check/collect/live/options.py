"""The command-line options of live collection, and their typed form.

`add_live_arguments` is what cli.py and `multus-check snapshot` call; `LiveOptions.from_args`
reads them back with defaults, so a Namespace built by another parser still works.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from multus_check.kube.podrun import DEFAULT_NAMESPACE

#: python:3.12 on Alpine 3.21 (about 20 MB compressed), pinned to a patch release. Pin by digest
#: with --collector-image for immutability; docs/COLLECTION.md says how to mirror it.
DEFAULT_COLLECTOR_IMAGE = "docker.io/library/python:3.12.8-alpine3.21"
DEFAULT_CONCURRENCY = 64
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class LiveOptions:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    collector_image: str = DEFAULT_COLLECTOR_IMAGE
    node_facts: bool = True
    keep: bool = False
    #: where the Service CIDR dry-run probe may run; None: the run's namespace with node facts, no probe without
    cidr_probe_namespace: str | None = None
    concurrency: int = DEFAULT_CONCURRENCY
    timeout: float = DEFAULT_TIMEOUT
    progress: bool | None = None  # None: decide from the terminal

    @property
    def probe_namespace(self) -> str | None:
        """Where the Service CIDR dry-run probe runs: never without node facts unless asked (read-only)."""
        return self.cidr_probe_namespace or (self.namespace if self.node_facts else None)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LiveOptions:
        def opt(name: str, default: object) -> object:
            value = getattr(args, name, None)
            return default if value is None else value

        return cls(
            kubeconfig=getattr(args, "kubeconfig", None),
            context=getattr(args, "context", None),
            namespace=str(opt("namespace", DEFAULT_NAMESPACE)),
            collector_image=str(opt("collector_image", DEFAULT_COLLECTOR_IMAGE)),
            node_facts=not bool(getattr(args, "no_node_facts", False)),
            keep=bool(getattr(args, "keep", False)),
            cidr_probe_namespace=getattr(args, "cidr_probe_namespace", None),
            concurrency=int(str(opt("concurrency", DEFAULT_CONCURRENCY))),
            timeout=float(str(opt("timeout", DEFAULT_TIMEOUT))),
        )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def add_live_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that choose the cluster and shape the collection."""
    g = parser.add_argument_group("live cluster")
    g.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    g.add_argument("--context", metavar="NAME", help="kubeconfig context to use (default: the current context)")
    g.add_argument("--namespace", metavar="NS", default=DEFAULT_NAMESPACE,
                   help="namespace for the collector pods; created and removed by the run unless it exists "
                   f"(default: {DEFAULT_NAMESPACE})")
    g.add_argument("--collector-image", metavar="IMAGE", default=DEFAULT_COLLECTOR_IMAGE,
                   help=f"image with python3 for the per-node collector pods (default: {DEFAULT_COLLECTOR_IMAGE})")
    g.add_argument("--no-node-facts", action="store_true",
                   help="read the API only, with no collector pods; read-only RBAC suffices (node checks report "
                   "skip/error, and so do the sample-pod checks unless RBAC allows their pods)")
    g.add_argument("--cidr-probe-namespace", metavar="NS",
                   help="find the Service CIDR with a server-side dry-run Service in NS (creates nothing; needs "
                   "`create services` there). Default: the run's namespace; with --no-node-facts no probe (read-only)")
    g.add_argument("--keep", action="store_true",
                   help="keep the collector pods and namespace for debugging, and print how to remove them")
    g.add_argument("--concurrency", metavar="N", type=_positive_int, default=DEFAULT_CONCURRENCY,
                   help=f"collector pods running at once (default: {DEFAULT_CONCURRENCY})")
    g.add_argument("--timeout", metavar="SECONDS", type=_positive_float, default=DEFAULT_TIMEOUT,
                   help=f"how long a node's collector may take, image pull included (default: {DEFAULT_TIMEOUT:g})")
