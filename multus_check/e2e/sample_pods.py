"""Run the sample pods: create them, wait with bounded polling, read their evidence, remove them.

Touches the cluster only through the gateway, and only objects labelled with this run's id in
the run's namespace (created and removed by the run unless it already existed). The pods are
created, polled and read through the pod-run module (`kube.podrun`), so the pods and ConfigMap go
on success, failure, Ctrl-C and SIGTERM. Pod states are read with one list call by label per poll
for all pods; events are read (one list call) only while a pod is still pending, at most once a second. The first sandbox failure
of a pod that has not started (a `FailedCreatePodSandBox` event, or any Warning the catalog
knows) ends the wait for that pod at once, known cause or not: the kubelet would only retry the
same ADD until the timeout, and the event already holds the cause.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multus_check import signals
from multus_check.collect.redact import redact_object
from multus_check.domain.known_failures import match
from multus_check.e2e import sample_manifest
from multus_check.e2e.sample_manifest import Target
from multus_check.errors import ClusterAccessError, Forbidden
from multus_check.kube.access import Permission
from multus_check.kube.podrun import UNRECOVERABLE_WAITING, Run, finish, run_permissions
from multus_check.kube.resources import EVENTS, PODS
from multus_check.model import new_run_id

if TYPE_CHECKING:
    from multus_check.kube import Gateway

log = logging.getLogger(__name__)

#: a sample pod is done at the first failed pull too (a collector pod waits for the kubelet's retry)
FATAL_WAITING = UNRECOVERABLE_WAITING | {"ErrImagePull"}
#: the kubelet's event reason for a failed CNI ADD (kubelet events.FailedCreatePodSandBox)
SANDBOX_FAILED = "FailedCreatePodSandBox"
LOG_LIMIT_BYTES = 1 << 20
EVENT_INTERVAL = 1.0
NAMESPACE_WAIT = 60.0


@dataclass
class PodObservation:
    """Everything the run saw of one sample pod; judged later by `pod_verdicts.py`."""

    target: Target
    pod: str
    node: str | None = None
    phase: str = "not created"
    started: bool = False
    waiting_reason: str = ""
    waiting_message: str = ""
    terminated: dict[str, Any] | None = None
    network_status: list[dict[str, Any]] | None = None
    output: dict[str, Any] | None = None
    output_problem: str = ""
    events: list[dict[str, str]] = field(default_factory=list)
    timed_out: bool = False
    sandbox_failed: bool = False
    error: str = ""
    seconds: float = 0.0

    @property
    def finished(self) -> bool:
        return (self.phase in ("Succeeded", "Failed") or self.waiting_reason in FATAL_WAITING or self.sandbox_failed
                or bool(self.error))

    def known_cause(self) -> dict[str, str] | None:
        """The first sandbox/Warning event whose message the known-failures catalog recognises."""
        for event in self.events:
            known = match(event["message"])
            if known is not None:
                return {"catalog": known.id, "cause": known.cause, "related_check": known.check, "fix": known.fix,
                        "event_reason": event["reason"], "event_message": event["message"]}
        return None

    def sandbox_failure(self) -> dict[str, str] | None:
        """The first event saying the pod's sandbox could not be set up, whatever its message."""
        return next((e for e in self.events if e["reason"] == SANDBOX_FAILED), None)


