"""Node facts from one short-lived collector pod per node, all nodes in parallel.

At most `concurrency` pods exist at once; a finished pod's slot goes to the next node at
once. The pods are created, polled and read through the pod-run module (`kube.podrun`): pod
states with one list call by label per poll for the whole run (not one per pod), and each
pod's log once, so requests grow by two per node and by one per poll. A node whose
collector cannot run (image pull, rejected by the kubelet, never started, timed out, broken
output) gets a failed `node/<name>` section naming why; the other nodes are still collected.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from multus_check.collect.live.bundle import Bundle
from multus_check.collect.live.collector_manifest import CONTAINER, collector_pod, pod_name
from multus_check.collect.live.wire import CollectorOutputError, error_in_log, parse_collector_log
from multus_check.errors import ClusterAccessError, Invalid
from multus_check.kube.podrun import UNRECOVERABLE_WAITING, Run
from multus_check.kube.resources import PODS
from multus_check.snapshot.data import NodeFacts, Section, SectionState

log = logging.getLogger(__name__)
LOG_LIMIT_BYTES = 8 << 20
GRACE_SECONDS = 15.0


@dataclass
class NodeOutcome:
    node: str
    facts: NodeFacts | None
    section: Section


@dataclass
class _Active:
    node: str
    pod: str
    started: float


@dataclass
class NodeFactsCollector:
    run: Run
    bundle: Bundle
    image: str
    timeout: float
    concurrency: int
    on_progress: Callable[[int, int, int], None] = lambda done, total, failed: None
    poll_interval: float = 0.25
    outcomes: dict[str, NodeOutcome] = field(default_factory=dict)

    def collect(self, nodes: list[dict[str, Any]]) -> dict[str, NodeOutcome]:
        queue: deque[tuple[int, dict[str, Any]]] = deque()
        for index, node in enumerate(nodes):
            name = str((node.get("metadata") or {}).get("name", ""))
            not_ready = _not_ready_reason(node)
            if not_ready:
                self._fail(name, f"the collector cannot run: {not_ready}")
            else:
                queue.append((index, node))
        total = len(nodes)
        active: dict[str, _Active] = {}
        workers = max(1, min(self.concurrency, 16))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collector") as pool:
            while queue or active:
                batch = [queue.popleft() for _ in range(min(len(queue), self.concurrency - len(active)))]
                for started in pool.map(self._start, batch):
                    if started is not None:
                        active[started.pod] = started
                self._report(total)
                if not active:
                    continue
                time.sleep(self.poll_interval)
                finished = self._poll(active)
                list(pool.map(lambda item: self._finish(*item), finished))
                for pod, _, _ in finished:
                    active.pop(pod, None)
                self._report(total)
        return self.outcomes

    def _report(self, total: int) -> None:
        failed = sum(1 for o in self.outcomes.values() if o.facts is None)
        self.on_progress(len(self.outcomes), total, failed)

    def _fail(self, node: str, detail: str) -> None:
        self.outcomes[node] = NodeOutcome(node, None, Section(SectionState.FAILED, detail))

    def _start(self, item: tuple[int, dict[str, Any]]) -> _Active | None:
        index, node = item
        name = str(node["metadata"]["name"])
        manifest = collector_pod(self.run.namespace, self.run.run_id, index, node, self.image, self.timeout, self.bundle)
        try:
            self.run.create(PODS, manifest)
        except ClusterAccessError as exc:
            self._fail(name, f"could not create the collector pod: {exc}")
            return None
        return _Active(name, pod_name(self.run.run_id, index), time.monotonic())

    def _poll(self, active: dict[str, _Active]) -> list[tuple[str, _Active, str | None]]:
        """(pod, active, failure-or-None) for every pod that is done; one list call."""
        try:
            pods: dict[str, dict[str, Any]] | None = self.run.pods()
        except ClusterAccessError as exc:
            log.warning("could not read the collector pods' state (%s); retrying", exc)
            pods = None
        done: list[tuple[str, _Active, str | None]] = []
        now = time.monotonic()
        for name, act in active.items():
            pod = pods.get(name) if pods is not None else None
            if pods is not None and pod is None:
                done.append((name, act, "the collector pod disappeared (deleted or evicted) before it finished"))
                continue
            state, why = _classify(pod) if pod is not None else ("waiting", "state unknown")
            if state == "succeeded":
                done.append((name, act, None))
            elif state == "failed":
                done.append((name, act, why))
            elif now - act.started > self.timeout + min(GRACE_SECONDS, self.timeout / 4):
                done.append((name, act, f"the collector did not finish within {self.timeout:g}s ({why})"))
        return done

    def _finish(self, pod: str, act: _Active, failure: str | None) -> None:
        text = ""
        try:
            text = self.run.log(pod, CONTAINER, LOG_LIMIT_BYTES)
        except Invalid:
            text = ""  # the container never started: no log
        except ClusterAccessError as exc:
            if failure is None:
                self._fail(act.node, f"could not read the collector's log: {exc}")
                return
        if failure is not None:
            detail = error_in_log(text)
            self._fail(act.node, f"{failure}{'; ' + detail if detail else ''} (pod {self.run.namespace}/{pod})")
            return
        try:
            facts = parse_collector_log(text, act.node)
        except CollectorOutputError as exc:
            self._fail(act.node, f"{exc} (pod {self.run.namespace}/{pod})")
            return
        self.outcomes[act.node] = NodeOutcome(act.node, facts, Section(SectionState.OK))


def _not_ready_reason(node: dict[str, Any]) -> str:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready" and cond.get("status") != "True":
            why = cond.get("reason") or cond.get("message") or cond.get("status")
            return f"the node is NotReady ({why})"
    return ""


def _classify(pod: dict[str, Any]) -> tuple[str, str]:
    """("succeeded" | "failed" | "waiting", why) from a pod's status."""
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    containers = [c for c in status.get("containerStatuses") or [] if isinstance(c, dict)]
    if phase == "Succeeded":
        return "succeeded", ""
    if phase == "Failed":
        parts = [str(status.get(k)) for k in ("reason", "message") if status.get(k)]
        for c in containers:
            term = (c.get("state") or {}).get("terminated") or {}
            if term:
                parts.append(f"exit code {term.get('exitCode')}" + (f" ({term['reason']})" if term.get("reason") else ""))
        return "failed", "the collector pod failed: " + ("; ".join(parts) or "no reason given")
    for c in containers:
        waiting = (c.get("state") or {}).get("waiting") or {}
        reason = str(waiting.get("reason") or "")
        if reason in UNRECOVERABLE_WAITING:
            kind = "image pull failed" if "Image" in reason else "container could not start"
            return "failed", f"{kind}: {reason}: {waiting.get('message', '')}".rstrip(": ")
        if reason:
            return "waiting", f"pod {phase}, container waiting: {reason}"
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return "waiting", f"pod unschedulable: {cond.get('reason')}: {cond.get('message', '')}"
    return "waiting", f"pod {phase}" + (", never started by the kubelet" if not containers else "")
