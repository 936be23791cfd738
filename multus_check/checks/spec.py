"""What a check is: its spec (id, title, severity, description, fix, kind), and the decorators that register one.

A static check is a pure function `(Snapshot) -> list[Finding]` registered with `@check`; its
docstring is the long description `explain` prints. An active check (a data-path layer probed by
`multus-check node`, a sample-pod e2e check) is evaluated by its probe, not by the engine, and is
registered with `active_check`, which returns its id. Both keep every piece of a check's metadata
in one place under checks/; `checks.registry` finds them all. Imports nothing of the project above
model and snapshot; the store rejects a duplicate id.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from multus_check.model import Finding, Severity

if TYPE_CHECKING:  # a type only: the command line imports Selection from here and must stay light
    from multus_check.snapshot.data import Snapshot

CheckFn = Callable[["Snapshot"], list[Finding]]
KINDS = ("static", "node", "e2e")


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


_SPECS: dict[str, CheckSpec] = {}


class DuplicateCheckError(ValueError):
    pass


def _add(spec: CheckSpec) -> None:
    if spec.id in _SPECS:
        raise DuplicateCheckError(f"check id {spec.id!r} is registered twice")
    _SPECS[spec.id] = spec


def check(
    id: str, title: str, severity: Severity, fix: str | None = None
) -> Callable[[CheckFn], CheckFn]:
    """Register a static check; its docstring is the long description shown by `explain`."""

    import inspect  # here: importing Selection for the command line does not pay for it

    def decorate(fn: CheckFn) -> CheckFn:
        _add(CheckSpec(id, title, severity, inspect.cleandoc(fn.__doc__ or ""), fix, fn))
        return fn

    return decorate


def active_check(
    id: str, title: str, severity: Severity, kind: str, description: str, fix: str | None = None
) -> str:
    """Register a check that a probe evaluates (kind "node": the data path; "e2e": sample pods); returns its id."""
    if kind not in KINDS[1:]:
        raise ValueError(f"an active check is of kind node or e2e, not {kind!r}")
    _add(CheckSpec(id, title, severity, description, fix, None, kind))
    return id


def spec_of(check_id: str) -> CheckSpec:
    """The spec of a check whose module is imported (its own module, or one that imports it)."""
    return _SPECS[check_id]


def registered() -> list[CheckSpec]:
    """Every spec registered so far, by id (`checks.registry.all_checks` first imports every check module)."""
    return sorted(_SPECS.values(), key=lambda s: s.id)


def matches(check_id: str, patterns: Iterable[str]) -> bool:
    """True when the id equals or glob-matches any pattern (`cidr.*`, `multus.conf-first`)."""
    return any(fnmatch.fnmatchcase(check_id, p) for p in patterns)


@dataclass(frozen=True)
class Selection:
    """Which checks a run evaluates: `--check` patterns (none: all) minus `--skip` patterns (ids or globs)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def selects(self, check_id: str) -> bool:
        return (not self.include or matches(check_id, self.include)) and not matches(check_id, self.exclude)

    @property
    def narrowed(self) -> bool:
        """--check or --skip was given."""
        return bool(self.include or self.exclude)


#: no --check, no --skip
EVERY_CHECK = Selection()
