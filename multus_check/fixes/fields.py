"""Which fields of an object a change touches, so that a fix writes only what its plan shows.

A plan is computed on the collected copy of an object (credentials redacted); the write is the
fresh live object with the same edit applied. `stray_fields` compares the two: every field the
write changes on the live object must be one the plan's diff changes, and no changed field may
hold a redaction marker. Lists of uniquely named items (containers, env, volumes, mounts) are
compared by name, the way `kubectl` and strategic merge identify them, so inserting an init
container does not count as changing every container after it.

Pure functions over plain dicts; no I/O.
"""

from __future__ import annotations

from typing import Any

from multus_check.collect.redact import FILE_MARKER, VALUE_MARKER
from multus_check.fixes.plan import strip_server_fields

#: annotations written by the API server or a controller after a fix wrote the object, never by the fix:
#: a DaemonSet's template generation (apps/v1 conversion of spec.templateGeneration, bumped by the API server on
#: a template change), the Deployment controller's revision (pkg/controller/deployment/util SetDeploymentRevision,
#: bumped for every new pod template, the restored one of an undo too), kubectl apply's last-applied copy
SERVER_ANNOTATIONS = ("deprecated.daemonset.template.generation", "deployment.kubernetes.io/revision",
                      "kubectl.kubernetes.io/last-applied-configuration")

Path = tuple[str | int, ...]


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without status, the metadata the server maintains (uid and creationTimestamp stay) and the
    annotations the server or a controller writes."""
    out = strip_server_fields(obj)
    meta = out.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if isinstance(meta, dict) and isinstance(annotations, dict):
        for key in SERVER_ANNOTATIONS:
            annotations.pop(key, None)
        if not annotations:
            meta.pop("annotations")
    return out


def _names(items: list[Any]) -> list[str] | None:
    """The names of a list of uniquely named dicts, or None for any other list."""
    names = [str(i["name"]) for i in items if isinstance(i, dict) and isinstance(i.get("name"), str)]
    return names if len(names) == len(items) and len(set(names)) == len(names) else None


def changed_paths(a: Any, b: Any, at: Path = ()) -> set[Path]:
    """The paths (keys, `[name]` for named list items, indexes) where `a` and `b` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: set[Path] = set()
        for key in a.keys() | b.keys():
            if key not in a or key not in b:
                out.add((*at, key))
            else:
                out |= changed_paths(a[key], b[key], (*at, key))
        return out
    if isinstance(a, list) and isinstance(b, list):
        return _list_paths(a, b, at)
    return set() if a == b else {at}


def _list_paths(a: list[Any], b: list[Any], at: Path) -> set[Path]:
    na, nb = _names(a), _names(b)
    if na is not None and nb is not None and (na or nb):
        common = [n for n in na if n in nb]
        out: set[Path] = {at} if common != [n for n in nb if n in na] else set()  # reordered
        by_a, by_b = dict(zip(na, a, strict=True)), dict(zip(nb, b, strict=True))
        for name in set(na) ^ set(nb):
            out.add((*at, f"[{name}]"))
        for name in common:
            out |= changed_paths(by_a[name], by_b[name], (*at, f"[{name}]"))
        return out
    if len(a) == len(b):
        return {p for i, (x, y) in enumerate(zip(a, b, strict=True)) for p in changed_paths(x, y, (*at, i))}
    return {at}


def covered(path: Path, planned: set[Path]) -> bool:
    """Is `path` one of the planned paths or inside one?"""
    return any(path[: len(q)] == q for q in planned)


def show(path: Path) -> str:
    """`spec.template.spec.containers[kube-multus].env[MULTUS_TOKEN].value`"""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith("["):
            out += part
        else:
            out += ("." if out else "") + part
    return out or "(the whole object)"


def _at(obj: Any, path: Path) -> Any:
    for part in path:
        if isinstance(part, str) and part.startswith("[") and isinstance(obj, list):
            obj = next((i for i in obj if isinstance(i, dict) and f"[{i.get('name')}]" == part), None)
        elif isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and isinstance(part, int) and part < len(obj):
            obj = obj[part]
        else:
            return None
    return obj


def _holds_marker(value: Any) -> bool:
    if isinstance(value, str):
        return VALUE_MARKER in value or value == FILE_MARKER
    if isinstance(value, dict):
        return any(_holds_marker(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_marker(v) for v in value)
    return False


def stray_fields(before: dict[str, Any], after: dict[str, Any], live: dict[str, Any], body: dict[str, Any]) -> list[str]:
    """What writing `body` over `live` would do beyond the plan `before` -> `after`, as sentences."""
    planned = changed_paths(comparable(before), comparable(after))
    actual = changed_paths(comparable(live), comparable(body))
    problems = [f"{show(p)} is not in the plan" for p in sorted(actual, key=show) if not covered(p, planned)]
    problems += [f"{show(p)} would be written with a redaction marker" for p in sorted(actual, key=show)
                 if _holds_marker(_at(body, p)) and not _holds_marker(_at(live, p))]
    return problems


def _holds(actual: Any, expected: Any) -> bool:
    """Does `actual` hold everything `expected` has? (Extra keys allowed; an empty or null expected value may be
    missing, as the API server drops them.)"""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            _holds(actual[k], v) if k in actual else v in (None, {}, [], "") for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            _holds(a, e) for a, e in zip(actual, expected, strict=True))
    return bool(actual == expected)


def holds(live: dict[str, Any], sent: dict[str, Any]) -> bool:
    """Does `live` hold every field of `sent` (whatever else it holds)? Server-maintained metadata aside."""
    return _holds(comparable(live), comparable(sent))


def took_effect(before: dict[str, Any] | None, sent: dict[str, Any], live: dict[str, Any]) -> bool:
    """Does `live` show that a write of `sent` (planned against `before`; None for a create) took effect?

    For a write whose answer never came. `live` must hold every field that was sent, and may differ
    from it only inside the fields the change touched: where the API server fills in defaults of what
    is new (a new init container's `terminationMessagePath`). Anywhere else a difference is someone
    else's change. Metadata and status the server maintains are ignored (`comparable`)."""
    expected, actual = comparable(sent), comparable(live)
    if not _holds(actual, expected):
        return False
    everything: set[Path] = {()}
    planned = changed_paths(comparable(before), expected) if before is not None else everything
    return all(covered(p, planned) for p in changed_paths(expected, actual))
