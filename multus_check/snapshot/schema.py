"""The published JSON Schemas of snapshot.json and dirs.json, and the problems they find in a document.

Why it exists: the snapshot format is public (docs/SNAPSHOT.md); its machine-readable contract is
docs/schema/*.schema.json, shipped in the package as schemas/ for the loader. The loader judges
these two files by the schemas through jsonschema instead of by hand, and this module turns
jsonschema's errors into one-line problems that say where the problem is (`section 'node/a' has
unknown state 'maybe'`, `listing of /opt/cni/bin must be a list or null, not a string`). What to
do about one (refuse the snapshot, fail a section, ignore a member) is the loader's decision.
Reads only its own package data; jsonschema is imported on first use.

Validation is piecewise, for speed: jsonschema costs tens of microseconds per subschema it applies,
and a 5000-node snapshot has 5000 section entries and dozens of directory entries per node, most of
them alike. Members that the schema constrains through one `$ref` each (section entries, directory
entries) are validated once per distinct value, the rest of the document once. The outcome equals
validating the document whole (tests/test_snapshot_schema.py checks that both ways agree).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from multus_check.snapshot.data import FORMAT

SNAPSHOT = "snapshot.schema.json"
DIRS = "dirs.schema.json"
_TYPE_NAMES = {"object": "an object", "array": "a list", "string": "a string", "boolean": "true or false",
               "integer": "a whole number", "number": "a number", "null": "null"}
_ROOT_TYPE = {SNAPSHOT: "must hold a JSON object", DIRS: "must be a JSON object mapping host paths to listings"}
#: (schema, member def, repr of a member value) -> its errors; bounded, cleared when full
_SEEN: dict[tuple[str, str, str], tuple[_Error, ...]] = {}
_SEEN_MAX = 1 << 16


@dataclass(frozen=True)
class Problem:
    """One way a document breaks its schema: where (JSON keys and list indexes) and a one-line message."""

    path: tuple[str | int, ...]
    message: str
    whole: bool = False  # the message is about the document itself: "has format 'x'", "must hold a JSON object"

    def of(self, name: str) -> str:
        """The message after the file's name: `snapshot.json has format ...`, `snapshot.json: section ...`."""
        return f"{name} {self.message}" if self.whole else f"{name}: {self.message}"


@dataclass(frozen=True)
class _Error:
    path: tuple[str | int, ...]  # relative to the validated value
    keyword: str
    expected: Any
    instance: Any
    text: str


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """The schema document `name` as shipped (docs/schema/ holds the same files)."""
    text = resources.files("multus_check.snapshot").joinpath("schemas", name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@functools.cache
def _validator(name: str, member: str | None = None) -> Any:
    from jsonschema import Draft202012Validator

    doc = schema(name)
    if member is not None:  # the member's definition alone; its $refs resolve within the same $defs
        doc = {"$schema": doc["$schema"], "$defs": doc["$defs"], "$ref": f"#/$defs/{member}"}
    return Draft202012Validator(doc)


def snapshot_problems(doc: Any) -> list[Problem]:
    """What is wrong with a snapshot.json document; empty when the schema accepts it."""
    sections = doc.get("sections") if isinstance(doc, dict) else None
    if not isinstance(sections, dict):
        return _problems(SNAPSHOT, (), _errors(SNAPSHOT, None, doc))
    out = _problems(SNAPSHOT, (), _errors(SNAPSHOT, None, {**doc, "sections": {}}))
    for key, value in sections.items():
        out += _problems(SNAPSHOT, ("sections", key), _member_errors(SNAPSHOT, "section", value))
    return out


def dirs_problems(doc: Any) -> list[Problem]:
    """What is wrong with a dirs.json document; empty when the schema accepts it."""
    if not isinstance(doc, dict):
        return _problems(DIRS, (), _errors(DIRS, None, doc))
    out = _problems(DIRS, (), _member_errors(DIRS, None, {k: [] if isinstance(v, list) else v for k, v in doc.items()}))
    for path, listing in doc.items():
        for index, entry in enumerate(listing if isinstance(listing, list) else []):
            errors = _member_errors(DIRS, "entry", entry)
            if errors:
                out += _problems(DIRS, (path, index), errors)
    return out


def _member_errors(name: str, member: str | None, value: Any) -> tuple[_Error, ...]:
    """The errors of `value` against the member's definition (None: the whole schema), remembered:
    nodes of one cluster share most directory entries, and the skeleton of their dirs.json."""
    key = (name, member or "", repr(value))  # repr tells JSON values apart (True from 1, "1" from 1)
    found = _SEEN.get(key)
    if found is None:
        if len(_SEEN) >= _SEEN_MAX:
            _SEEN.clear()
        found = _SEEN[key] = _errors(name, member, value)
    return found


def _errors(name: str, member: str | None, value: Any) -> tuple[_Error, ...]:
    return tuple(_Error(tuple(e.absolute_path), str(e.validator), e.validator_value, e.instance, e.message)
                 for e in _validator(name, member).iter_errors(value))


def _problems(name: str, base: tuple[str | int, ...], errors: Iterable[_Error]) -> list[Problem]:
    return [_problem(name, (*base, *e.path), e) for e in errors]


def _problem(name: str, path: tuple[str | int, ...], e: _Error) -> Problem:
    subject, rest = _subject(name, path)
    field = _dotted(rest)
    if name == SNAPSHOT and path[:1] == ("format",):
        return Problem(path, f"has format {e.instance!r}; this multus-check reads {FORMAT}", whole=True)
    if e.keyword == "type" and not path:
        return Problem(path, f"{_ROOT_TYPE[name]}, not {_kind(e.instance)}", whole=True)
    if e.keyword == "type":
        wanted = " or ".join(_TYPE_NAMES[t] for t in ([e.expected] if isinstance(e.expected, str) else e.expected))
        return Problem(path, _say(subject, field, f"must be {wanted}, not {_kind(e.instance)}"))
    if e.keyword == "enum":
        what = field or "state"  # a section given as a bare state name
        return Problem(path, f"{subject} has unknown {what} {e.instance!r} (known: {', '.join(map(str, e.expected))})")
    if e.keyword == "required":
        missing = next((p for p in e.expected if p not in e.instance), e.expected[0])
        return Problem(path, _say(subject, field, f"has no {missing}"))
    if e.keyword == "minimum":
        return Problem(path, _say(subject, field, f"must be at least {e.expected}, not {e.instance!r}"))
    return Problem(path, _say(subject, field, e.text))


def _subject(name: str, path: tuple[str | int, ...]) -> tuple[str, tuple[str | int, ...]]:
    """Who the problem is about, in the user's words, and the path below it."""
    if name == DIRS:
        if len(path) >= 2:
            return f"entry {path[1]} of {path[0]}", path[2:]
        return (f"listing of {path[0]}", ()) if path else ("", ())
    if path[:1] == ("sections",) and len(path) >= 2:
        return f"section {path[1]!r}", path[2:]
    return (f"'{_dotted(path)}'", ()) if path else ("", ())


def _dotted(path: tuple[str | int, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _say(subject: str, field: str, predicate: str) -> str:
    return f"{subject}: {field} {predicate}" if field else f"{subject} {predicate}"


def _kind(value: Any) -> str:
    """What a JSON value is, in words: `a string`, `a number`, ..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a string" if isinstance(value, str) else "null"
