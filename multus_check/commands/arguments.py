"""The command line's edge: every option declared once, and the typed option objects built from them.

Why it exists: options are parsed here and nowhere else. Each command adds the groups it needs
(`add_*_arguments`) and turns the parsed namespace into the typed objects the layers below take
(`*_options`): nothing below commands/ imports argparse or reads a namespace (tests/test_layers.py
holds that). Defaults live with the option objects of the layer that owns them, so `--help` and a
run built without the command line agree. Imports no Kubernetes client and no scapy.
"""

from __future__ import annotations

import argparse
import socket

from multus_check.checks.spec import Selection
from multus_check.collect.live.options import DEFAULT_COLLECTOR_IMAGE, DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, LiveOptions
from multus_check.e2e.options import DEFAULT_E2E_TIMEOUT, DEFAULT_PEER_WINDOW, DEFAULT_PROBE_IMAGE, E2EOptions
from multus_check.kube.connect import DEFAULT_NAMESPACE, ClusterTarget
from multus_check.model import Severity
from multus_check.pipeline.options import AnalysisOptions, FixOptions, LabRunOptions, NodeOptions
from multus_check.report.options import FORMATS, ReportOptions

SEVERITIES = tuple(s.value for s in Severity)


# ---------------------------------------------------------------- declaring


