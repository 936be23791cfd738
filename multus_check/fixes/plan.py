"""What a fix is: a pure plan of object changes and manual steps, derived from findings.

A `Fix` declares the check ids it repairs. `plan()` reads only the snapshot and the findings
(and a `PlanContext` for the time stamp a rollout restart needs), so planning is pure and makes
no request. Applying and undoing are generic over the `Change`s of a plan (see `apply.py` and
`undo.py`): a change creates a new object, or edits an existing one.

An edit is a function, not a finished object: the plan shows it applied to the collected copy
(`before` -> `after`, with credentials redacted), and `apply.py` applies the same function to a
fresh GET of the live object, so every field the plan does not change (secret env values above
all) is written back exactly as the cluster holds it. `fields.stray_fields` holds the write to
the plan's diff. The journal records the live object before the write, so undo restores it exactly.
"""

from __future__ import annotations

import abc
import copy
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from multus_check.errors import MultusCheckError
from multus_check.model import Finding, Status
from multus_check.snapshot.data import Snapshot

#: metadata the API server owns; dropped when comparing objects or writing them back
SERVER_FIELDS = ("resourceVersion", "generation", "managedFields", "selfLink")


#: an edit of an object, applied in place to a copy (of the collected object, then of the live one)
Edit = Callable[[dict[str, Any]], None]


class LiveMismatch(MultusCheckError):
    """The live object cannot take the planned edit (it differs from the collected copy where the fix writes)."""


class Action(enum.Enum):
    REPLACE = "replace"
    CREATE = "create"


@dataclass(frozen=True)
class Change:
    """One object change: `before` is the object as planned against (None for a create).

    `if_absent` (creates only): the object is created only if it does not exist when the change is
    applied; an existing one is left exactly as it is and never becomes the fix's to undo. For
    objects the diagnosis does not read (RBAC, service accounts), so the plan cannot know.

    `edit` (replaces only): what the fix does to the object; `after` is `edit` applied to `before`
    and is what the plan shows. Build replaces with `replace()`.
    """

    action: Action
    after: dict[str, Any]
    why: str
    before: dict[str, Any] | None = None
    if_absent: bool = False
    edit: Edit | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.action is Action.REPLACE and (self.before is None or self.edit is None):
            raise ValueError("a replace needs the object planned against and its edit (use fixes.plan.replace)")

    def applied_to(self, live: dict[str, Any]) -> dict[str, Any]:
        """The live object with this change's edit applied (a copy; `live` is not changed)."""
        assert self.edit is not None
        out = copy.deepcopy(live)
        try:
            self.edit(out)
        except (KeyError, TypeError, ValueError, AttributeError, StopIteration) as exc:
            raise LiveMismatch(f"{self.ref} as it is now cannot take the planned edit ({type(exc).__name__}: {exc})") from exc
        return out

    @property
    def kind(self) -> str:
        return str(self.after.get("kind", ""))

    @property
    def namespace(self) -> str | None:
        ns = (self.after.get("metadata") or {}).get("namespace")
        return str(ns) if ns else None

    @property
    def name(self) -> str:
        return str((self.after.get("metadata") or {}).get("name", ""))

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @property
    def planned_version(self) -> str | None:
        """The resourceVersion the plan was made against: apply stops if the object moved on."""
        if self.before is None:
            return None
        rv = (self.before.get("metadata") or {}).get("resourceVersion")
        return str(rv) if rv is not None else None


@dataclass(frozen=True)
class ManualStep:
    """Something multus-check cannot do through the API; printed with exact commands."""

    title: str
    why: str
    commands: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    fix_id: str
    repairs: frozenset[str]
    summary: str
    changes: tuple[Change, ...] = ()
    manual: tuple[ManualStep, ...] = ()
    notes: tuple[str, ...] = ()
    risk: str = "low"
    reversible: bool = True
    refused: str | None = None  # why the fix will not act, when it will not
    #: set when the repair only shows after something runs (a DaemonSet rollout): checks still failing
    #: right after apply are then reported `pending` with this reason instead of `fail`
    pending: str | None = None
    #: what the person must do once the changes are applied (printed after the run, e.g. recreate pods)
    after_apply: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.changes and not self.manual and self.refused is None

    @property
    def manual_only(self) -> bool:
        """Steps for a person and nothing multus-check would write."""
        return bool(self.manual) and not self.changes and self.refused is None


@dataclass(frozen=True)
class PlanContext:
    """Inputs a plan needs besides the snapshot, passed in so plan() stays pure."""

    now: str = "1970-01-01T00:00:00Z"
    options: dict[str, Any] = field(default_factory=dict)


class Fix(abc.ABC):
    """A repair for one or more checks. Subclasses implement `plan` only.

    `repairs` are the checks the fix makes pass (verification holds it to that). `advises` are
    checks whose failing findings can carry evidence the fix acts on without repairing them (a
    manual step about the LAN, say): such a fix is planned when one of them fails, although no
    check names it as its `fix`.
    """

    id: str = ""
    title: str = ""
    repairs: frozenset[str] = frozenset()
    advises: frozenset[str] = frozenset()
    #: the values `--fix-option ID=VALUE` accepts, the default first (none: the fix has no variants)
    variants: tuple[str, ...] = ()

    @abc.abstractmethod
    def plan(self, snap: Snapshot, findings: list[Finding], ctx: PlanContext) -> Plan:
        """What would change and why; must not touch the cluster."""

    def failing(self, findings: Iterable[Finding]) -> list[Finding]:
        return [f for f in findings if f.check in self.repairs and f.status in (Status.FAIL, Status.WARN)]

    def nothing(self, why: str = "nothing to repair") -> Plan:
        return Plan(self.id, self.repairs, why)


def strip_server_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy without the metadata the API server maintains (and without status)."""
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in SERVER_FIELDS:
            meta.pop(key, None)
    return out


def same_object(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal up to the fields the server must change on every write (resourceVersion and kin)."""
    return strip_server_fields(a) == strip_server_fields(b)


def edited(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy to edit into a change's `after` (the snapshot object is never mutated)."""
    return copy.deepcopy(obj)


def replace(before: dict[str, Any], edit: Edit, why: str) -> Change | None:
    """A replace of `before` by `edit` applied to it; None when the edit changes nothing."""
    after = edited(before)
    edit(after)
    if after == before:
        return None
    return Change(Action.REPLACE, after, why, before=before, edit=edit)


def ensure_dict(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """`parent[key]` as a dict, created (or replacing a null) when missing."""
    value = parent.get(key)
    if not isinstance(value, dict):
        value = parent[key] = {}
    return value
