"""The one gateway between multus-check and a Kubernetes API server.

Only this package imports `kubernetes`. It sends raw requests through the official client
(so authentication, TLS and proxies behave as in kubectl) and returns plain JSON dicts shaped
like `kubectl get -o json`. Transient failures are retried (see `retry.py`); every other
failure becomes one of the project's error types from `multus_check.errors`. It counts the
requests it sends, so tests and benchmarks can hold the collectors to their request budget. A
server that lets one request time out is not asked again in the same run (every later request
fails at once), so a silent server costs one timeout, and the message says how long it waited.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from typing import Any

import urllib3
from kubernetes import client

from multus_check.errors import (
    ClusterAccessError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Unauthorized,
    Unreachable,
    UsageError,
)
from multus_check.kube.kubeconfig import Target, printable_proxy
from multus_check.kube.resources import SELF_SUBJECT_ACCESS_REVIEWS, Resource
from multus_check.kube.retry import TRANSIENT_STATUSES, RetryPolicy, TransientError, parse_retry_after, retrying

log = logging.getLogger(__name__)

_VERB_BY_METHOD = {"GET": "get", "POST": "create", "DELETE": "delete", "PATCH": "patch", "PUT": "update"}


class Gateway:
    """Raw, counted, retried access to one API server."""

    def __init__(
        self,
        target: Target,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
        pool_size: int = 16,
    ) -> None:
        cfg = target.configuration
        cfg.retries = False  # our own policy is the only retry layer
        cfg.connection_pool_maxsize = max(pool_size, 4)
        try:
            self._api = client.ApiClient(configuration=cfg)
        except (ImportError, ValueError, TypeError, AttributeError) as exc:  # a proxy or TLS setting it cannot use
            raise UsageError(f"the client cannot use the connection settings of {target.description}: "
                             f"{' '.join(str(exc).split()) or type(exc).__name__}") from exc
        self.target = target
        self._via = f" through proxy {printable_proxy(cfg.proxy)}" if cfg.proxy else ""
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        #: set once the server let a read time out: every later request fails at once with it, so a
        #: silent server costs one timeout per run, not one per request
        self._silent: str | None = None

    # -- counting ---------------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def _count(self, method: str, what: str) -> None:
        with self._lock:
            self.requests[f"{method} {what}"] += 1

    def close(self) -> None:
        self._api.close()  # type: ignore[no-untyped-call]

    # -- typed helpers ----------------------------------------------------------------------

    def list(
        self,
        resource: Resource,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        """All objects of a kind in one request, each with apiVersion and kind set."""
        query: dict[str, str] = {}
        if label_selector:
            query["labelSelector"] = label_selector
        if field_selector:
            query["fieldSelector"] = field_selector
        body = self.request(
            "GET", resource.path(namespace), query=query, verb="list", resource=resource.rbac_name,
            namespace=namespace,
        )
        items = body.get("items") if isinstance(body, dict) else None
        out = []
        for item in items or []:
            if isinstance(item, dict):
                out.append({"apiVersion": resource.api_version, "kind": resource.kind, **item})
        return out

    def get(self, resource: Resource, namespace: str | None, name: str) -> dict[str, Any]:
        body = self.request(
            "GET", resource.path(namespace, name), verb="get", resource=resource.rbac_name, namespace=namespace
        )
        return _as_object(body)

    def create(
        self, resource: Resource, namespace: str | None, obj: dict[str, Any], dry_run: bool = False
    ) -> dict[str, Any]:
        body = self.request(
            "POST", resource.path(namespace), body=obj, query={"dryRun": "All"} if dry_run else None,
            verb="create", resource=resource.rbac_name, namespace=namespace, idempotent=dry_run,
        )
        return _as_object(body)

    def delete(self, resource: Resource, namespace: str | None, name: str) -> None:
        self.request(
            "DELETE", resource.path(namespace, name), body={"propagationPolicy": "Background"},
            verb="delete", resource=resource.rbac_name, namespace=namespace,
        )

    def pod_log(self, namespace: str, name: str, container: str, limit_bytes: int) -> str:
        query = {"container": container, "limitBytes": str(limit_bytes)}
        text = self.request(
            "GET", f"/api/v1/namespaces/{namespace}/pods/{name}/log", query=query, verb="get",
            resource="pods/log", namespace=namespace, raw=True,
        )
        return str(text)

    def server_version(self) -> dict[str, Any]:
        return _as_object(self.request("GET", "/version", verb="get", resource="/version"))

    def can_i(self, verb: str, resource: Resource | str, namespace: str | None = None, name: str = "",
              group: str = "") -> bool:
        """A SelfSubjectAccessReview: may the current user do `verb` on `resource` (`plural[/sub]` in `group`)?"""
        if isinstance(resource, Resource):
            group, plural, sub = resource.group, resource.plural, ""
        else:
            plural, sub = resource.split("/")[0], resource.partition("/")[2]
        attrs: dict[str, str] = {"verb": verb, "group": group, "resource": plural}
        if sub:
            attrs["subresource"] = sub
        if namespace:
            attrs["namespace"] = namespace
        if name:
            attrs["name"] = name
        review = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
        answer = self.create(SELF_SUBJECT_ACCESS_REVIEWS, None, review, dry_run=False)
        status = answer.get("status")
        return isinstance(status, dict) and bool(status.get("allowed"))

    # -- the one request path ---------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        verb: str = "",
        resource: str = "",
        namespace: str | None = None,
        query: dict[str, str] | None = None,
        body: Any = None,
        raw: bool = False,
        idempotent: bool | None = None,
    ) -> Any:
        """Send one request (with retries) and return its decoded body; raise project errors."""
        verb = verb or _VERB_BY_METHOD.get(method, method.lower())
        safe = idempotent if idempotent is not None else method in ("GET", "DELETE")
        controller = retrying(self.policy)
        try:
            for attempt in controller:
                with attempt:
                    return self._send_once(method, path, query, body, raw, verb, resource, namespace, safe)
        except TransientError as exc:
            tries = controller.statistics.get("attempt_number", 1)
            raise Unreachable(f"{exc} (gave up after {tries} attempts)") from exc
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _send_once(
        self, method: str, path: str, query: dict[str, str] | None, body: Any, raw: bool,
        verb: str, resource: str, namespace: str | None, safe: bool,
    ) -> Any:
        headers = {"Accept": "text/plain, */*" if raw else "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        _, url, headers, body, _ = self._api.param_serialize(
            method, path, query_params=list((query or {}).items()), header_params=headers, body=body,
            auth_settings=["BearerToken"],
        )
        if self._silent is not None:
            raise Unreachable(self._silent)
        self._count(method, resource or path)
        started = time.monotonic()
        try:
            resp = self._api.call_api(method, url, header_params=headers, body=body, _request_timeout=self.timeout)
            data = resp.read()  # type: ignore[no-untyped-call]
        except client.ApiException as exc:  # TLS problems surface here with status 0
            raise Unreachable(f"cannot talk to the API server ({self.target.description}): {exc.reason}") from exc
        except urllib3.exceptions.ProtocolError as exc:
            if safe:
                raise TransientError(f"connection to the API server dropped: {exc}") from exc
            raise Unreachable(f"connection to the API server dropped during {method} {path}: {exc}") from exc
        except urllib3.exceptions.NewConnectionError as exc:  # a subclass of the timeout error: first
            raise Unreachable(f"cannot reach the API server ({self.target.description}){self._via}: {exc}") from exc
        except urllib3.exceptions.TimeoutError as exc:
            waited = f"{time.monotonic() - started:.1f} s (the limit is {self.timeout:g} s)"
            if method != "GET":  # a write's lost answer: the server may have applied it; the caller reads it back
                raise Unreachable(f"the API server ({self.target.description}) did not answer {method} {path}: "
                                  f"it waited {waited}") from exc
            self._silent = (f"the API server ({self.target.description}) did not answer: a request waited "
                            f"{waited}, so it was not asked again")
            raise Unreachable(self._silent) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise Unreachable(f"cannot reach the API server ({self.target.description}){self._via}: {exc}") from exc
        text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else str(data or "")
        if 200 <= resp.status < 300:
            return text if raw else _decode(text, method, path)
        raise self._error(resp.status, resp.reason, resp.headers, text, method, verb, resource, namespace, safe)

    def _error(
        self, status: int, reason: str, headers: Any, text: str, method: str, verb: str, resource: str,
        namespace: str | None, safe: bool,
    ) -> Exception:
        message = _status_message(text) or reason or f"HTTP {status}"
        where = f" in namespace {namespace}" if namespace else ""
        what = f"{verb} {resource}{where}"
        if status in TRANSIENT_STATUSES and (safe or status == 429):
            retry_after = parse_retry_after(headers.get("Retry-After") if headers is not None else None)
            return TransientError(f"{what}: the API server answered {status} {reason}: {message}", status, retry_after)
        if status in TRANSIENT_STATUSES:
            return Unreachable(f"{what}: the API server answered {status} {reason}: {message}")
        if status == 401:
            return Unauthorized(
                f"the API server rejected the credentials of {self.target.description} (401): {message}; "
                "refresh the token or pick another --context"
            )
        if status == 403:
            return Forbidden(f"RBAC forbids {what}: {message}", verb=verb, resource=resource)
        if status == 404:
            return NotFound(f"{what}: not found: {message}")
        if status == 409:
            return Conflict(f"{what}: conflict: {message}")
        if status in (400, 422):
            return Invalid(f"{what}: refused as invalid: {message}", server_message=message, status=status)
        return ClusterAccessError(f"{what}: unexpected answer {status} {reason}: {message}")


def _decode(text: str, method: str, path: str) -> Any:
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClusterAccessError(f"{method} {path}: the API server answered with something that is not JSON") from exc


def _as_object(body: Any) -> dict[str, Any]:
    return body if isinstance(body, dict) else {}


def _status_message(text: str) -> str:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return text.strip()[:300]
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return text.strip()[:300]
