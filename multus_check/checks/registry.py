"""The checks of this build: every module of checks/ that defines checks is imported once, and their specs are
queried here.

A new check module (a new area) needs no list to be edited: `all_checks()` imports, on first use, every
module of the package whose source registers a check (a line with a `@check` decorator or an
`active_check` call), which runs those registrations (checks/spec.py). Callers select, look up and list
checks here. The modules that define checks import only spec.py and base.py, never this module or the
engine, so the discovery makes no cycle.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import pkgutil
import re
from collections.abc import Iterable
from pathlib import Path

from multus_check.checks import spec as _spec
from multus_check.checks.spec import CheckSpec, Selection, matches

__all__ = ["CheckSpec", "Selection", "all_checks", "get", "matches", "select", "suggestion", "unknown_patterns"]
_loaded = False


#: a line that registers a check: a `@check(...)` decorator or `NAME = active_check(...)`
_REGISTRATION = re.compile(r"^(@check\(|[A-Z_]+ = active_check\()", re.MULTILINE)


def _registers_checks(path: Path) -> bool:
    return _REGISTRATION.search(path.read_text(encoding="utf-8")) is not None


def _load() -> None:
    global _loaded
    if _loaded:
        return
    package = importlib.import_module("multus_check.checks")
    for module in pkgutil.iter_modules(package.__path__):
        path = Path(package.__path__[0]) / f"{module.name}.py"
        if path.is_file() and _registers_checks(path):
            importlib.import_module(f"{package.__name__}.{module.name}")
    _loaded = True


def all_checks() -> list[CheckSpec]:
    _load()
    return _spec.registered()


def get(check_id: str) -> CheckSpec:
    _load()
    return _spec.spec_of(check_id)


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
    ids = [s.id for s in all_checks()]
    for p in patterns:
        close = difflib.get_close_matches(p, ids, n=3)
        if close:
            return f" (did you mean {', '.join(close)}?)"
    return ""
