"""The shape of the API objects the checks read, so the loader can refuse anything else.

Why it exists: a snapshot's cluster.yaml may be hand-made or damaged, and a check handed
`items: 5` or `metadata: [1, 2]` would crash or, worse, judge it. The loader checks every object
against the fields the checks and the domain layer read (their Kubernetes types) and gives the
checks only objects that fit; a misfit marks its section failed, naming object, field and type.
Pure: no I/O.

The same holds for the entries of a node's ip-addr.json and ip-route.json (NODE_FILES).

Path syntax: dotted keys; `[]` is every element of a list, `{}` every value of a mapping.
`null` is accepted where a field may be absent, except where the readers need the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STR, INT, BOOL, MAP, LIST = "string", "integer", "boolean", "mapping", "list"
#: a mapping that must not be null when present (readers index it without a fallback)
MAP_NOT_NULL = "mapping!"

_META = {
    "apiVersion": STR, "kind": STR, "metadata": MAP, "metadata.name": STR, "metadata.namespace": STR,
    "metadata.labels": MAP, "metadata.labels{}": STR, "metadata.annotations": MAP, "metadata.annotations{}": STR,
    "spec": MAP, "status": MAP,
}


def _containers(prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for group in ("containers", "initContainers"):
        c = f"{prefix}{group}[]"
        out |= {f"{prefix}{group}": LIST, c: MAP, f"{c}.name": STR, f"{c}.image": STR,
                f"{c}.command": LIST, f"{c}.command[]": STR, f"{c}.args": LIST, f"{c}.args[]": STR,
                f"{c}.volumeMounts": LIST, f"{c}.volumeMounts[]": MAP, f"{c}.volumeMounts[].name": STR,
                f"{c}.volumeMounts[].mountPath": STR, f"{c}.env": LIST, f"{c}.env[]": MAP}
    return out | {f"{prefix}volumes": LIST, f"{prefix}volumes[]": MAP, f"{prefix}volumes[].name": STR,
                  f"{prefix}volumes[].hostPath": MAP, f"{prefix}volumes[].hostPath.path": STR,
                  f"{prefix}nodeName": STR, f"{prefix}hostNetwork": BOOL}


_REF = {"kind": STR, "name": STR, "namespace": STR}


def _placement(prefix: str) -> dict[str, str]:
    """A pod spec's nodeSelector and required node affinity (domain/placement.py reads them)."""
    terms = f"{prefix}affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"
    out = {f"{prefix}nodeSelector": MAP, f"{prefix}nodeSelector{{}}": STR, f"{prefix}affinity": MAP,
           f"{prefix}affinity.nodeAffinity": MAP,
           f"{prefix}affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution": MAP,
           terms: LIST, f"{terms}[]": MAP_NOT_NULL}
    for match in ("matchExpressions", "matchFields"):
        expr = f"{terms}[].{match}[]"
        out |= {f"{terms}[].{match}": LIST, expr: MAP_NOT_NULL, f"{expr}.key": STR, f"{expr}.operator": STR,
                f"{expr}.values": LIST, f"{expr}.values[]": STR}
    return out


KINDS: Mapping[str, Mapping[str, str]] = {
    "Node": {"spec.podCIDR": STR, "spec.podCIDRs": LIST, "spec.podCIDRs[]": STR, "spec.unschedulable": BOOL,
             "spec.taints": LIST, "spec.taints[]": MAP, "spec.taints[].effect": STR,
             "status.addresses": LIST, "status.addresses[]": MAP, "status.addresses[].type": STR,
             "status.addresses[].address": STR, "status.nodeInfo": MAP, "status.nodeInfo.kubeletVersion": STR},
    "DaemonSet": {"spec.template": MAP, "spec.template.metadata": MAP, "spec.template.spec": MAP,
                  **_containers("spec.template.spec."), **_placement("spec.template.spec."),
                  **{f"status.{k}": INT for k in ("numberReady", "desiredNumberScheduled", "currentNumberScheduled",
                                                   "numberAvailable", "updatedNumberScheduled")}},
    "Pod": {**_containers("spec."), **_placement("spec."), "status.phase": STR},
    "ConfigMap": {"data": MAP_NOT_NULL, "data{}": STR},
    "Service": {"spec.clusterIP": STR, "spec.clusterIPs": LIST, "spec.clusterIPs[]": STR},
    "ServiceCIDR": {"spec.cidrs": LIST, "spec.cidrs[]": STR},
    "Event": {"type": STR, "reason": STR, "message": STR, "note": STR, "count": INT,
              **{f"{o}": MAP for o in ("involvedObject", "regarding")},
              **{f"{o}.{k}": t for o in ("involvedObject", "regarding") for k, t in _REF.items()}},
    "NetworkAttachmentDefinition": {"spec.config": STR},
    "CustomResourceDefinition": {"spec.group": STR, "spec.names": MAP, "spec.names.kind": STR, "spec.names.plural": STR},
}


