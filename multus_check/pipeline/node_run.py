"""`multus-check node`'s run: this host as a Multus node, then its data path probed for real.

It collects this host's node facts (collect/host.py), runs the node-scoped static checks on them
through the one engine, then exercises the path a pod's net1 takes with the node's own CNI plugins
and the NAD's config (probes/datapath_probe.py) and judges it layer by layer (probes/datapath_verdicts.py),
into one results document. The NAD's config comes from a file or is read from the cluster
(`nad_from_cluster`, through the gateway). `lab run` uses the same run against a lab's node.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from multus_check.checks import datapath as layers
from multus_check.checks import registry
from multus_check.checks.engine import run_checks
from multus_check.collect.host import collect_host_facts
from multus_check.collect.redact import redact_object
from multus_check.errors import UsageError
from multus_check.kube.connect import ClusterTarget
from multus_check.model import Finding, Severity, Status
from multus_check.pipeline import validate
from multus_check.pipeline.options import NodeOptions
from multus_check.report.output import emit
from multus_check.report.results import Results
from multus_check.snapshot.data import NodeFacts, Section, SectionState, Snapshot

log = logging.getLogger(__name__)
NODE_STATIC_CHECKS = ("plugins.present", "dhcp.daemon", "nad.master", "nad.config-valid", "multus.conf-first",
                      "multus.nested-delegates", "multus.kubeconfig", "flannel.conf-surfaced")
DEFAULT_BIN_DIRS = ("/opt/cni/bin", "/var/lib/rancher/k3s/data/cni")


def run(opts: NodeOptions) -> int:
    """Refuse unusable input, then judge this host (root: it creates a network namespace and runs CNI plugins)."""
    validate.before_any_work(opts.selection, opts.report)
    if os.geteuid() != 0:
        raise UsageError("`multus-check node` must run as root (it creates a network namespace and runs CNI plugins)")
    return emit(node_results(opts), opts.report)


def node_results(opts: NodeOptions, notes: list[str] | None = None) -> Results:
    """Static checks on this host's facts plus the data-path findings, as a Results document."""
    nad = _nad_source(opts)
    findings: list[Finding] = []
    if opts.static:
        findings += _static(opts, nad)
    findings += _datapath(opts, nad)
    findings = [f for f in findings if opts.selection.selects(f.check)]
    titles = {s.id: s.title for s in registry.all_checks() if s.kind == "node" or s.id in NODE_STATIC_CHECKS}
    titles = {k: v for k, v in titles.items() if opts.selection.selects(k) and (k in layers.LAYERS
                                                                                 or k == layers.CLEANUP
                                                                                 or opts.static)}
    source = {"kind": "node", "node": opts.node, "nad_config": opts.nad_config, "nad": nad.ref if nad else None,
              "node_netns": opts.node_netns,
              "description": f"node {opts.node}" + (f" with {nad.label}" if nad else "")}
    return Results.build(findings, source=source, checks=titles, notes=list(notes or []))


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


def _nad_source(opts: NodeOptions) -> NadSource | None:
    if opts.nad_config:
        return NadSource(_read_conf(opts.nad_config), opts.nad_config)
    if opts.nad:
        return nad_from_cluster(opts.nad, opts.cluster)
    return None


def _read_conf(path: str) -> str:
    from multus_check.paths import read_small_text

    return read_small_text(path, "--nad-config")


def nad_from_cluster(ref: str, target: ClusterTarget) -> NadSource:
    """Read NAD `[ns/]name` from the cluster (asked by review first, read as a list by name: collect/live/one_nad.py)."""
    from multus_check.collect.live.one_nad import read_nad_config

    namespace, name, config = read_nad_config(ref, target)
    return NadSource(config, f"NAD {namespace}/{name}", namespace, name)


def _static(opts: NodeOptions, nad: NadSource | None) -> list[Finding]:
    facts = collect_host_facts(opts.node, netns=opts.node_netns)
    snap = host_snapshot(facts, nad)
    if opts.save_snapshot:
        from multus_check.snapshot import write_snapshot

        write_snapshot(snap, opts.save_snapshot)
    return run_checks(snap, include=NODE_STATIC_CHECKS)


def host_snapshot(facts: NodeFacts, nad: NadSource | None) -> Snapshot:
    """A snapshot of this one host; the NAD under test stands in for the cluster's NADs."""
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


def cni_path(opts: NodeOptions) -> list[str]:
    dirs = list(opts.cni_bin_dirs) or [d for d in DEFAULT_BIN_DIRS if os.path.isdir(d)]
    if not dirs:
        raise UsageError(f"none of {', '.join(DEFAULT_BIN_DIRS)} exists; pass --cni-bin-dir DIR")
    return dirs


def probe_kinds(opts: NodeOptions) -> tuple[str, ...]:
    """mDNS and SSDP, and the IPv6 observations (Matter/Thread) unless every IPv6 check is --skip'ped."""
    if not opts.probe:
        return ()
    wanted = any(opts.selection.selects(cid) for cid in (layers.IPV6, layers.THREAD_ROUTES, layers.MATTER))
    return ("mdns", "ssdp", "ipv6") if wanted else ("mdns", "ssdp")


def _datapath(opts: NodeOptions, nad: NadSource | None) -> list[Finding]:
    from multus_check.domain.cniconf import parse_netconf
    from multus_check.probes import datapath_probe, datapath_verdicts

    if nad is None:
        return [Finding(cid, Status.SKIP, Severity.INFO, f"node/{opts.node}",
                        "The data path was not probed: pass --nad [NS/]NAME or --nad-config FILE with the NAD's "
                        "spec.config.")
                for cid in (*layers.LAYERS, layers.CLEANUP)]
    try:
        conf = parse_netconf(nad.config, nad.label)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    probe = datapath_probe.DatapathOptions(
        conf=conf, cni_path=cni_path(opts), node=opts.node, node_netns=opts.node_netns,
        pod_netns_prefix=opts.pod_netns_prefix, ifname=opts.ifname, lan_subnet=opts.lan_subnet,
        trials=opts.trials, probe_timeout=opts.probe_timeout, probes=probe_kinds(opts))
    obs = datapath_probe.run(probe)
    log.info("data path phases (s): %s", {k: round(v, 3) for k, v in obs.seconds.items()})
    return datapath_verdicts.judge(obs)
