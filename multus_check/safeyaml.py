"""YAML loading that hostile input cannot blow up: aliases are measured before anything is built.

Why it exists: a few kilobytes of YAML whose anchors alias each other ("billion laughs") expand to
billions of nodes for whoever walks the result, and an alias inside its own anchor makes a
recursive structure. Snapshots and kubeconfig files come from other people, so every YAML file
multus-check reads goes through `load_all`: it composes each document (libyaml keeps an alias as
a reference to the one node, so composing is linear in the file), counts the nodes the document
would have with every alias expanded, and refuses it when that exceeds a sane bound, before any
Python object is constructed. Touches nothing but the text it is given.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: aliases may add at most this many nodes to a document, or double it when it is larger
MIN_ALIAS_ALLOWANCE = 100_000
_CAP = 10**12  # sizes stop growing here; far above any bound, keeps the arithmetic small


class ExcessiveAliasing(yaml.YAMLError):
    """The document's aliases expand beyond the bound, or an alias refers to its own anchor."""


def load_all(text: str) -> list[Any]:
    """Every document of `text`; raises yaml.YAMLError (ExcessiveAliasing included) on bad input."""
    loader = _LOADER(text)
    try:
        docs = []
        while loader.check_node():
            node = loader.get_node()
            check_expansion(node)
            docs.append(loader.construct_document(node))
        return docs
    finally:
        loader.dispose()


def reason(exc: yaml.YAMLError) -> str:
    """One line naming what is wrong and where (line and column counted from 1)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        context = f" ({exc.context})" if exc.context else ""
        return f"{exc.problem}{context}{where}"
    return " ".join(str(exc).split())


def check_expansion(root: yaml.Node) -> None:
    """Raise ExcessiveAliasing when the document rooted at `root` expands beyond the bound."""
    expanded, distinct = _sizes(root)
    allowed = distinct + max(distinct, MIN_ALIAS_ALLOWANCE)
    if expanded > allowed:
        shown = f"{expanded:,}" if expanded < _CAP else f"over {_CAP:,}"
        raise ExcessiveAliasing(
            f"its aliases expand to {shown} nodes from {distinct:,} written ones (at most {allowed:,} are "
            "accepted; this is the shape of a 'billion laughs' document)")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _sizes(root: yaml.Node) -> tuple[int, int]:
    """(nodes with every alias expanded, distinct nodes), iteratively so depth cannot overflow."""
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_.discard(key)
            size[key] = min(_CAP, 1 + sum(size[id(c)] for c in _children(node)))
            continue
        if key in size:
            continue
        if key in open_:
            raise ExcessiveAliasing("an alias refers to its own anchor (a recursive document)")
        open_.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_:
                raise ExcessiveAliasing("an alias refers to its own anchor (a recursive document)")
            if id(child) not in size:
                stack.append((child, False))
    return size[id(root)], len(size)