class _Spec:
    """The expected type at one place of an object, and the places below it (compiled from the paths)."""

    __slots__ = ("each", "keys", "type", "values")

    def __init__(self) -> None:
        self.type: str | None = None
        self.keys: dict[str, _Spec] = {}
        self.each: _Spec | None = None  # every element of a list
        self.values: _Spec | None = None  # every value of a mapping


def _compile(paths: Mapping[str, str]) -> _Spec:
    root = _Spec()
    for path, expected in paths.items():
        spec = root
        for step in path.split("."):
            key = step.rstrip("[]{}")
            if key:
                spec = spec.keys.setdefault(key, _Spec())
            if step.endswith("[]"):
                spec.each = spec.each or _Spec()
                spec = spec.each
            elif step.endswith("{}"):
                spec.values = spec.values or _Spec()
                spec = spec.values
        spec.type = expected
    return root


#: the entries of a node's `ip -j addr` / `ip -j route` files, as iproute2 prints them (domain/node.py reads them)
NODE_FILES: Mapping[str, Mapping[str, str]] = {
    "ip-addr.json": {"ifindex": INT, "ifname": STR, "flags": LIST, "flags[]": STR, "mtu": INT, "operstate": STR,
                     "link_type": STR, "address": STR, "addr_info": LIST, "addr_info[]": MAP,
                     "addr_info[].family": STR, "addr_info[].local": STR, "addr_info[].prefixlen": INT},
    "ip-route.json": {"dst": STR, "gateway": STR, "dev": STR, "prefsrc": STR, "metric": INT, "flags": LIST,
                      "flags[]": STR},
}
_COMPILED: dict[str, _Spec] = {}
_NODE_COMPILED = {name: _compile(paths) for name, paths in NODE_FILES.items()}


def node_file_problem(name: str, data: Any) -> str | None:
    """What in a node's ip-addr.json or ip-route.json does not have the shape `ip -j` gives it, or None."""
    if not isinstance(data, list):
        return f"is a {type_name(data)}, not a list as `ip -j` prints it"
    for index, entry in enumerate(data):
        if not isinstance(entry, dict):
            return f"entry {index} is a {type_name(entry)}, not an object as `ip -j` prints it"
        found = _misfit(entry, _NODE_COMPILED[name])
        if found is not None:
            steps, message = found
            return f"entry {index}: " + "".join(reversed(steps)).lstrip(".") + " " + message
    return None


def object_problem(obj: Any) -> str | None:
    """What in `obj` does not have the shape the readers expect (the first misfit), or None."""
    if not isinstance(obj, dict):
        return f"is a {type_name(obj)}, not an object"
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind:
        return "has no kind"
    spec = _COMPILED.get(kind)
    if spec is None:
        spec = _COMPILED[kind] = _compile({**_META, **KINDS.get(kind, {})})
    found = _misfit(obj, spec)
    if found is None:
        return None
    steps, message = found
    return "".join(reversed(steps)).lstrip(".") + " " + message


def _misfit(value: Any, spec: _Spec) -> tuple[list[str], str] | None:
    """(path steps innermost first, what is wrong) for the first misfit below `value`, or None."""
    if value is None:
        return ([], "is null; expected a mapping") if spec.type == MAP_NOT_NULL else None
    if spec.type is not None and not _fits(value, spec.type):
        wanted = spec.type.rstrip("!")
        return [], f"is a {type_name(value)}; expected a{'n' if wanted[0] in 'aeiou' else ''} {wanted}"
    if isinstance(value, dict):
        for key, sub in spec.keys.items():
            if key in value and (found := _misfit(value[key], sub)) is not None:
                found[0].append(f".{key}")
                return found
        if spec.values is not None:
            for key, item in value.items():
                if (found := _misfit(item, spec.values)) is not None:
                    found[0].append(f".{key}")
                    return found
    elif isinstance(value, list) and spec.each is not None:
        for i, item in enumerate(value):
            if (found := _misfit(item, spec.each)) is not None:
                found[0].append(f"[{i}]")
                return found
    return None


def _fits(value: Any, expected: str) -> bool:
    if expected == STR:
        return isinstance(value, str)
    if expected == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == BOOL:
        return isinstance(value, bool)
    if expected == LIST:
        return isinstance(value, list)
    return isinstance(value, dict)


def type_name(value: Any) -> str:
    """How a value's type reads in a message: YAML's words, not Python's."""
    names = {dict: "mapping", list: "list", str: "string", int: "number", float: "number", bool: "boolean",
             type(None): "null"}
    return names.get(type(value), type(value).__name__)
