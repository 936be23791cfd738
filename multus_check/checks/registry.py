"""The check registry: ids, metadata and the functions that judge a snapshot.

A static check is a pure function `(Snapshot) -> list[Finding]` registered with the `@check`
decorator. Active checks (data-path probes, sample-pod e2e) are run by their probes, not by
the engine, and register only their metadata so `--list` and `explain` know them.
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from multus_check.model import Finding, Severity
from multus_check.snapshot.model import Snapshot

CheckFn = Callable[[Snapshot], list[Finding]]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    severity: Severity
    description: str
    fix: str | None = None
    fn: CheckFn | None = None  # None for active checks
    kind: str = "static"  # static | node | e2e

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]


_REGISTRY: dict[str, CheckSpec] = {}


class DuplicateCheckError(ValueError):
    pass


def _add(spec: CheckSpec) -> None:
    if spec.id in _REGISTRY:
        raise DuplicateCheckError(f"check id {spec.id!r} is registered twice")
    _REGISTRY[spec.id] = spec


def check(
    id: str, title: str, severity: Severity, fix: str | None = None
) -> Callable[[CheckFn], CheckFn]:
    """Register a static check; its docstring is the long description shown by `explain`."""

    def decorate(fn: CheckFn) -> CheckFn:
        _add(CheckSpec(id, title, severity, inspect.cleandoc(fn.__doc__ or ""), fix, fn))
        return fn

    return decorate


def register_active(
    id: str, title: str, severity: Severity, description: str, kind: str, fix: str | None = None
) -> None:
    """Register metadata of a check that a probe evaluates (kind: "node" or "e2e")."""
    _add(CheckSpec(id, title, severity, description, fix, None, kind))


def all_checks() -> list[CheckSpec]:
    _load_builtin()
    return sorted(_REGISTRY.values(), key=lambda s: s.id)


def get(check_id: str) -> CheckSpec:
    _load_builtin()
    return _REGISTRY[check_id]


def matches(check_id: str, patterns: Iterable[str]) -> bool:
    """True when the id equals or glob-matches any pattern (`cidr.*`, `multus.conf-first`)."""
    return any(fnmatch.fnmatchcase(check_id, p) for p in patterns)


def select(include: Iterable[str] = (), exclude: Iterable[str] = ()) -> list[CheckSpec]:
    inc, exc = list(include), list(exclude)
    return [
        s for s in all_checks()
        if (not inc or matches(s.id, inc)) and not matches(s.id, exc)
    ]


def unknown_patterns(patterns: Iterable[str]) -> list[str]:
    """The ids or globs among `patterns` that match no registered check (a typo, or a check of another build)."""
    ids = [s.id for s in all_checks()]
    return [p for p in patterns if not any(fnmatch.fnmatchcase(i, p) for i in ids)]


def suggestion(patterns: Iterable[str]) -> str:
    """` (did you mean ...?)` for the ids closest to the first pattern that has close ones, else ''."""
    import difflib

    ids = [s.id for s in all_checks()]
    for p in patterns:
        close = difflib.get_close_matches(p, ids, n=3)
        if close:
            return f" (did you mean {', '.join(close)}?)"
    return ""


def _load_builtin() -> None:
    # Importing the area modules runs their @check decorators exactly once.
    from multus_check.checks import builtin  # noqa: F401
