"""kmock's KubernetesEmulator with the API behaviour multus-check relies on filled in.

kmock 0.8 is deliberately simple. Where the collectors depend on behaviour it lacks, this
subclass supplies it, and `test_emulator.py` proves each piece, so that no collector test can
pass only because the emulator is lax:

- `labelSelector`/`fieldSelector` filter lists (kmock returns every object);
- `pods/<name>/log` serves what the fake kubelet logged (kmock answers with the pod object);
- DELETE on a collection honours its label selector, and deleting a Namespace removes its objects;
- objects get uid, creationTimestamp and resourceVersion; a new Pod starts `Pending`;
- Namespaces work at all: kmock 0.8 parses `/api/v1/namespaces` as a namespace prefix and fails
  with a 500, so this class serves that resource itself (`namespaces` dict);
- `dryRun=All` creates nothing, and a dry-run Service with an out-of-range clusterIP is refused
  with the API server's exact message (flannel-k3s.md §5);
- RBAC: `deny()` rules (or an `authorizer`) answer 403 with the real message format, and
  SelfSubjectAccessReview answers from the same rules; a list with `fieldSelector=metadata.name=X`
  is authorized as a request for name X, as the API server does (so `resourceNames` can grant it);
- faults: `fail_next()` answers the next matching requests with a status (and Retry-After) or
  drops the connection, to exercise retries.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp.web
import attrs
from kmock import KubernetesEmulator, ResourceInfo, resource
from kmock._internal import rendering

from tests.api.selectors import field_matcher, label_matcher

CORE_RESOURCES = {
    "v1/nodes": ResourceInfo(kind="Node", namespaced=False),
    "v1/pods": ResourceInfo(kind="Pod", namespaced=True, subresources={"log", "status"}),
    "v1/configmaps": ResourceInfo(kind="ConfigMap", namespaced=True),
    "v1/services": ResourceInfo(kind="Service", namespaced=True),
    "v1/events": ResourceInfo(kind="Event", namespaced=True),
    "apps/v1/daemonsets": ResourceInfo(kind="DaemonSet", namespaced=True),
    "apiextensions.k8s.io/v1/customresourcedefinitions": ResourceInfo(kind="CustomResourceDefinition", namespaced=False),
    "authorization.k8s.io/v1/selfsubjectaccessreviews": ResourceInfo(kind="SelfSubjectAccessReview", namespaced=False),
}
NAD_RESOURCE = "k8s.cni.cncf.io/v1/network-attachment-definitions"
SERVICECIDR_RESOURCE = "networking.k8s.io/v1/servicecidrs"
_NAMESPACE_PATH = re.compile(r"^/api/v1/namespaces(?:/([^/]+))?/?$")


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    answers: list[int | str]  # a status code, or "reset" to drop the connection
    retry_after: str | None = None


@attrs.define(kw_only=True)
class ClusterEmulator(KubernetesEmulator):
    service_cidr: str = "10.43.0.0/16"
    user: str = "tester"
    denied: list[tuple[str, str, str | None]] = attrs.field(factory=list)
    faults: list[Fault] = attrs.field(factory=list)
    logs: dict[tuple[str, str], str] = attrs.field(factory=dict)
    calls: list[tuple[str, str, str]] = attrs.field(factory=list)  # (method, path, query)
    namespaces: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    #: when set, only what it allows is allowed: (verb, group, resource[/sub], namespace, name) -> bool
    authorizer: Any = None
    _rv: Any = attrs.field(factory=lambda: itertools.count(1000))

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        for key, info in CORE_RESOURCES.items():
            self.resources[key] = info

    # -- configuration used by tests ----------------------------------------------------------

    def install_nad_crd(self) -> None:
        """Serve the NAD resource and hold its CRD object, as installing Multus does."""
        self.resources[NAD_RESOURCE] = ResourceInfo(kind="NetworkAttachmentDefinition", namespaced=True)
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "network-attachment-definitions.k8s.cni.cncf.io"},
               "spec": {"group": "k8s.cni.cncf.io", "scope": "Namespaced",
                        "names": {"plural": "network-attachment-definitions",
                                  "kind": "NetworkAttachmentDefinition"}}}
        self.put(crd)

    def enable_servicecidr_api(self) -> None:
        self.resources[SERVICECIDR_RESOURCE] = ResourceInfo(kind="ServiceCIDR", namespaced=False)

    def deny(self, verb: str, rbac_resource: str, namespace: str | None = None) -> None:
        """Forbid `verb` on `rbac_resource` (`pods`, `daemonsets.apps`, `pods/log`), optionally in one namespace."""
        self.denied.append((verb, rbac_resource, namespace))

    def fail_next(self, method: str, path_regex: str, *answers: int | str, retry_after: str | None = None) -> None:
        self.faults.append(Fault(method.upper(), re.compile(path_regex), list(answers), retry_after))

    def put(self, obj: dict[str, Any]) -> None:
        """Store an object directly (seeding), keyed by its apiVersion and kind."""
        res = _resource_of(obj)
        meta = obj.setdefault("metadata", {})
        self._stamp(meta)
        self.objects[res, meta.get("namespace"), meta["name"]] = obj

    def live(self, plural_key: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects of a resource that currently exist (not deleted)."""
        res = resource(plural_key)
        return [
            obj.raw for (r, ns, _), obj in list(self.objects.items())
            if r == res and not obj.deleted and (namespace is None or ns == namespace)
        ]

    def count_calls(self, method: str | None = None, pattern: str = "") -> int:
        rx = re.compile(pattern)
        return sum(1 for m, p, _ in self.calls if (method is None or m == method) and rx.search(p))

    # -- request handling ------------------------------------------------------------------------

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        m = _NAMESPACE_PATH.match(raw_request.path)
        if m is None:
            return await super().__call__(raw_request)
        body = await raw_request.read()
        self.calls.append((raw_request.method, raw_request.path, raw_request.query_string))
        return self._serve_namespaces(raw_request.method, m.group(1), dict(raw_request.query), body)

    def _serve_namespaces(self, method: str, name: str | None, query: dict[str, str], body: bytes) -> aiohttp.web.StreamResponse:
        verb = {"GET": "get" if name else "list", "POST": "create", "DELETE": "delete"}.get(method, method.lower())
        if self._is_denied(verb, "namespaces", "", None, name):
            return self._forbidden(verb, "namespaces", "", None)
        if method == "GET" and name is None:
            match = label_matcher(query.get("labelSelector"))
            items = [ns for ns in self.namespaces.values() if match(ns)]
            return aiohttp.web.json_response({"kind": "NamespaceList", "apiVersion": "v1", "items": items})
        if method == "GET" and name:
            if name not in self.namespaces:
                return _status(404, "NotFound", f'namespaces "{name}" not found')
            return aiohttp.web.json_response(self.namespaces[name])
        if method == "POST":
            obj = json.loads(body or b"{}")
            new = obj.get("metadata", {}).get("name", "")
            if new in self.namespaces:
                return _status(409, "AlreadyExists", f'namespaces "{new}" already exists')
            self._stamp(obj.setdefault("metadata", {}))
            obj["status"] = {"phase": "Active"}
            self.namespaces[new] = obj
            return aiohttp.web.json_response(obj, status=201)
        if method == "DELETE" and name:
            if name not in self.namespaces:
                return _status(404, "NotFound", f'namespaces "{name}" not found')
            gone = self.namespaces.pop(name)
            for (_res, ns, _name), obj in list(self.objects.items()):
                if ns == name and not obj.deleted:
                    obj.delete()
            return aiohttp.web.json_response(gone)
        return _status(405, "MethodNotAllowed", f"{method} is not supported on namespaces here")

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        self.calls.append((request.method.value, request.url.path, request.url.query_string))
        fault = self._take_fault(request)
        if fault is not None:
            return fault
        verb, res_name, group = self._rbac_attributes(request)
        name = request.name or selected_name(request.params.get("fieldSelector"))
        if res_name and self._is_denied(verb, res_name, group, request.namespace, name):
            return self._forbidden(verb, res_name, group, request.namespace)
        if request.resource is not None:
            special = await self._special(request)
            if special is not None:
                return special
            if request.action is not None and request.action.value == "CREATE" and isinstance(request.data, dict):
                self._stamp(request.data.setdefault("metadata", {}), request.namespace)
                if request.resource.plural == "pods":
                    request.data.setdefault("status", {"phase": "Pending"})
            fast = await self._fast_path(request)
            if fast is not None:
                return fast
        return await super()._handle(request)

    async def _fast_path(self, request: rendering.Request) -> aiohttp.web.StreamResponse | None:
        """Serve plain CRUD directly, with the same storage semantics as kmock's emulator.

        kmock matches every request against its reaction DSL first (tens of milliseconds per
        request with hundreds of objects); the tests register no reactions of their own, so
        list/get/create/delete go straight to the store. Watches and discovery still take
        kmock's path.
        """
        action = request.action.value if request.action is not None else ""
        if request.resource is None or request.subresource or action not in ("LIST", "FETCH", "CREATE", "DELETE"):
            return None
        if action == "LIST":
            if not any(res == request.resource for res in self._get_resources()):
                return _status(404, "NotFound", "the server could not find the requested resource")
            return aiohttp.web.json_response(await self._serve_list(request))
        if action == "CREATE":
            data = request.data
            meta = data.get("metadata", {})
            key = (request.resource, request.namespace or meta.get("namespace"), meta.get("name"))
            async with self._lock:
                if key in self._objects and not self._objects[key].deleted:
                    return _status(409, "AlreadyExists", f'{request.resource.plural} "{key[2]}" already exists')
                if key in self._objects:
                    self._objects[key].create(data)
                else:
                    self._objects[key] = data
                raw = self._objects[key].raw
            await self._buses[request.resource].put({"type": "ADDED", "object": raw})
            return aiohttp.web.json_response(raw, status=201)
        key = (request.resource, request.namespace, request.name)
        async with self._lock:
            obj = self._objects[key] if key in self._objects else None  # noqa: SIM401 (ObjectsArray has no .get)
            if obj is None or obj.deleted:
                return _status(404, "NotFound", f'{request.resource.plural} "{request.name}" not found')
            raw = obj.raw
            if action == "DELETE":
                obj.delete()
        if action == "DELETE":
            await self._buses[request.resource].put({"type": "DELETED", "object": raw})
        return aiohttp.web.json_response(raw)

    async def _special(self, request: rendering.Request) -> aiohttp.web.StreamResponse | None:
        assert request.resource is not None
        plural, method = request.resource.plural, request.method.value
        if plural == "selfsubjectaccessreviews" and method == "POST":
            return self._access_review(request.data)
        if request.subresource == "log" and method == "GET":
            return self._serve_log(request)
        if method == "POST" and request.params.get("dryRun") == "All":
            return self._dry_run(request)
        if method == "DELETE" and request.name is None:
            return self._delete_collection(request)
        return None

    async def _serve_list(self, request: rendering.Request) -> rendering.Payload:
        body = await super()._serve_list(request)
        assert isinstance(body, dict)
        by_label = label_matcher(request.params.get("labelSelector"))
        by_field = field_matcher(request.params.get("fieldSelector"))
        body["items"] = [o for o in body["items"] if by_label(o) and by_field(o)]
        return body

    # -- pieces --------------------------------------------------------------------------------

    def _stamp(self, meta: dict[str, Any], namespace: str | None = None) -> None:
        if namespace and "namespace" not in meta:
            meta["namespace"] = namespace
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        meta["resourceVersion"] = str(next(self._rv))

    def _take_fault(self, request: rendering.Request) -> aiohttp.web.StreamResponse | None:
        for fault in self.faults:
            if fault.method == request.method.value and fault.path.search(request.url.path) and fault.answers:
                answer = fault.answers.pop(0)
                if answer == "reset":
                    raw = request._raw_request
                    assert raw is not None and raw.transport is not None
                    raw.transport.abort()
                    return aiohttp.web.Response(status=500)
                headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return _status(int(answer), "InternalError" if int(answer) >= 500 else "TooManyRequests",
                               f"injected fault {answer}", headers)
        return None

    def _rbac_attributes(self, request: rendering.Request) -> tuple[str, str, str]:
        if request.resource is None or not request.resource.plural:
            return "", "", ""
        method, named = request.method.value, request.name is not None
        verb = {
            "GET": "get" if named else ("watch" if request.params.get("watch") == "true" else "list"),
            "POST": "create", "PUT": "update", "PATCH": "patch",
            "DELETE": "delete" if named else "deletecollection",
        }.get(method, method.lower())
        name = request.resource.plural + (f"/{request.subresource}" if request.subresource else "")
        return verb, name, request.resource.group or ""

    def _is_denied(self, verb: str, res_name: str, group: str, namespace: str | None, name: str | None = None) -> bool:
        everyone = res_name == "selfsubjectaccessreviews" and verb == "create"  # system:basic-user
        if self.authorizer is not None and not everyone and not self.authorizer(verb, group, res_name, namespace, name):
            return True
        full = f"{res_name.split('/')[0]}.{group}" if group else res_name.split("/")[0]
        sub = res_name.partition("/")[2]
        full = f"{full}/{sub}" if sub else full
        return any(
            v in (verb, "*") and r in (full, "*") and (ns is None or ns == namespace)
            for v, r, ns in self.denied
        )

    def _forbidden(self, verb: str, res_name: str, group: str, namespace: str | None) -> aiohttp.web.StreamResponse:
        plural, _, sub = res_name.partition("/")
        shown = f"{plural}/{sub}" if sub else plural
        scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        message = (f'{shown} is forbidden: User "{self.user}" cannot {verb} resource "{plural}"'
                   f'{" (subresource " + repr(sub) + ")" if sub else ""} in API group "{group}" {scope}')
        return _status(403, "Forbidden", message)

    def _access_review(self, data: Any) -> aiohttp.web.StreamResponse:
        attrs_ = (data or {}).get("spec", {}).get("resourceAttributes", {})
        res_name = attrs_.get("resource", "") + (f"/{attrs_['subresource']}" if attrs_.get("subresource") else "")
        allowed = not self._is_denied(attrs_.get("verb", ""), res_name, attrs_.get("group", ""), attrs_.get("namespace"),
                                      attrs_.get("name"))
        body = dict(data or {})
        body["status"] = {"allowed": allowed, **({} if allowed else {"reason": "denied by test RBAC"})}
        return aiohttp.web.json_response(body, status=201)

    def _serve_log(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        key = (request.namespace or "", request.name or "")
        pods = [o for (r, ns, n), o in self.objects.items() if r.plural == "pods" and (ns, n) == key and not o.deleted]
        if not pods:
            return _status(404, "NotFound", f'pods "{key[1]}" not found')
        if key not in self.logs:
            return _status(400, "BadRequest", f'container "collector" in pod "{key[1]}" is waiting to start: ContainerCreating')
        text = self.logs[key]
        limit = request.params.get("limitBytes")
        return aiohttp.web.Response(text=text[: int(limit)] if limit else text, content_type="text/plain")

    def _dry_run(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        obj = dict(request.data or {})
        assert request.resource is not None
        if request.resource.plural == "services":
            name = obj.get("metadata", {}).get("name", "")
            ips = obj.get("spec", {}).get("clusterIPs") or [obj.get("spec", {}).get("clusterIP")]
            net = ipaddress.ip_network(self.service_cidr)
            for ip in ips:
                if ip and ip != "None" and ipaddress.ip_address(ip) not in net:
                    message = (
                        f'Service "{name}" is invalid: spec.clusterIPs: Invalid value: []string{{"{ip}"}}: '
                        f"failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. "
                        f"The range of valid IPs is {self.service_cidr}"
                    )
                    return _status(422, "Invalid", message)
        return aiohttp.web.json_response(obj, status=201)

    def _delete_collection(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        match = label_matcher(request.params.get("labelSelector"))
        gone = []
        for (res, ns, _), obj in list(self.objects.items()):
            if res == request.resource and not obj.deleted and (request.namespace in (None, ns)) and match(obj.raw):
                gone.append(obj.raw)
                obj.delete()
        return aiohttp.web.json_response({"kind": "List", "apiVersion": "v1", "items": gone})


def selected_name(field_selector: str | None) -> str | None:
    """The name a field selector pins (`metadata.name=X`): the API server authorizes such a list as name X."""
    for term in (field_selector or "").split(","):
        key, sep, value = term.replace("==", "=").partition("=")
        if sep and key.strip() == "metadata.name":
            return value.strip() or None
    return None


def _resource_of(obj: dict[str, Any]) -> resource:
    api_version, kind = obj["apiVersion"], obj["kind"]
    for key, info in CORE_RESOURCES.items():
        if info.kind == kind:
            return resource(key)
    plural = {"NetworkAttachmentDefinition": "network-attachment-definitions", "ServiceCIDR": "servicecidrs"}.get(kind)
    if plural is None:
        raise ValueError(f"the test emulator does not know kind {kind}")
    return resource(f"{api_version}/{plural}")


def _status(code: int, reason: str, message: str, headers: dict[str, str] | None = None) -> aiohttp.web.StreamResponse:
    body = {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    return aiohttp.web.json_response(body, status=code, headers=headers)