def add_analysis_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by every command that judges findings (the main command, `node`, `lab`)."""
    p.add_argument("--snapshot", metavar="DIR", help="analyse a snapshot directory offline instead of the live cluster")
    p.add_argument("--format", choices=FORMATS, default="table",
                   help="report printed on stdout (default: table; colours only on a terminal)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--report-dir", metavar="DIR",
                   help="where results.json and junit.xml always go (default: reports/<run-id>/)")
    p.add_argument("--check", action="append", default=[], metavar="ID", help="run only matching checks (id or glob, repeatable)")
    p.add_argument("--skip", action="append", default=[], metavar="ID", help="skip matching checks (id or glob, repeatable)")
    p.add_argument("--fail-on", choices=SEVERITIES, default="info",
                   help="exit 1 only for failures of at least this severity (default: any failure)")
    p.add_argument("--exit-zero", action="store_true", help="exit 0 even when checks fail or cannot be evaluated")
    p.add_argument("-v", "--verbose", action="count", default=0, help="show passing findings too; -vv adds debug logs")


def add_cluster_arguments(container: argparse.ArgumentParser | argparse._ArgumentGroup, purpose: str = "") -> None:
    """--kubeconfig and --context, resolved as kubectl does; `purpose` names the option they serve (`--nad`)."""
    if purpose:
        container.add_argument("--kubeconfig", metavar="FILE", help=f"kubeconfig for {purpose} (default: $KUBECONFIG, "
                               "~/.kube/config, in-cluster)")
        container.add_argument("--context", metavar="NAME", help=f"kubeconfig context for {purpose}")
        return
    container.add_argument("--kubeconfig", metavar="FILE",
                           help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    container.add_argument("--context", metavar="NAME", help="kubeconfig context to use (default: the current context)")


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
    """The options that choose the cluster and shape the collection."""
    g = parser.add_argument_group("live cluster")
    add_cluster_arguments(g)
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


def add_fix_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("fix")
    g.add_argument("--fix", action="store_true", help="plan repairs for failing checks, show them as a diff, apply on consent")
    g.add_argument("--yes", action="store_true", help="with --fix: apply without asking")
    g.add_argument("--fix-only", action="append", default=[], metavar="FIX",
                   help="with --fix: only this fix id, e.g. flannel-service-routes (repeatable)")
    g.add_argument("--fix-option", action="append", default=[], metavar="FIX=VALUE",
                   help="with --fix: choose a variant, e.g. multus-nesting=workaround (keep Multus v4.0.x)")


def add_node_arguments(parser: argparse.ArgumentParser, lab: bool = False) -> None:
    """`multus-check node`'s data-path options; `lab`: only the probe's knobs (the lab supplies the rest)."""
    g = parser.add_argument_group("data path")
    if not lab:
        g.add_argument("--node", default=socket.gethostname(), help="node name to report (default: hostname)")
        g.add_argument("--nad-config", metavar="FILE",
                       help="the NAD's spec.config as a file (`kubectl get net-attach-def NAME -o "
                            "jsonpath='{.spec.config}' > nad.json`)")
        g.add_argument("--nad", metavar="[NS/]NAME",
                       help="read the NAD's config from the cluster (namespace default unless given), through "
                            "--kubeconfig/--context or the pod's service account")
        add_cluster_arguments(g, purpose="--nad")
        g.add_argument("--cni-bin-dir", action="append", default=[], metavar="DIR",
                       help="CNI_PATH dir, repeatable (default: those of /opt/cni/bin and "
                            "/var/lib/rancher/k3s/data/cni that exist)")
        g.add_argument("--lan-subnet", metavar="CIDR", help="the LAN subnet leases must lie in (default: the master's)")
        g.add_argument("--node-netns", metavar="NAME", help=argparse.SUPPRESS)  # the lab's node namespace
        g.add_argument("--pod-netns-prefix", default="mc-probe-", help=argparse.SUPPRESS)
        g.add_argument("--no-static", action="store_true", help="skip the static node checks")
        g.add_argument("--save-snapshot", metavar="DIR", help="also write the collected node facts as a snapshot")
    g.add_argument("--ifname", default="net1", help="interface name inside the throwaway pod namespace")
    g.add_argument("--trials", type=int, default=1, help="mDNS/SSDP queries per probe; loss is reported")
    g.add_argument("--probe-timeout", type=float, default=2.0, help="seconds to wait for a first answer")
    g.add_argument("--no-probe", action="store_true", help="attach and check the lease only; no mDNS/SSDP/IPv6 (Matter/Thread) probes")


# ---------------------------------------------------------------- building the typed options


def cluster_target(args: argparse.Namespace) -> ClusterTarget:
    return ClusterTarget(args.kubeconfig, args.context)


def selection(args: argparse.Namespace) -> Selection:
    return Selection(tuple(args.check), tuple(args.skip))


def report_options(args: argparse.Namespace) -> ReportOptions:
    return ReportOptions(args.format, args.output, args.report_dir, args.verbose, Severity(args.fail_on), args.exit_zero)


def live_options(args: argparse.Namespace) -> LiveOptions:
    return LiveOptions(cluster=cluster_target(args), namespace=args.namespace, collector_image=args.collector_image,
                       node_facts=not args.no_node_facts, keep=args.keep, cidr_probe_namespace=args.cidr_probe_namespace,
                       concurrency=args.concurrency, timeout=args.timeout)


def e2e_options(args: argparse.Namespace) -> E2EOptions:
    """The sample-pod phase of the main command (`--snapshot` makes it offline: no pod to run)."""
    return E2EOptions(enabled=not args.no_e2e, nads=tuple(args.nad), node=args.node, all_nodes=args.all_nodes,
                      probe_image=args.probe_image, timeout=args.e2e_timeout, peer_window=args.e2e_peer_window,
                      lan_subnet=args.e2e_lan_subnet, selection=selection(args), cluster=cluster_target(args),
                      namespace=args.namespace, keep=args.keep, offline=args.snapshot is not None)


def fix_options(args: argparse.Namespace) -> FixOptions:
    """--fix and its choices (--fix-only and --fix-option are checked before any work, with --fix or not)."""
    return FixOptions(yes=args.yes, only=tuple(args.fix_only), variants=tuple(args.fix_option), enabled=args.fix)


def analysis_options(args: argparse.Namespace) -> AnalysisOptions:
    return AnalysisOptions(report=report_options(args), selection=selection(args), snapshot=args.snapshot,
                           cluster=cluster_target(args), live=live_options(args), e2e=e2e_options(args),
                           fix=fix_options(args))


def node_options(args: argparse.Namespace) -> NodeOptions:
    return NodeOptions(report=report_options(args), selection=selection(args), node=args.node, nad_config=args.nad_config,
                       nad=args.nad, cluster=cluster_target(args), cni_bin_dirs=tuple(args.cni_bin_dir),
                       lan_subnet=args.lan_subnet, node_netns=args.node_netns, pod_netns_prefix=args.pod_netns_prefix,
                       static=not args.no_static, save_snapshot=args.save_snapshot, ifname=args.ifname,
                       trials=args.trials, probe_timeout=args.probe_timeout, probe=not args.no_probe)


def lab_run_options(args: argparse.Namespace) -> LabRunOptions:
    """`lab run`: the lab, and the probe's knobs of the node run against it (the lab supplies the rest)."""
    node = NodeOptions(report=report_options(args), selection=selection(args), ifname=args.ifname, trials=args.trials,
                       probe_timeout=args.probe_timeout, probe=not args.no_probe)
    return LabRunOptions(args.name, args.subnet, tuple(args.breaks), args.keep, node)
