"""The e2e phase of a run: `run_e2e`, which the pipeline calls after the static checks (options: options.py).

Decides what to run (which NADs, which nodes), skips with the reason when a prerequisite it
needs failed or when there is no live cluster, asks by review for every permission the sample
pods need (missing ones make the e2e checks `error`, naming them, before anything is created),
runs the sample pods and judges them (pod_verdicts.py). Talks to the cluster only through
`sample_pods.E2ERun` (and so through the gateway).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from multus_check.checks import e2e as ids
from multus_check.checks.base import CLUSTER, finding
from multus_check.domain import k8s
from multus_check.domain.cluster import Nad, cluster_dns_ip, kubernetes_service_ip, macvlan_masters, nads
from multus_check.domain.node import NotCollected, default_route_iface, interfaces
from multus_check.e2e.options import E2EOptions
from multus_check.e2e.pod_verdicts import Expectations, judge
from multus_check.e2e.sample_manifest import Target
from multus_check.model import Finding, Status, new_run_id
from multus_check.snapshot.data import Snapshot

log = logging.getLogger(__name__)
__all__ = ["GATING_CHECKS", "E2EOptions", "run_e2e"]
#: static checks whose failure makes the sample pod pointless: no NAD API, or no Multus at all
GATING_CHECKS = ("nad.crd", "multus.installed")


def run_e2e(opts: E2EOptions, snapshot: Snapshot, static_findings: list[Finding], *,
            gateway: Any = None, notify: Callable[[str], None] | None = None,
            poll_interval: float = 0.25, run_id: str | None = None) -> list[Finding]:
    """The e2e findings of this run (empty with --no-e2e or when --check/--skip exclude them all)."""
    selected = [c for c in ids.E2E_CHECKS if opts.selection.selects(c)]
    if not opts.enabled or not selected or _offline(opts, snapshot):
        return []
    from multus_check.collect.live.progress import Progress

    progress = Progress()  # without a caller's notify: lines on stderr, a bar for the sample pods on a terminal
    try:
        out = _plan_and_run(opts, snapshot, static_findings, gateway, notify or progress.say, poll_interval,
                            run_id or new_run_id(), None if notify else progress.pods)
    finally:
        progress.done()
    return [f for f in out if f.check in selected]


def _offline(opts: E2EOptions, snap: Snapshot) -> bool:
    """Judging a snapshot directory offline: there is no cluster to run a pod on, so the e2e phase
    does not apply (it is not "could not look"; the run never claims to cover it)."""
    return opts.offline or snap.source.get("kind") not in (None, "live")


def _skip_all(reason: str) -> list[Finding]:
    return [finding(c, Status.SKIP, CLUSTER, reason) for c in ids.E2E_CHECKS]


def _plan_and_run(opts: E2EOptions, snap: Snapshot, static: list[Finding], gateway: Any,
                  notify: Callable[[str], None], poll_interval: float, run_id: str,
                  on_pods: Callable[[int, int], None] | None = None) -> list[Finding]:
    failed = sorted({f.check for f in static if f.check in GATING_CHECKS and f.status is Status.FAIL})
    if failed:
        return _skip_all(f"Not run: prerequisite check(s) {', '.join(failed)} failed, so no sample pod can attach.")
    chosen, skipped = _nads(opts, snap, static)
    if not chosen:
        return skipped or _skip_all("Not run: no macvlan NetworkAttachmentDefinition to test (use --nad NS/NAME).")
    nodes = _nodes(opts, snap)
    if not nodes:
        return skipped + _skip_all("Not run: no schedulable node in the snapshot to place a sample pod on.")
    targets = [Target(k8s.namespace(n.obj) or "default", k8s.name(n.obj), node) for n in chosen for node in nodes]
    expect = _expectations(opts, snap, chosen, nodes)
    route_to = [ip for ip in (expect.dns_ip, expect.api_ip) if ip]
    if gateway is None:
        from multus_check.kube.connect import connect

        gateway = connect(opts.cluster)
    from multus_check.e2e.sample_pods import E2ERun
    from multus_check.kube.podrun import node_facts_manifest

    runner = E2ERun(gateway, opts.namespace, opts.probe_image, opts.timeout, route_to, keep=opts.keep,
                    poll_interval=poll_interval, notify=notify, on_pods=on_pods, peer_window=opts.peer_window,
                    run_id=run_id)
    missing = runner.missing_permissions()
    if missing:
        return skipped + [finding(c, Status.ERROR, CLUSTER, "Not run: RBAC forbids " + "; ".join(map(str, missing)) + ".",
                                  f"Apply {node_facts_manifest(runner.namespace)}; or pass --no-e2e.",
                                  missing=[str(p) for p in missing]) for c in ids.E2E_CHECKS]
    findings = skipped + judge(runner.execute(targets), expect)
    for f in findings:
        if f.check == ids.ATTACH and f.status is Status.PASS and f.evidence.get("keep_mac_annotation"):
            notify(f"e2e: {f.subject}: net1 MAC {f.evidence['pod_net1'].get('mac')}; keep it with the workload "
                   f"annotation k8s.v1.cni.cncf.io/networks: '{f.evidence['keep_mac_annotation']}' and replace pods "
                   "with `strategy: type: Recreate` (the old pod must be gone first, or the new one fails with "
                   "`address already in use`)")
    return findings


def _nads(opts: E2EOptions, snap: Snapshot, static: list[Finding]) -> tuple[list[Nad], list[Finding]]:
    """The NADs to test (named by --nad, else every macvlan NAD), and skips for unusable ones."""
    invalid = {f.subject.removeprefix("nad/") for f in static if f.check == "nad.config-valid" and f.status is Status.FAIL}
    wanted = [w if "/" in w else f"default/{w}" for w in opts.nads]
    known = {n.ref: n for n in nads(snap)}
    chosen, skipped = [], []
    for ref in wanted:
        if ref not in known:
            skipped += [finding(c, Status.SKIP, f"nad/{ref}", f"Not run: NAD {ref} does not exist in the cluster.")
                        for c in ids.E2E_CHECKS]
    pool = [known[r] for r in wanted if r in known] if wanted else [n for n in known.values() if macvlan_masters(n)]
    for nad in pool:
        if nad.ref in invalid or nad.config is None:
            skipped += [finding(c, Status.SKIP, f"nad/{nad.ref}", f"Not run: NAD {nad.ref} failed nad.config-valid.")
                        for c in ids.E2E_CHECKS]
        else:
            chosen.append(nad)
    return chosen, skipped


def _nodes(opts: E2EOptions, snap: Snapshot) -> list[str]:
    if opts.node:
        return [opts.node]
    hosts = [k8s.name(n) for n in sorted(snap.kind("Node"), key=k8s.name) if k8s.can_host_pods(n)]
    return hosts if opts.all_nodes else hosts[:1]


def _expectations(opts: E2EOptions, snap: Snapshot, chosen: list[Nad], nodes: list[str]) -> Expectations:
    subnets: dict[tuple[str, str], list[ipaddress.IPv4Network]] = {}
    problems: dict[tuple[str, str], str] = {}
    override = opts.lan_subnet
    for nad in chosen:
        master = (macvlan_masters(nad) or [None])[0]
        for node in nodes:
            key = (nad.ref, node)
            if override:
                subnets[key] = [ipaddress.IPv4Network(override, strict=False)]
                continue
            facts = snap.nodes.get(node)
            if facts is None:
                problems[key] = f"the node facts of {node} were not collected"
                continue
            try:
                name = master or default_route_iface(facts)
                iface = interfaces(facts).get(name or "")
            except NotCollected as exc:
                problems[key] = f"node {node}: {exc}"
                continue
            if iface is None:
                problems[key] = f"the master NIC {name} does not exist on node {node}"
                continue
            nets = [a.network for a in iface.addresses if a.version == 4 and not a.is_link_local]
            if nets:
                subnets[key] = [n for n in nets if isinstance(n, ipaddress.IPv4Network)]
            else:
                problems[key] = f"the master NIC {name} on node {node} has no IPv4 address"
    api_ip = kubernetes_service_ip(snap)
    return Expectations(str(cluster_dns_ip(snap).value), api_ip, subnets, problems)
