"""Label and field selectors as the real API server applies them, for the test emulator.

kmock 0.8 ignores `labelSelector` and `fieldSelector` and returns every object; a collector
that forgot its selector would pass against it. This module gives the emulator the server's
semantics (equality, inequality, set-based and existence terms, ANDed by commas).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Matcher = Callable[[Mapping[str, Any]], bool]

_SET_TERM = re.compile(r"^\s*(!?)\s*([\w./-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")


def _split_terms(selector: str) -> list[str]:
    """Split on commas outside parentheses."""
    terms, depth, cur = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    return [t.strip() for t in terms if t.strip()]


def label_matcher(selector: str | None) -> Matcher:
    """A predicate on an object's labels for a label selector string (None/empty: everything)."""
    checks = [_label_term(t) for t in _split_terms(selector or "")]

    def match(obj: Mapping[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(check(labels) for check in checks)

    return match


def _label_term(term: str) -> Callable[[Mapping[str, str]], bool]:
    for op in ("!=", "==", "="):
        if op in term and " in " not in term and " notin " not in term:
            key, value = (p.strip() for p in term.split(op, 1))
            if op == "!=":
                return lambda labels: labels.get(key) != value
            return lambda labels: labels.get(key) == value
    m = _SET_TERM.match(term)
    if m is None:
        raise ValueError(f"unparsable label selector term {term!r}")
    negated, key, op, values = m.group(1), m.group(2), m.group(3), m.group(4)
    if op:
        allowed = {v.strip() for v in values.split(",")}
        if op == "in":
            return lambda labels: labels.get(key) in allowed
        return lambda labels: labels.get(key) not in allowed
    if negated:
        return lambda labels: key not in labels
    return lambda labels: key in labels


def field_matcher(selector: str | None) -> Matcher:
    """A predicate for a field selector (`a.b=v`, `a.b==v`, `a.b!=v`, ANDed by commas)."""
    checks = []
    for term in _split_terms(selector or ""):
        neg = "!=" in term
        path, value = (p.strip() for p in re.split(r"!=|==|=", term, maxsplit=1))
        checks.append((path.split("."), value, neg))

    def match(obj: Mapping[str, Any]) -> bool:
        for parts, value, neg in checks:
            cur: Any = obj
            for part in parts:
                cur = cur.get(part) if isinstance(cur, Mapping) else None
            actual = "" if cur is None else str(cur)
            if (actual == value) == neg:
                return False
        return True

    return match
