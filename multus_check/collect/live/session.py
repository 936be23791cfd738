"""One live collection: from a kubeconfig to a Snapshot, leaving nothing behind.

Order: load credentials; ask the server its version (unreachable or rejected stops here);
ask for every permission the run will use (SelfSubjectAccessReview); read the API objects;
then, unless --no-node-facts, create the run's namespace and ConfigMap, run the collector pods,
and clean up in `finally` (also on Ctrl-C and SIGTERM); last, work out the Service CIDR and
record how (the dry-run probe only where it is granted).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from multus_check import signals
from multus_check.collect.live.api import ApiReadout, read_api_objects
from multus_check.collect.live.bundle import BundleError, build_bundle
from multus_check.collect.live.collector_manifest import configmap_manifest
from multus_check.collect.live.collector_pods import NodeFactsCollector
from multus_check.collect.live.options import LiveOptions
from multus_check.collect.live.preflight import PreflightResult, preflight
from multus_check.collect.live.progress import Progress
from multus_check.collect.live.servicecidr import discover_service_cidr
from multus_check.kube import connect
from multus_check.kube.podrun import Run, finish
from multus_check.model import new_run_id
from multus_check.snapshot.data import FORMAT, Section, SectionState, Snapshot

if TYPE_CHECKING:
    from multus_check.kube import Gateway, RetryPolicy

log = logging.getLogger(__name__)


def collect(
    opts: LiveOptions,
    progress: Progress | None = None,
    policy: RetryPolicy | None = None,
    poll_interval: float = 0.25,
    gateway: Gateway | None = None,
    run_id: str | None = None,
) -> Snapshot:
    """`run_id`: the run's one id (its collector pods and ConfigMap carry it); a new one if not given."""
    progress = progress or Progress(enabled=opts.progress is not False)
    gw = gateway or connect(opts.cluster, policy, pool_size=min(opts.concurrency, 32))
    progress.step(f"connecting to {gw.target.description}")
    version = gw.server_version()
    checked = preflight(gw, opts.node_facts, opts.namespace, opts.probe_namespace)
    progress.step("reading API objects")
    readout = read_api_objects(gw, forbidden=checked.missing_reads)
    snap = _snapshot(gw, version, readout)
    run: Run | None = None
    if opts.node_facts:
        run = Run(gw, opts.namespace, run_id or new_run_id())
        with signals.handled(), signals.tracking(run.left_behind):
            try:
                _node_facts(gw, opts, run, checked.namespace_exists, readout, snap, progress, poll_interval)
                _service_cidr(gw, readout, snap, opts, checked)
            finally:
                finish(run, opts.keep, lambda text: progress.done(text))
    else:
        for name in _node_names(readout):
            snap.sections[f"node/{name}"] = Section(SectionState.NOT_COLLECTED, "--no-node-facts: no collector pods were created")
        _service_cidr(gw, readout, snap, opts, checked)
    snap.source["api_requests"] = gw.request_count
    if run is not None:
        snap.source["run_id"] = run.run_id
    progress.done()
    return snap


def _snapshot(gw: Gateway, version: dict[str, Any], readout: ApiReadout) -> Snapshot:
    snap = Snapshot(format=FORMAT, collected_at=datetime.now(UTC).isoformat(timespec="seconds"))
    snap.source = {
        "kind": "live",
        "description": f"live cluster, {gw.target.description}",
        "context": gw.target.context,
        "server": gw.target.configuration.host,
        "server_version": version.get("gitVersion", ""),
    }
    snap.sections["cluster"] = Section(SectionState.OK)
    snap.sections.update(readout.sections)
    for objects in readout.objects.values():
        snap.objects.extend(objects)
    return snap


def _node_names(readout: ApiReadout) -> list[str]:
    return [str(n["metadata"]["name"]) for n in readout.objects.get("nodes", [])]


def _node_facts(
    gw: Gateway, opts: LiveOptions, run: Run, namespace_exists: bool | None, readout: ApiReadout,
    snap: Snapshot, progress: Progress, poll_interval: float,
) -> None:
    nodes = readout.objects.get("nodes", [])
    nodes_section = readout.sections.get("cluster/nodes")
    if nodes_section is not None and nodes_section.state is not SectionState.OK:
        snap.problems.append(f"node facts not collected: the node list could not be read ({nodes_section.detail})")
        return
    try:
        bundle = build_bundle()
    except BundleError as exc:
        for name in _node_names(readout):
            snap.sections[f"node/{name}"] = Section(SectionState.FAILED, str(exc))
        return
    progress.step(f"starting collector pods on {len(nodes)} nodes (image {opts.collector_image})")
    run.setup(configmap_manifest(run.namespace, run.run_id, bundle), namespace_exists)
    collector = NodeFactsCollector(
        run, bundle, opts.collector_image, opts.timeout, opts.concurrency,
        on_progress=progress.nodes, poll_interval=poll_interval,
    )
    for name, outcome in collector.collect(nodes).items():
        snap.sections[f"node/{name}"] = outcome.section
        if outcome.facts is not None:
            snap.nodes[name] = outcome.facts


def _service_cidr(gw: Gateway, readout: ApiReadout, snap: Snapshot, opts: LiveOptions, checked: PreflightResult) -> None:
    namespace, why = opts.probe_namespace, ""
    if namespace is None:
        why = "skipped: --no-node-facts is read-only (--cidr-probe-namespace NS allows a dry-run Service in NS)"
    elif checked.probe_allowed is False:
        why = f"skipped: RBAC does not grant create services in namespace {namespace} (SelfSubjectAccessReview)"
        namespace = None
    snap.facts["serviceCIDR"] = discover_service_cidr(
        gw, readout.objects, readout.control_plane_pods, namespace, readout.servicecidr_version, why
    )
