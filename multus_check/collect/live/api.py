"""Read the API objects the checks need: one list call per kind, whatever the node count.

Each kind fills one snapshot section, `cluster/<resource>`: ok, forbidden (RBAC; the detail
names the verb and resource; a read the up-front review found forbidden is not even sent), failed
(the API answered an error) or unsupported (the server does not serve the kind). Reads run in
parallel. Objects are kept as `kubectl get -o yaml` prints them, minus `managedFields` and the
last-applied annotation, and every one passes through `collect.redact` before it goes anywhere
(env values, args, annotations, ConfigMap data...). Only the ConfigMaps, Services and Pods the
checks and the fixes use are kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from multus_check.collect.redact import redact_object
from multus_check.errors import ClusterAccessError, Forbidden, NotFound, Unauthorized
from multus_check.kube.access import Permission
from multus_check.kube.resources import (
    CONFIGMAPS,
    CRDS,
    DAEMONSETS,
    EVENTS,
    NAD_CRD_NAME,
    NADS,
    NODES,
    PODS,
    SERVICECIDRS,
    SERVICES,
)
from multus_check.snapshot.data import Section, SectionState

if TYPE_CHECKING:
    from multus_check.kube import Gateway

log = logging.getLogger(__name__)

RBAC_HINT = "fixtures/rbac/readonly.yaml grants the read-only permissions"
CONFIGMAP_NAMESPACES = ("kube-system", "kube-flannel")
#: the ConfigMaps the checks read, and `cni-plugins` which install-cni-plugins creates only when absent
CONFIGMAP_NAMES = frozenset({"kube-flannel-cfg", "multus-cni-config", "multus-daemon-config", "kubeadm-config", "cni-plugins"})
DNS_SERVICE_NAMES = frozenset({"kube-dns", "coredns"})
NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
RECENT_EVENTS = timedelta(hours=24)
MAX_EVENTS = 1000


@dataclass
class ApiReadout:
    """What the API reads produced: objects and section states, plus material for discovery."""

    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sections: dict[str, Section] = field(default_factory=dict)
    control_plane_pods: list[dict[str, Any]] = field(default_factory=list)
    servicecidr_version: str = ""


#: the permissions each read needs: preflight.READS asks for all of them up front, and a read the
#: review found forbidden is not sent (its section is `forbidden` without meeting a 403)
READ_PERMISSIONS: dict[str, tuple[Permission, ...]] = {
    "nodes": (Permission("list", NODES),),
    "daemonsets": (Permission("list", DAEMONSETS),),
    "configmaps": tuple(Permission("list", CONFIGMAPS, ns) for ns in CONFIGMAP_NAMESPACES),
    # a list with fieldSelector=metadata.name=kubernetes is authorized as that name
    "services": (Permission("list", SERVICES, "default", name="kubernetes"), Permission("list", SERVICES, "kube-system")),
    "events": (Permission("list", EVENTS),),
    "pods": (Permission("list", PODS),),
    "customresourcedefinitions": (Permission("get", CRDS, name=NAD_CRD_NAME),),
    "network-attachment-definitions": (Permission("list", NADS),),
    "servicecidrs": (Permission("list", SERVICECIDRS[0]),),
}


def read_api_objects(gw: Gateway, now: datetime | None = None, workers: int = 8,
                     forbidden: Collection[Permission] = ()) -> ApiReadout:
    out = ApiReadout()
    when = now or datetime.now(UTC)
    readers: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "nodes": lambda: gw.list(NODES),
        "daemonsets": lambda: gw.list(DAEMONSETS),
        "configmaps": lambda: _configmaps(gw),
        "services": lambda: _services(gw),
        "events": lambda: _recent_warnings(gw.list(EVENTS, field_selector="type=Warning"), when),
        "pods": lambda: _pods(gw, out),
        "customresourcedefinitions": lambda: _nad_crd(gw),
        "network-attachment-definitions": lambda: gw.list(NADS),
        "servicecidrs": lambda: _servicecidrs(gw, out),
    }
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="api-read") as pool:
        futures = {key: pool.submit(_guarded, key, fn, [p for p in READ_PERMISSIONS[key] if p in forbidden])
                   for key, fn in readers.items()}
        for key, future in futures.items():
            objects, section = future.result()
            out.objects[key] = [redact_object(_clean(o)) for o in objects]
            out.sections[f"cluster/{key}"] = section
    return out


def _guarded(key: str, fn: Callable[[], list[dict[str, Any]]],
             denied: list[Permission]) -> tuple[list[dict[str, Any]], Section]:
    if denied:
        return [], Section(SectionState.FORBIDDEN, f"RBAC forbids {'; '.join(map(str, denied))} "
                                                   f"(SelfSubjectAccessReview; {RBAC_HINT})")
    try:
        return fn(), Section(SectionState.OK)
    except Unauthorized:
        raise
    except Forbidden as exc:
        return [], Section(SectionState.FORBIDDEN, f"{exc} ({RBAC_HINT})")
    except NotFound as exc:
        return [], Section(SectionState.UNSUPPORTED, f"the API server does not serve {key}: {exc}")
    except ClusterAccessError as exc:
        return [], Section(SectionState.FAILED, str(exc))


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        annotations = meta.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return obj


def _configmaps(gw: Gateway) -> list[dict[str, Any]]:
    kept = []
    for ns in CONFIGMAP_NAMESPACES:
        for cm in gw.list(CONFIGMAPS, namespace=ns):
            meta = cm.get("metadata") or {}
            app = (meta.get("labels") or {}).get("app")
            if meta.get("name") in CONFIGMAP_NAMES or app in ("flannel", "multus"):
                kept.append(cm)
    return kept


def _services(gw: Gateway) -> list[dict[str, Any]]:
    kept = gw.list(SERVICES, namespace="default", field_selector="metadata.name=kubernetes")
    for svc in gw.list(SERVICES, namespace="kube-system"):
        meta = svc.get("metadata") or {}
        if meta.get("name") in DNS_SERVICE_NAMES or (meta.get("labels") or {}).get("k8s-app") == "kube-dns":
            kept.append(svc)
    return kept


def _timestamp(event: dict[str, Any]) -> datetime | None:
    for text in (event.get("lastTimestamp"), event.get("eventTime"), (event.get("metadata") or {}).get("creationTimestamp")):
        if isinstance(text, str) and text:
            try:
                return datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue
    return None


def _recent_warnings(events: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Warning events of the last day, newest first, at most MAX_EVENTS."""
    dated = [(e, _timestamp(e)) for e in events if e.get("type") == "Warning"]
    recent = [(e, t) for e, t in dated if t is None or now - t <= RECENT_EVENTS]
    recent.sort(key=lambda et: et[1] or now, reverse=True)
    return [e for e, _ in recent[:MAX_EVENTS]]


def _pods(gw: Gateway, out: ApiReadout) -> list[dict[str, Any]]:
    """Pods that request Multus networks; kube-apiserver mirror pods go to discovery only."""
    kept = []
    for pod in gw.list(PODS):
        meta = pod.get("metadata") or {}
        if NETWORKS_ANNOTATION in (meta.get("annotations") or {}):
            kept.append(pod)
        elif meta.get("namespace") == "kube-system" and (meta.get("labels") or {}).get("component") == "kube-apiserver":
            out.control_plane_pods.append(pod)
    return kept


def _nad_crd(gw: Gateway) -> list[dict[str, Any]]:
    try:
        return [{"apiVersion": CRDS.api_version, "kind": CRDS.kind, **gw.get(CRDS, None, NAD_CRD_NAME)}]
    except NotFound:
        return []  # the CRD is not installed: a fact for nad.crd, not a failed read


def _servicecidrs(gw: Gateway, out: ApiReadout) -> list[dict[str, Any]]:
    for resource in SERVICECIDRS:
        try:
            objects = gw.list(resource)
        except NotFound:
            continue
        out.servicecidr_version = resource.api_version
        return objects
    raise NotFound("no networking.k8s.io ServiceCIDR API (it is GA from Kubernetes 1.33)")

