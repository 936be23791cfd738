"""`multus-check node`: judge this host as a Multus node, then probe its data path for real.

Run as root on a node. It collects this host's node facts, runs the node-scoped static
checks on them, then exercises the path a pod's net1 takes with the node's own CNI plugins
and the NAD's config (multus_check.probes.datapath), and reports one finding per layer.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from multus_check.errors import UsageError
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot.model import NodeFacts, Section, SectionState, Snapshot

HELP = "probe this node's data path: CNI ADD with the NAD's config, DHCP lease, routes, mDNS, SSDP, DEL (root)"
log = logging.getLogger(__name__)
NODE_STATIC_CHECKS = ("plugins.present", "dhcp.daemon", "nad.master", "nad.config-valid", "multus.conf-first",
                      "multus.nested-delegates", "multus.kubeconfig", "flannel.conf-surfaced")
DEFAULT_BIN_DIRS = ("/opt/cni/bin", "/var/lib/rancher/k3s/data/cni")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from multus_check.cli import add_analysis_arguments

    add_analysis_arguments(parser)
    add_node_arguments(parser)


def add_node_arguments(parser: argparse.ArgumentParser, lab: bool = False) -> None:
    g = parser.add_argument_group("data path")
    if not lab:
        g.add_argument("--node", default=socket.gethostname(), help="node name to report (default: hostname)")
        g.add_argument("--nad-config", metavar="FILE",
                       help="the NAD's spec.config as a file (`kubectl get net-attach-def NAME -o "
                            "jsonpath='{.spec.config}' > nad.json`)")
        g.add_argument("--nad", metavar="[NS/]NAME",
                       help="read the NAD's config from the cluster (namespace default unless given), through "
                            "--kubeconfig/--context or the pod's service account")
        g.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig for --nad (default: $KUBECONFIG, "
                       "~/.kube/config, in-cluster)")
        g.add_argument("--context", metavar="NAME", help="kubeconfig context for --nad")
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
    g.add_argument("--no-probe", action="store_true", help="attach and check the lease only; no mDNS/SSDP")


def run(args: argparse.Namespace) -> int:
    from multus_check.cli import check_selection, emit
    from multus_check.report.output import check_destinations

    if args.snapshot:
        raise UsageError("`multus-check node` judges this host; --snapshot is for the cluster analysis")
    if args.nad and args.nad_config:
        raise UsageError("pass either --nad [NS/]NAME (read from the cluster) or --nad-config FILE, not both")
    if args.trials < 1:
        raise UsageError("--trials must be at least 1")
    check_selection(args)
    check_destinations(args)
    if os.geteuid() != 0:
        raise UsageError("`multus-check node` must run as root (it creates a network namespace and runs CNI plugins)")
    sigterm_as_interrupt()
    results = node_results(args)
    return emit(results, args, Severity(args.fail_on))


def sigterm_as_interrupt() -> None:
    """Let SIGTERM unwind like Ctrl-C, so the `finally` blocks remove what was created."""

    main_pid = os.getpid()

    def _raise(signum: int, _frame: FrameType | None) -> None:
        if os.getpid() != main_pid:  # a forked helper (pyroute2, the probe): just end it
            os._exit(128 + signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def node_results(args: argparse.Namespace, notes: list[str] | None = None) -> Any:
    """Static checks on this host's facts plus the data-path findings, as a Results document."""
    from multus_check.checks import registry
    from multus_check.probes import checks as datapath_checks
    from multus_check.report.results import Results

    nad = _nad_source(args)
    findings: list[Finding] = []
    if not args.no_static:
        findings += _static(args, nad)
    findings += _datapath(args, nad)
    findings = [f for f in findings if _selected(f.check, args)]
    titles = {s.id: s.title for s in registry.all_checks() if s.kind == "node" or s.id in NODE_STATIC_CHECKS}
    titles = {k: v for k, v in titles.items() if _selected(k, args) and (k in datapath_checks.LAYERS
                                                                          or k == datapath_checks.CLEANUP
                                                                          or not args.no_static)}
    source = {"kind": "node", "node": args.node, "nad_config": args.nad_config, "nad": nad.ref if nad else None,
              "node_netns": args.node_netns,
              "description": f"node {args.node}" + (f" with {nad.label}" if nad else "")}
    return Results.build(findings, source=source, checks=titles, notes=list(notes or []))


