"""Read one NetworkAttachmentDefinition's config from the cluster, for `multus-check node --nad [NS/]NAME`.

Asked by SelfSubjectAccessReview first, then read as a list of the namespace's NADs with
`fieldSelector=metadata.name=NAME`: the API server authorizes such a list with the name as its
resource name (apiserver endpoints/handlers/get.go: the field selector's `metadata.name` becomes the
request's name), so the `list` on network-attachment-definitions that fixtures/rbac/readonly.yaml
grants is all it needs, and the least is a Role in the NAD's namespace with `list` and
`resourceNames: [NAME]`. A 404 of the list means the CRD is not installed (an empty list: no such
NAD). Every way this fails is a UsageError naming the cause and the next step.

May touch: the cluster, with one review and one list, through the gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from multus_check.errors import Forbidden, NotFound, UsageError
from multus_check.kube.access import Permission, allowed
from multus_check.kube.connect import ClusterTarget, connect
from multus_check.kube.resources import NADS

if TYPE_CHECKING:
    from multus_check.kube.gateway import Gateway


def nad_permission(namespace: str, name: str) -> Permission:
    """What reading NAD namespace/name takes: a list narrowed to its name."""
    return Permission("list", NADS, namespace, name)


def read_nad_config(ref: str, target: ClusterTarget, gateway: Gateway | None = None) -> tuple[str, str, str]:
    """(namespace, name, spec.config) of NAD `[ns/]name` (namespace `default` unless given)."""
    namespace, _, name = ref.rpartition("/")
    namespace = namespace or "default"
    if not name:
        raise UsageError(f"--nad {ref!r}: expected NAME or NAMESPACE/NAME")
    gw = gateway or connect(target)
    try:
        obj = _read(gw, namespace, name)
    finally:
        if gateway is None:
            gw.close()
    config = (obj.get("spec") or {}).get("config")
    if not isinstance(config, str) or not config.strip():
        raise UsageError(f"NAD {namespace}/{name} has no spec.config string; nothing to probe with (see nad.config-valid)")
    return namespace, name, config


def _not_allowed(namespace: str, name: str, why: str) -> UsageError:
    return UsageError(
        f"--nad {namespace}/{name}: not allowed to read it ({why}); it takes {nad_permission(namespace, name)}: "
        "fixtures/rbac/readonly.yaml grants list on network-attachment-definitions (the least is a Role in namespace "
        f"{namespace} with list and resourceNames: [{name}]), or pass --nad-config FILE")


def _read(gw: Gateway, namespace: str, name: str) -> dict[str, Any]:
    permission = nad_permission(namespace, name)
    try:
        (ok,) = allowed(gw, [permission])
    except Forbidden:
        ok = True  # reviews themselves refused (unusual): try, and a 403 is reported the same way
    if not ok:
        raise _not_allowed(namespace, name, f"RBAC does not grant {permission}")
    try:
        items = gw.list(NADS, namespace, field_selector=f"metadata.name={name}")
    except NotFound:
        raise UsageError(f"--nad {namespace}/{name}: the NetworkAttachmentDefinition CRD is not installed "
                         "(check nad.crd; `multus-check --fix` installs Multus with it)") from None
    except Forbidden as exc:
        raise _not_allowed(namespace, name, str(exc)) from None
    found = [o for o in items if (o.get("metadata") or {}).get("name") == name]
    if not found:
        raise UsageError(f"--nad {namespace}/{name}: no such NetworkAttachmentDefinition "
                         "(`kubectl get net-attach-def -A` lists them)")
    return found[0]
