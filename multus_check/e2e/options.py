"""The e2e phase's command-line options and its entry point, `run_e2e`, which cli.py calls
after the static checks.

Decides what to run (which NADs, which nodes), skips with the reason when a prerequisite it
needs failed or when there is no live cluster, asks by review for every permission the sample
pods need (missing ones make the e2e checks `error`, naming them, before anything is created),
runs the sample pods and judges them. Talks to the cluster only through `runner.E2ERun` (and so
through the gateway).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

from multus_check.checks.base import CLUSTER, finding
from multus_check.checks.registry import matches
from multus_check.domain import k8s
from multus_check.domain.cluster import Nad, cluster_dns_ip, kubernetes_service_ip, macvlan_masters, nads
from multus_check.domain.node import NotCollected, default_route_iface, interfaces
from multus_check.e2e import checks as ids
from multus_check.e2e.arguments import DEFAULT_E2E_TIMEOUT, DEFAULT_PEER_WINDOW, DEFAULT_PROBE_IMAGE, add_e2e_arguments
from multus_check.e2e.judge import Expectations, judge
from multus_check.e2e.podspec import Target
from multus_check.model import Finding, Status
from multus_check.snapshot.model import Snapshot

log = logging.getLogger(__name__)
__all__ = ["GATING_CHECKS", "add_e2e_arguments", "run_e2e", "with_e2e"]
#: static checks whose failure makes the sample pod pointless: no NAD API, or no Multus at all
GATING_CHECKS = ("nad.crd", "multus.installed")


def _opt(args: argparse.Namespace, name: str, default: Any) -> Any:
    value = getattr(args, name, None)
    return default if value is None else value


def run_e2e(args: argparse.Namespace, snapshot: Snapshot, static_findings: list[Finding], *,
            gateway: Any = None, notify: Callable[[str], None] | None = None,
            poll_interval: float = 0.25) -> list[Finding]:
    """The e2e findings of this run (empty with --no-e2e or when --check/--skip exclude them all)."""
    selected = [c for c in ids.E2E_CHECKS
                if (not _opt(args, "check", []) or matches(c, args.check)) and not matches(c, _opt(args, "skip", []))]
    if _opt(args, "no_e2e", False) or not selected or _offline(args, snapshot):
        return []
    from multus_check.collect.live.progress import Progress

    progress = Progress()  # without a caller's notify: lines on stderr, a bar for the sample pods on a terminal
    try:
        out = _plan_and_run(args, snapshot, static_findings, gateway, notify or progress.say, poll_interval,
                            None if notify else progress.pods)
    finally:
        progress.done()
    return [f for f in out if f.check in selected]


def _offline(args: argparse.Namespace, snap: Snapshot) -> bool:
    """Judging a snapshot directory offline: there is no cluster to run a pod on, so the e2e phase
    does not apply (it is not "could not look"; the run never claims to cover it)."""
    return bool(_opt(args, "snapshot", None)) or snap.source.get("kind") not in (None, "live")


def _skip_all(reason: str) -> list[Finding]:
    return [finding(c, Status.SKIP, CLUSTER, reason) for c in ids.E2E_CHECKS]


def _plan_and_run(args: argparse.Namespace, snap: Snapshot, static: list[Finding], gateway: Any,
                  notify: Callable[[str], None], poll_interval: float,
                  on_pods: Callable[[int, int], None] | None = None) -> list[Finding]:
    failed = sorted({f.check for f in static if f.check in GATING_CHECKS and f.status is Status.FAIL})
    if failed:
        return _skip_all(f"Not run: prerequisite check(s) {', '.join(failed)} failed, so no sample pod can attach.")
    chosen, skipped = _nads(args, snap, static)
    if not chosen:
        return skipped or _skip_all("Not run: no macvlan NetworkAttachmentDefinition to test (use --nad NS/NAME).")
    nodes = _nodes(args, snap)
    if not nodes:
        return skipped + _skip_all("Not run: no schedulable node in the snapshot to place a sample pod on.")
    targets = [Target(k8s.namespace(n.obj) or "default", k8s.name(n.obj), node) for n in chosen for node in nodes]
    expect = _expectations(args, snap, chosen, nodes)
    route_to = [ip for ip in (expect.dns_ip, expect.api_ip) if ip]
    if gateway is None:
        from multus_check.kube import Gateway, load_target

        gateway = Gateway(load_target(_opt(args, "kubeconfig", None), _opt(args, "context", None)))
    from multus_check.collect.live.preflight import node_facts_manifest
    from multus_check.e2e.runner import E2ERun

    runner = E2ERun(gateway, str(_opt(args, "namespace", "multus-check")), str(_opt(args, "probe_image",
                    DEFAULT_PROBE_IMAGE)), float(_opt(args, "e2e_timeout", DEFAULT_E2E_TIMEOUT)), route_to,
                    keep=bool(_opt(args, "keep", False)), poll_interval=poll_interval, notify=notify, on_pods=on_pods,
                    peer_window=float(_opt(args, "e2e_peer_window", DEFAULT_PEER_WINDOW)))
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


def _nads(args: argparse.Namespace, snap: Snapshot, static: list[Finding]) -> tuple[list[Nad], list[Finding]]:
    """The NADs to test (named by --nad, else every macvlan NAD), and skips for unusable ones."""
    invalid = {f.subject.removeprefix("nad/") for f in static if f.check == "nad.config-valid" and f.status is Status.FAIL}
    wanted = [w if "/" in w else f"default/{w}" for w in _opt(args, "nad", [])]
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


def _nodes(args: argparse.Namespace, snap: Snapshot) -> list[str]:
    if _opt(args, "node", None):
        return [str(args.node)]
    hosts = [k8s.name(n) for n in sorted(snap.kind("Node"), key=k8s.name) if k8s.can_host_pods(n)]
    return hosts if _opt(args, "all_nodes", False) else hosts[:1]


def _expectations(args: argparse.Namespace, snap: Snapshot, chosen: list[Nad], nodes: list[str]) -> Expectations:
    subnets: dict[tuple[str, str], list[ipaddress.IPv4Network]] = {}
    problems: dict[tuple[str, str], str] = {}
    override = _opt(args, "e2e_lan_subnet", None)
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


def with_e2e(results: Any, args: argparse.Namespace, snapshot: Snapshot) -> Any:
    """The static `Results` extended by the e2e findings (what cli.py calls after the static checks)."""
    from multus_check.checks.registry import get
    from multus_check.report.results import Results

    extra = run_e2e(args, snapshot, list(results.findings))
    if not extra:
        return results
    checks = dict(results.checks) | {f.check: get(f.check).title for f in extra}
    merged = Results.build(list(results.findings) + extra, source=results.source, checks=checks,
                           run_id=results.run_id, started_at=results.started_at, notes=results.notes)
    return merged
