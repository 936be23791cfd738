"""The API emulator with the write semantics the fixers rely on, each proven in test_emulator_writes.py.

kmock 0.8 merges patches naively, has no resourceVersion conflicts and no dry run for writes.
This subclass serves the writes itself, the way the API server does:

- PUT replaces the whole object; a `metadata.resourceVersion` that is not the stored one is a
  409 with the API server's message; `dryRun=All` validates and stores nothing; uid and
  creationTimestamp are kept, status is not writable through the main resource;
- DELETE honours `preconditions` (uid, resourceVersion) with 409, and `dryRun=All`;
- a dry-run POST of an object that exists is a 409 AlreadyExists;
- PATCH answers 415: the fixers never patch (they replace with preconditions), so no test can
  pass on kmock's naive merge;
- `deployments`/`statefulsets` (for `attach`) and service accounts and cluster RBAC (for install-multus) are served
  (and can be seeded from a snapshot), and `fail_write()` makes the next real (non-dry-run) write to a path fail,
  for rollback tests;
- what the API server and the workload controllers write after a PUT that changes a workload's pod
  template (`controller_writes`): `metadata.generation` + 1 (a spec change, any of the three kinds), a
  DaemonSet's `deprecated.daemonset.template.generation` + 1 in the same write (apps/v1 conversion of
  spec.templateGeneration), and, as a second write with its own resourceVersion right after the answer,
  the Deployment controller's `deployment.kubernetes.io/revision` + 1 and `status.observedGeneration`
  (pkg/controller/deployment: SetDeploymentRevision). So undo meets the object as a real cluster leaves it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import aiohttp.web
import attrs
from kmock import ResourceInfo, resource
from kmock._internal import rendering

from tests.api.emulator import ClusterEmulator, _status

WRITE_METHODS = ("PUT", "POST", "DELETE", "PATCH")
WORKLOADS = ("deployments", "daemonsets", "statefulsets")
TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"
REVISION = "deployment.kubernetes.io/revision"
#: resources the base emulator does not serve: plural key -> (kind, namespaced)
EXTRA_RESOURCES = {
    "apps/v1/deployments": ("Deployment", True),
    "apps/v1/statefulsets": ("StatefulSet", True),
    "v1/serviceaccounts": ("ServiceAccount", True),
    "rbac.authorization.k8s.io/v1/clusterroles": ("ClusterRole", False),
    "rbac.authorization.k8s.io/v1/clusterrolebindings": ("ClusterRoleBinding", False),
}


@attrs.define(kw_only=True)
class WriteEmulator(ClusterEmulator):
    write_faults: list[tuple[str, re.Pattern[str], int]] = attrs.field(factory=list)
    #: play the API server's and the controllers' part after a workload's template changes (see above)
    controller_writes: bool = True

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        for key, (kind, namespaced) in EXTRA_RESOURCES.items():
            self.resources[key] = ResourceInfo(kind=kind, namespaced=namespaced)

    def put(self, obj: dict[str, Any]) -> None:
        """Seed an object; also of the kinds only this emulator serves (a snapshot with Multus's RBAC)."""
        key = next((k for k, (kind, _) in EXTRA_RESOURCES.items() if kind == obj["kind"]), None)
        if key is None:
            super().put(obj)
            return
        meta = obj.setdefault("metadata", {})
        self._stamp(meta)
        self.objects[resource(key), meta.get("namespace"), meta["name"]] = obj

    def fail_write(self, method: str, path_regex: str, status: int = 422) -> None:
        """The next real (not dry-run) `method` on a matching path fails with `status`."""
        self.write_faults.append((method.upper(), re.compile(path_regex), status))

    def writes(self, dry_run: bool | None = None) -> list[tuple[str, str, str]]:
        """Write requests seen: all, only dry runs (True), or only real ones (False)."""
        out = [c for c in self.calls if c[0] in WRITE_METHODS and "selfsubjectaccessreviews" not in c[1]]
        if dry_run is None:
            return out
        return [c for c in out if ("dryRun=All" in c[2]) == dry_run]

    async def _special(self, request: rendering.Request) -> aiohttp.web.StreamResponse | None:
        assert request.resource is not None
        method, dry = request.method.value, request.params.get("dryRun") == "All"
        if method == "PATCH":
            return _status(415, "UnsupportedMediaType", "this test emulator refuses PATCH: fixes must replace with preconditions")
        if not dry:
            for i, (m, rx, code) in enumerate(self.write_faults):
                if m == method and rx.search(request.url.path):
                    del self.write_faults[i]
                    return _status(code, "Invalid" if code == 422 else "InternalError", f"injected write failure {code}")
        if method == "PUT" and request.name:
            return await self._replace(request, dry)
        if method == "DELETE" and request.name:
            return await self._delete(request, dry)
        if method == "POST" and dry and request.resource.plural != "selfsubjectaccessreviews":
            meta = (request.data or {}).get("metadata", {})
            if self._stored(request, meta.get("name")) is not None:
                return _status(409, "AlreadyExists", f'{request.resource.plural} "{meta.get("name")}" already exists')
        return await super()._special(request)

    def _stored(self, request: rendering.Request, name: str | None) -> Any:
        key = (request.resource, request.namespace, name)
        obj = self._objects[key] if key in self._objects else None  # noqa: SIM401
        return None if obj is None or obj.deleted else obj

    async def _replace(self, request: rendering.Request, dry: bool) -> aiohttp.web.StreamResponse:
        assert request.resource is not None
        plural, body = request.resource.plural, request.data
        async with self._lock:
            obj = self._stored(request, request.name)
            if obj is None:
                return _status(404, "NotFound", f'{plural} "{request.name}" not found')
            if not isinstance(body, dict) or body.get("metadata", {}).get("name") != request.name:
                return _status(400, "BadRequest", "the name of the object does not match the name on the URL")
            stored = copy.deepcopy(obj.raw)
            wanted = body["metadata"].get("resourceVersion")
            if wanted and wanted != stored["metadata"].get("resourceVersion"):
                return _status(409, "Conflict", f'Operation cannot be fulfilled on {plural} "{request.name}": the object '
                               "has been modified; please apply your changes to the latest version and try again")
            new = copy.deepcopy(body)
            for key in ("uid", "creationTimestamp"):
                new["metadata"][key] = stored["metadata"].get(key)
            new.pop("status", None)
            if "status" in stored:
                new["status"] = stored["status"]
            template_changed = self._server_side_fields(plural, stored, new)
            if dry:
                new["metadata"]["resourceVersion"] = stored["metadata"].get("resourceVersion")
                return aiohttp.web.json_response(new)
            new["metadata"]["resourceVersion"] = str(next(self._rv))
            obj.create(new)
            raw = obj.raw
            controlled = self._deployment_controller(obj, raw, stored) if plural == "deployments" and template_changed else None
        await self._buses[request.resource].put({"type": "MODIFIED", "object": raw})
        if controlled is not None:
            await self._buses[request.resource].put({"type": "MODIFIED", "object": controlled})
        return aiohttp.web.json_response(raw)

    def _server_side_fields(self, plural: str, stored: dict[str, Any], new: dict[str, Any]) -> bool:
        """What the API server sets on a workload PUT; whether its pod template changed."""
        if plural not in WORKLOADS or not self.controller_writes:
            return False
        old_spec, new_spec = stored.get("spec") or {}, new.get("spec") or {}
        meta = new["metadata"]
        meta["generation"] = int(stored["metadata"].get("generation") or 1) + (old_spec != new_spec)
        changed = old_spec.get("template") != new_spec.get("template")
        if plural == "daemonsets":
            old_gen = int(((stored["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION)) or 1)
            meta.setdefault("annotations", {})[TEMPLATE_GENERATION] = str(old_gen + changed)
        return changed

    def _deployment_controller(self, obj: Any, raw: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
        """The Deployment controller's update after a template change: a new revision (the highest so far + 1,
        whatever the PUT said), the observed generation."""
        controlled = copy.deepcopy(raw)
        annotations = controlled["metadata"].setdefault("annotations", {})
        highest = max(int(a.get(REVISION) or 0) for a in (annotations, before["metadata"].get("annotations") or {}))
        annotations[REVISION] = str(highest + 1)
        controlled["status"] = {**(controlled.get("status") or {}), "observedGeneration": controlled["metadata"]["generation"]}
        controlled["metadata"]["resourceVersion"] = str(next(self._rv))
        obj.create(controlled)
        return dict(obj.raw)

    async def _delete(self, request: rendering.Request, dry: bool) -> aiohttp.web.StreamResponse:
        assert request.resource is not None
        pre = ((request.data or {}) if isinstance(request.data, dict) else {}).get("preconditions") or {}
        async with self._lock:
            obj = self._stored(request, request.name)
            if obj is None:
                return _status(404, "NotFound", f'{request.resource.plural} "{request.name}" not found')
            raw = copy.deepcopy(obj.raw)
            meta = raw["metadata"]
            for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
                if pre.get(field) and pre[field] != meta.get(field):
                    return _status(409, "Conflict", f"Precondition failed: {label} in precondition: {pre[field]}, "
                                   f"{label} in object meta: {meta.get(field)}")
            if dry:
                return aiohttp.web.json_response(raw)
            obj.delete()
        await self._buses[request.resource].put({"type": "DELETED", "object": raw})
        return aiohttp.web.json_response(raw)