@dataclass
class E2ERun:
    gateway: Gateway
    namespace: str
    image: str
    timeout: float
    route_to: list[str]
    keep: bool = False
    poll_interval: float = 0.25
    peer_window: float = 30.0
    notify: Callable[[str], None] = lambda text: None
    run_id: str = field(default_factory=new_run_id)
    #: sample pods finished so far (done, total); without it, `notify` gets a line per change
    on_pods: Callable[[int, int], None] | None = None
    run: Run | None = None

    def missing_permissions(self) -> list[Permission]:
        """What the sample pods need in the namespace that RBAC does not grant, asked by review before anything."""
        try:
            answers, _ = run_permissions(self.gateway, self.namespace, [Permission("list", EVENTS, self.namespace)])
        except Forbidden as exc:
            log.warning("cannot check the sample pods' permissions up front (%s); trying", exc)
            return []
        return [p for p, ok in answers.items() if not ok]

    def execute(self, targets: list[Target]) -> list[PodObservation]:
        """Create one sample pod per target, wait for all, and always clean up."""
        self.run = Run(self.gateway, self.namespace, self.run_id)
        observations = [PodObservation(t, sample_manifest.pod_name(self.run.run_id, i)) for i, t in enumerate(targets)]
        with signals.handled(), signals.tracking(self.run.left_behind):
            try:
                self._setup(observations)
                self._wait(observations)
            except ClusterAccessError as exc:
                for obs in observations:
                    if not obs.finished:
                        obs.error = obs.error or f"the sample pod could not be run: {exc}"
            finally:
                finish(self.run, self.keep, self.notify)
        return observations

    # -- setup ----------------------------------------------------------------------------------

    def _setup(self, observations: list[PodObservation]) -> None:
        assert self.run is not None
        run_id = self.run.run_id
        self.run.setup_waiting(sample_manifest.configmap_manifest(self.namespace, run_id), NAMESPACE_WAIT)
        deadline = self.timeout + 30
        peers = sample_manifest.peer_plans(run_id, [o.target for o in observations], self.peer_window)
        for index, obs in enumerate(observations):
            pod = sample_manifest.sample_pod(self.namespace, run_id, index, obs.target, self.image, self.route_to, deadline,
                                     peer=peers.get(index))
            try:
                self.run.create(PODS, pod)
                obs.phase, obs.node = "Pending", obs.target.node
            except (Forbidden, ClusterAccessError) as exc:
                obs.error = f"creating sample pod {obs.pod} failed: {exc}"
        self.notify(f"e2e: {len(observations)} sample pod(s) created in namespace {self.namespace} "
                    f"(image {self.image})")

    def _count(self, done: int, total: int) -> None:
        if self.on_pods is not None:
            self.on_pods(done, total)
        else:
            self.notify(f"e2e: {done}/{total} sample pods done")

    # -- waiting --------------------------------------------------------------------------------

    def _wait(self, observations: list[PodObservation]) -> None:
        assert self.run is not None
        t0 = time.monotonic()
        deadline, last_events, last_note = t0 + self.timeout, 0.0, -1
        by_name = {o.pod: o for o in observations}
        while True:
            for pod in self.run.pods().values():
                obs = by_name.get(str(pod["metadata"]["name"]))
                if obs is not None and not obs.finished:
                    _update(obs, pod)
                    obs.seconds = time.monotonic() - t0
            now = time.monotonic()
            pending = [o for o in observations if not o.finished]
            if pending and now - last_events >= EVENT_INTERVAL and now - t0 >= EVENT_INTERVAL:
                self._read_events(observations)
                last_events = now
                for obs in pending:
                    if not obs.started and (obs.sandbox_failure() is not None or obs.known_cause() is not None):
                        obs.sandbox_failed = True  # the kubelet would retry the same failure until the timeout
            done = sum(1 for o in observations if o.finished)
            if done != last_note:
                self._count(done, len(observations))
                last_note = done
            if done == len(observations):
                break
            if now >= deadline:
                for obs in observations:
                    if not obs.finished:
                        obs.timed_out = True
                self._read_events(observations)
                break
            time.sleep(self.poll_interval)
        self._read_logs(observations)

    def _read_events(self, observations: list[PodObservation]) -> None:
        try:
            events = [redact_object(e) for e in self.gateway.list(EVENTS, namespace=self.namespace)]  # as collected ones
        except ClusterAccessError as exc:
            log.warning("cannot read the sample pods' events: %s", exc)
            return
        by_name = {o.pod: o for o in observations}
        for obs in observations:
            obs.events = []
        for event in events:
            obj = event.get("involvedObject") or event.get("regarding") or {}
            owner = by_name.get(str(obj.get("name", "")))
            if owner is not None and event.get("type") == "Warning":
                owner.events.append({"reason": str(event.get("reason", "")),
                                   "message": str(event.get("message") or event.get("note") or "")})

    def _read_logs(self, observations: list[PodObservation]) -> None:
        assert self.run is not None
        for obs in observations:
            if not obs.started:
                continue
            try:
                text = self.run.log(obs.pod, sample_manifest.CONTAINER, LOG_LIMIT_BYTES)
            except ClusterAccessError as exc:
                obs.output_problem = f"the pod's log could not be read: {exc}"
                continue
            obs.output, obs.output_problem = parse_output(text)


def _update(obs: PodObservation, pod: dict[str, Any]) -> None:
    status = pod.get("status") or {}
    obs.phase = str(status.get("phase") or "Pending")
    obs.node = str((pod.get("spec") or {}).get("nodeName") or obs.node or "") or None
    raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(sample_manifest.STATUS_ANNOTATION)
    if raw:
        try:
            parsed = json.loads(raw)
            obs.network_status = parsed if isinstance(parsed, list) else None
        except json.JSONDecodeError:
            obs.network_status = None
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if "running" in state or "terminated" in state:
            obs.started = True
        if "terminated" in state:
            obs.terminated = dict(state["terminated"])
        waiting = state.get("waiting") or {}
        obs.waiting_reason = str(waiting.get("reason") or "")
        obs.waiting_message = str(waiting.get("message") or "")
    if obs.phase == "Failed" and not obs.started:
        obs.waiting_message = obs.waiting_message or str(status.get("message") or status.get("reason") or "")


def parse_output(text: str) -> tuple[dict[str, Any] | None, str]:
    """The probe's JSON object (the last JSON line of the log), or why there is none."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(data, dict) and data.get("probe") == "multus-check-e2e":
                return data, ""
    tail = text.strip()[-400:]
    return None, "the pod's log holds no probe result" + (f"; it ends with: {tail}" if tail else " (empty log)")
