"""The fixes this build ships, by id, and planning all of them from one diagnosis.

A new fix needs no list to be edited: every module of fixes/ that defines a subclass of `Fix` (found
by reading the sources, so the machinery modules are not imported for it) is imported once, and each
concrete subclass is one fix; two with one id are refused. Importing this module imports no
Kubernetes client: planning is pure.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from multus_check.errors import UsageError
from multus_check.fixes.plan import Fix, Plan, PlanContext
from multus_check.model import Finding, Status
from multus_check.snapshot.data import Snapshot

#: a line that defines a fix: `class NAME(Fix):` (or `plan.Fix`)
_FIX_CLASS = re.compile(r"^class \w+\((?:plan\.)?Fix\)", re.MULTILINE)


def _defines_a_fix(path: Path) -> bool:
    return _FIX_CLASS.search(path.read_text(encoding="utf-8")) is not None


def _discover() -> dict[str, Fix]:
    package = importlib.import_module("multus_check.fixes")
    found: dict[str, Fix] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        path = Path(package.__path__[0]) / f"{info.name}.py"
        if info.ispkg or not path.is_file() or not _defines_a_fix(path):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Fix) and cls.__module__ == module.__name__ and not inspect.isabstract(cls):
                fix = cls()
                if fix.id in found:
                    raise ValueError(f"fix id {fix.id!r} is defined twice ({type(found[fix.id]).__name__}, {cls.__name__})")
                found[fix.id] = fix
    return found


FIXES: dict[str, Fix] = _discover()


def fix_ids() -> frozenset[str]:
    return frozenset(FIXES)


def check_fix_arguments(fix_only: list[str], fix_options: list[str]) -> None:
    """UsageError listing the valid choices for an unknown --fix-only id, --fix-option fix or value."""
    known = ", ".join(sorted(FIXES))
    unknown = sorted(set(fix_only) - set(FIXES))
    if unknown:
        raise UsageError(f"unknown fix {', '.join(unknown)} in --fix-only; the fixes are: {known}")
    with_variants = "; ".join(f"{i}={'|'.join(f.variants)}" for i, f in sorted(FIXES.items()) if f.variants)
    for option in fix_options:
        fix_id, sep, value = option.partition("=")
        if not sep or not fix_id:
            raise UsageError(f"--fix-option {option!r}: expected FIX=VALUE; the options are: {with_variants}")
        fix = FIXES.get(fix_id)
        if fix is None or not fix.variants:
            what = "no fix of this build" if fix is None else "a fix without variants"
            raise UsageError(f"--fix-option {option}: {fix_id} is {what}; the options are: {with_variants}")
        if value not in fix.variants:
            raise UsageError(f"--fix-option {option}: {value!r} is not a variant of {fix_id}; "
                             f"choose one of: {', '.join(fix.variants)}")


def plan_all(snap: Snapshot, findings: list[Finding], ctx: PlanContext, only: frozenset[str] | None = None) -> list[Plan]:
    """Plans of every fix named by a failing finding or advising on one (or in `only`), empty plans dropped."""
    if only is None:
        failing = {f.check for f in findings if f.status in (Status.FAIL, Status.WARN)}
        wanted = {f.fix for f in findings if f.fix} | {i for i, fix in FIXES.items() if fix.advises & failing}
    else:
        wanted = set(only)
    plans = [FIXES[i].plan(snap, findings, ctx) for i in sorted(wanted) if i in FIXES]
    return sorted((p for p in plans if not p.empty), key=lambda p: p.manual_only)  # automatic fixes first
