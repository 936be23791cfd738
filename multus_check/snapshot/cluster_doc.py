"""cluster.yaml: from text to the API objects the checks may see, and what could not be used.

Why it exists: the cluster document is the largest and most often hand-edited part of a snapshot.
JSON (what `multus-check snapshot` writes, `kubectl get -o json`) is parsed by the json module,
which is about 30x faster and far leaner than a YAML parser; anything else goes through the
alias-bounded YAML loader. A document that is not a Kubernetes object list at all is unusable
input (`NotAnObjectList`); a list whose items have shapes the checks do not expect marks the
sections they belong to failed, and those items never reach a check. Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from multus_check import safeyaml
from multus_check.snapshot.data import KIND_TO_RESOURCE
from multus_check.snapshot.shapes import object_problem, type_name

#: stands for every cluster resource in `ClusterObjects.failed`
ALL = "*"


class DocumentError(ValueError):
    """The text is not valid JSON or YAML, or its YAML aliases were refused; the message says why."""


class NotAnObjectList(ValueError):
    """The document parsed but is not a Kubernetes object list (a scalar, a mapping without kind or items)."""


@dataclass
class ClusterObjects:
    objects: list[dict[str, Any]] = field(default_factory=list)
    #: resource (or ALL) -> why its section cannot be trusted
    failed: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parse_documents(text: str) -> list[Any]:
    """The documents of `text`: one JSON value when it is JSON, else every YAML document."""
    if text.lstrip()[:1] in ("{", "["):
        try:
            return [json.loads(text)]
        except json.JSONDecodeError:
            pass  # JSON-looking YAML (a flow mapping with unquoted keys) is still valid input
        except RecursionError as exc:
            raise DocumentError("is nested too deeply to be a Kubernetes object list") from exc
    try:
        return safeyaml.load_all(text)
    except safeyaml.ExcessiveAliasing as exc:
        raise DocumentError(f"was refused: {exc}") from exc
    except yaml.YAMLError as exc:
        raise DocumentError(f"is not valid YAML: {safeyaml.reason(exc)}") from exc


def cluster_objects(docs: list[Any]) -> ClusterObjects:
    """Sort the items of every document into usable objects and failed sections."""
    out = ClusterObjects()
    items: list[Any] = []
    present = [d for d in docs if d is not None]
    if not present:
        raise NotAnObjectList("is empty; expected a `kind: List` with `items`")
    for number, doc in enumerate(present, 1):
        items += _items_of(doc, number if len(present) > 1 else 0, out)
    unknown: set[str] = set()
    bad: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        problem = object_problem(item)
        kind = item.get("kind") if isinstance(item, dict) else None
        resource = KIND_TO_RESOURCE.get(kind) if isinstance(kind, str) and kind else ALL
        if resource is None:
            unknown.add(str(kind))
        elif problem:
            bad.setdefault(resource, []).append(f"{_label(item, index)} {problem}")
        else:
            out.objects.append(item)
    for resource, problems in bad.items():
        more = f" (and {len(problems) - 1} more object(s))" if len(problems) > 1 else ""
        out.failed.setdefault(resource, f"cluster.yaml: {problems[0]}{more}")
    if unknown:
        out.notes.append(f"cluster.yaml: ignored objects of kinds not used by any check: {', '.join(sorted(unknown))}")
    return out


def _items_of(doc: Any, number: int, out: ClusterObjects) -> list[Any]:
    where = f" (document {number})" if number else ""
    if not isinstance(doc, dict):
        raise NotAnObjectList(f"holds a {type_name(doc)}{where}, not a Kubernetes object list")
    kind = doc.get("kind")
    is_list = "items" in doc or (isinstance(kind, str) and kind.endswith("List"))
    if not is_list:
        if kind is None:
            keys = ", ".join(sorted(map(str, doc))[:5]) or "none"
            raise NotAnObjectList(f"holds a mapping without kind or items{where} (keys: {keys}), "
                                  "not a Kubernetes object list")
        return [doc]
    if "items" not in doc:
        raise NotAnObjectList(f"holds a {kind}{where} without items")
    items = doc["items"]
    if items is None:
        return []
    if not isinstance(items, list):
        out.failed[ALL] = f"cluster.yaml: the items of the List{where} are a {type_name(items)}, not a list"
        return []
    if isinstance(kind, str) and kind not in ("List", "") and kind.endswith("List"):
        inner = kind[: -len("List")]
        return [{"kind": inner, **i} if isinstance(i, dict) else i for i in items]
    return list(items)


def _label(item: Any, index: int) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("kind"), str) or not item["kind"]:
        return f"item {index + 1}"
    meta = item.get("metadata")
    name, ns = (meta.get("name"), meta.get("namespace")) if isinstance(meta, dict) else (None, None)
    ref = f"{ns}/{name}" if isinstance(ns, str) and isinstance(name, str) else name if isinstance(name, str) else None
    return f"{item.get('kind')} {ref}" if ref else f"item {index + 1} ({item.get('kind')})"
