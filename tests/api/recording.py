"""A recorded, RBAC-enforcing emulated cluster for running whole documented modes of the tool.

`RecordingEmulator` is the write-aware emulator that authorizes every request from the shipped
manifests (`tests/api/rbac.py`), including the escalation checks the API server applies to
ClusterRole and ClusterRoleBinding creates (which kmock knows nothing about), and records every
request: its RBAC attributes, query, body and the status it got. SelfSubjectAccessReview
questions are recorded with their answers, so a test can hold each mode's preflight to asking
for everything the mode then does. `SampleKubelet` completes e2e sample pods with a probe
result instead of running their command (which would probe this machine's own network), and
runs collector pods like the fake kubelet does.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import yaml
from kmock._internal import rendering

from multus_check.e2e import sample_manifest as e2e_podspec
from tests.api.emulator import _status, selected_name
from tests.api.harness import EmulatorHarness
from tests.api.hosttree import build_host_tree
from tests.api.kubelet import FakeKubelet
from tests.api.rbac import RBAC_DIR, RBAC_GROUP, Decision, Rbac, Request
from tests.api.scenario import Scenario, seed
from tests.e2e.samples import network_status, probe_output
from tests.fixes.emulator_writes import WriteEmulator


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    request: Request | None  # None: not a resource request (/version)
    answer: Any = None  # a SelfSubjectAccessReview's answer
    decision: Decision | None = None  # the RBAC decision, with the grants it used (None: no RBAC in force)

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"

    @property
    def is_review(self) -> bool:
        return self.request is not None and self.request.resource == "selfsubjectaccessreviews"


@attrs.define(kw_only=True)
class RecordingEmulator(WriteEmulator):
    rbac: Rbac | None = None
    recorded: list[Recorded] = attrs.field(factory=list)

    def use(self, rbac: Rbac | None) -> None:
        """Authorize every request (and answer every review) from these manifests only (None: allow all)."""
        self.rbac = rbac
        self.authorizer = None if rbac is None else rbac.allows

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        req = self._request_of(request)
        review = req is not None and req.resource == "selfsubjectaccessreviews"
        decision = self._decide(req, request.data) if req is not None and not review else None
        refused = self._escalation(req, decision) if req is not None and not self._is_denied(
            req.verb, req.resource, req.group, req.namespace, req.name) else None
        response = refused if refused is not None else await super()._handle(request)
        answer = json.loads(response.body) if review and isinstance(response, aiohttp.web.Response) and response.body else None
        self.recorded.append(Recorded(request.method.value, request.url.path, dict(request.params), request.data,
                                      response.status, req, answer, decision))
        return response

    def _serve_namespaces(self, method: str, name: str | None, query: dict[str, str], body: bytes) -> aiohttp.web.StreamResponse:
        response = super()._serve_namespaces(method, name, query, body)
        verb = {"GET": "get" if name else "list", "POST": "create", "DELETE": "delete"}.get(method, method.lower())
        data = json.loads(body) if body else None
        req = Request(verb, "", "namespaces", None, name)
        self.recorded.append(Recorded(method, "/api/v1/namespaces" + (f"/{name}" if name else ""), query, data,
                                      response.status, req, decision=self._decide(req, data)))
        return response

    def _decide(self, req: Request, body: Any) -> Decision | None:
        return None if self.rbac is None else self.rbac.decide(req, body, self._stored_role_rules)

    def _request_of(self, request: rendering.Request) -> Request | None:
        verb, res_name, group = self._rbac_attributes(request)
        if not res_name:
            return None
        name = request.name or selected_name(request.params.get("fieldSelector"))
        if verb == "create":
            name = None  # the API server authorizes a create without the new object's name
        return Request(verb, group, res_name, request.namespace, name)

    @staticmethod
    def _escalation(req: Request, decision: Decision | None) -> aiohttp.web.StreamResponse | None:
        """The API server's escalation checks on creating RBAC objects (kmock has none)."""
        if decision is None or decision.allowed or req.group != RBAC_GROUP or req.verb != "create":
            return None
        return _status(decision.status, "Forbidden" if decision.status == 403 else "NotFound", decision.reason)

    def _stored_role_rules(self, name: str) -> list[dict[str, Any]] | None:
        for (res, _, stored), obj in list(self.objects.items()):
            if res.plural == "clusterroles" and stored == name and not obj.deleted:
                return list(obj.raw.get("rules") or [])
        return None


class SampleKubelet(FakeKubelet):
    """Runs collector pods like the fake kubelet; completes e2e sample pods with a healthy probe result
    (`samples="never"`: leaves them pending), never running their command on this machine."""

    samples: str = "complete"

    async def _run_pod(self, ns: str, name: str, pod: dict[str, Any], bin_dir: Path) -> None:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        if labels.get("app.kubernetes.io/component") != e2e_podspec.COMPONENT:
            await super()._run_pod(ns, name, pod, bin_dir)
            return
        if self.samples == "never":
            return
        await asyncio.sleep(0.05)
        node = pod["spec"].get("nodeName", "")
        output = probe_output() | {"node": node}
        self.emulator.logs[(ns, name)] = json.dumps(output) + "\n"
        obj = self.emulator.objects["v1/pods", ns, name]
        if not obj.deleted:
            obj.patch({"metadata": {"annotations": {e2e_podspec.STATUS_ANNOTATION: json.dumps(network_status())}},
                       "status": {"phase": "Succeeded", "containerStatuses": [
                           {"name": e2e_podspec.CONTAINER, "ready": False,
                            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}})


def manifest_namespaces(files: tuple[str, ...]) -> list[dict[str, Any]]:
    """The Namespace objects the manifests create (node-facts.yaml makes `multus-check`)."""
    return [d for f in files for d in yaml.safe_load_all((RBAC_DIR / f).read_text()) if d and d["kind"] == "Namespace"]


@contextmanager
def recorded_world(snapshot_dir: Path, workdir: Path, samples: str = "complete") -> Iterator[Scenario]:
    """The snapshot's cluster in a recording emulator, with collector pods run for real and sample pods faked."""
    workdir.mkdir(parents=True, exist_ok=True)
    em = RecordingEmulator()
    seed(em, snapshot_dir)
    hosts = {d.name: build_host_tree(d) for d in sorted((snapshot_dir / "nodes").iterdir()) if d.is_dir()}
    kubelet = SampleKubelet(em, hosts, workdir, {}, 0.0)
    kubelet.samples = samples
    harness = EmulatorHarness(em, workdir / "kubeconfig")
    harness.background.append(kubelet.run)
    try:
        with harness:
            yield Scenario(harness, kubelet, hosts)
    finally:
        for host in hosts.values():
            host.close()
            shutil.rmtree(host.root.parent, ignore_errors=True)