def _selected(check_id: str, args: argparse.Namespace) -> bool:
    from multus_check.checks.registry import matches

    return (not args.check or matches(check_id, args.check)) and not matches(check_id, args.skip)


@dataclass(frozen=True)
class NadSource:
    """The NAD config under test: from --nad-config FILE or read from the cluster with --nad."""

    config: str
    label: str  # for messages: the file, or "NAD ns/name"
    namespace: str = "local"
    name: str = "nad-config"

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def _nad_source(args: argparse.Namespace) -> NadSource | None:
    if args.nad_config:
        return NadSource(_read_conf(args.nad_config), args.nad_config)
    if getattr(args, "nad", None):
        return nad_from_cluster(args.nad, getattr(args, "kubeconfig", None), getattr(args, "context", None))
    return None


def _read_conf(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read --nad-config {path}: {exc.strerror}") from exc


def nad_from_cluster(ref: str, kubeconfig: str | None, context: str | None, gateway: Any = None) -> NadSource:
    """Read NAD `[ns/]name` from the cluster (asked by review first, read as a list by name: collect/live/one_nad.py)."""
    from multus_check.collect.live.one_nad import read_nad_config

    namespace, name, config = read_nad_config(ref, kubeconfig, context, gateway)
    return NadSource(config, f"NAD {namespace}/{name}", namespace, name)


def _static(args: argparse.Namespace, nad: NadSource | None) -> list[Finding]:
    from multus_check.collect.host import collect_host_facts
    from multus_check.engine import run_checks

    facts = collect_host_facts(args.node, netns=args.node_netns)
    snap = host_snapshot(facts, nad)
    if args.save_snapshot:
        from multus_check.snapshot import write_snapshot

        write_snapshot(snap, args.save_snapshot)
    return run_checks(snap, include=NODE_STATIC_CHECKS)


def host_snapshot(facts: NodeFacts, nad: NadSource | None) -> Snapshot:
    """A snapshot of this one host; the NAD under test stands in for the cluster's NADs."""
    from multus_check.collect.redact import redact_object

    here = "this host only (multus-check node)"
    snap = Snapshot(source={"kind": "node", "node": facts.name}, nodes={facts.name: facts})
    snap.sections[f"node/{facts.name}"] = Section(SectionState.OK)
    snap.sections["cluster/nodes"] = Section(SectionState.OK, here)
    if nad is None:
        snap.sections["cluster/network-attachment-definitions"] = Section(
            SectionState.NOT_COLLECTED, "pass --nad [NS/]NAME or --nad-config FILE")
    else:
        snap.sections["cluster/network-attachment-definitions"] = Section(SectionState.OK, f"from {nad.label}")
        snap.objects.append(redact_object({  # as every collected object: findings and snapshots show it redacted
            "apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": nad.name, "namespace": nad.namespace}, "spec": {"config": nad.config}}))
    return snap


def cni_path(args: argparse.Namespace) -> list[str]:
    dirs = list(args.cni_bin_dir) or [d for d in DEFAULT_BIN_DIRS if os.path.isdir(d)]
    if not dirs:
        raise UsageError(f"none of {', '.join(DEFAULT_BIN_DIRS)} exists; pass --cni-bin-dir DIR")
    return dirs


def _datapath(args: argparse.Namespace, nad: NadSource | None) -> list[Finding]:
    from multus_check.probes import checks as c
    from multus_check.probes import cni, datapath, judge

    if nad is None:
        return [Finding(cid, Status.SKIP, Severity.INFO, f"node/{args.node}",
                        "The data path was not probed: pass --nad [NS/]NAME or --nad-config FILE with the NAD's "
                        "spec.config.")
                for cid in (*c.LAYERS, c.CLEANUP)]
    try:
        conf = cni.parse_netconf(nad.config, nad.label)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    opts = datapath.DatapathOptions(
        conf=conf, cni_path=cni_path(args), node=args.node, node_netns=args.node_netns,
        pod_netns_prefix=args.pod_netns_prefix, ifname=args.ifname, lan_subnet=args.lan_subnet,
        trials=args.trials, probe_timeout=args.probe_timeout, probes=() if args.no_probe else ("mdns", "ssdp"))
    obs = datapath.run(opts)
    log.info("data path phases (s): %s", {k: round(v, 3) for k, v in obs.seconds.items()})
    return judge.judge(obs)
