"""Undo: put every object a fix changed back exactly as the journal recorded it.

Replaced objects are written back from the journal's `before` with a resourceVersion
precondition, only while they still hold what the fix wrote: the resourceVersion the fix itself
produced, or the same content under a newer one (a later run that changed the object was undone
first, or a later step of the same run was restored), so a change someone made after the fix is
never silently overwritten (the entry is reported instead; `force` overrides). Objects the fix
created are deleted with uid and resourceVersion preconditions. An object already as it was
before the fix (an undo interrupted after its write reached the server) needs nothing.

Writes whose answer never came (journal states `pending`, `unknown`) are judged by the object
itself (`fields.took_effect`): holding what was sent, it is reverted like an applied change; as it
was before, the entry becomes `not-applied` and nothing is sent; anything else is someone else's
change and is reported. Used by `multus-check undo`, by the rollback of a fix that fails part-way,
and by apply (`settle`) right after a write lost its answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from multus_check.errors import MultusCheckError, NotFound
from multus_check.fixes.fields import comparable, holds, took_effect
from multus_check.fixes.journal import IN_FLIGHT, UNDOABLE, Entry, Journal
from multus_check.fixes.plan import strip_server_fields
from multus_check.kube.writes import Writer

log = logging.getLogger(__name__)


@dataclass
class UndoOutcome:
    restored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: nothing to do: already as before the fix, or the fix's unanswered write had not taken effect
    unchanged: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def revert(entry: Entry, writer: Writer, outcome: UndoOutcome, final_state: str, force: bool = False) -> None:
    """Revert one applied (or answer-unknown) entry; record what happened in `outcome` and in the entry's state."""
    current = _current(entry, writer)
    if entry.state in IN_FLIGHT and not _in_flight_took_effect(entry, current, outcome, force):
        return
    if current is None:
        if entry.action == "create":
            entry.state = final_state
            outcome.deleted.append(f"{entry.ref} (already gone)")
        else:
            outcome.problems.append(f"{entry.ref} no longer exists; recreate it from the journal's `before` by hand")
        return
    if entry.action != "create" and _as_before(entry, current):
        entry.state = final_state
        outcome.unchanged.append(f"{entry.ref} (already as before the fix)")
        return
    version = _version(current)
    if entry.state == "applied" and version != entry.result_version and not force and not _as_the_fix_left_it(entry, current):
        outcome.problems.append(
            f"{entry.ref} was changed after the fix (resourceVersion {entry.result_version} -> {version}); "
            "left as it is (pass --force to restore the journaled state anyway)")
        return
    _write_back(entry, writer, current, outcome, final_state)


def _current(entry: Entry, writer: Writer) -> dict[str, Any] | None:
    try:
        return writer.get(entry.kind, entry.namespace, entry.name)
    except NotFound:
        return None


def _version(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


def _write_back(entry: Entry, writer: Writer, current: dict[str, Any], outcome: UndoOutcome, final_state: str) -> None:
    try:
        if entry.action == "create":
            uid = str((current.get("metadata") or {}).get("uid", ""))
            writer.delete(entry.kind, entry.namespace, entry.name, uid=uid, resource_version=_version(current))
            outcome.deleted.append(entry.ref)
        else:
            assert entry.before is not None
            writer.replace(strip_server_fields(entry.before), _version(current))
            outcome.restored.append(entry.ref)
    except MultusCheckError as exc:
        outcome.problems.append(f"{entry.ref}: {exc}")
        return
    entry.state = final_state


def _in_flight_took_effect(entry: Entry, current: dict[str, Any] | None, outcome: UndoOutcome, force: bool) -> bool:
    """For a write whose answer never came: did it take effect (then revert it)? Records the other outcomes."""
    if current is not None and took_effect(entry.before, entry.after, current):
        return True
    if _nothing_written(entry, current):
        entry.state = "not-applied"
        outcome.unchanged.append(f"{entry.ref} (its {entry.action} was sent without an answer and had not taken effect)")
        return False
    if current is None:
        outcome.problems.append(f"{entry.ref} no longer exists; recreate it from the journal's `before` by hand")
    elif force and entry.action != "create":
        return True
    else:
        outcome.problems.append(
            f"{entry.ref} holds neither what the fix sent (without an answer) nor the journaled state before it: someone "
            "else changed it; left as it is" + ("" if entry.action == "create" else
                                                 " (pass --force to restore the journaled state anyway)"))
    return False


def _nothing_written(entry: Entry, current: dict[str, Any] | None) -> bool:
    """The object shows no trace of the entry's write: a create's object is absent, a replaced one as before."""
    return (current is None and entry.action == "create") or (current is not None and _as_before(entry, current))


def _as_before(entry: Entry, current: dict[str, Any]) -> bool:
    """Is the object as the journal recorded it before the fix (an undo already restored it, or the fix never
    took effect)? Metadata and status the server maintains aside."""
    return entry.before is not None and comparable(current) == comparable(entry.before)


def _as_the_fix_left_it(entry: Entry, current: dict[str, Any]) -> bool:
    """Does the object hold exactly what the fix wrote (its content, under whatever resourceVersion)?"""
    return entry.result is not None and comparable(current) == comparable(entry.result)


def settle(entry: Entry, writer: Writer, conflict: bool = False) -> None:
    """Right after a write lost its answer: read the object back and record what the server did (`applied`
    with the object as result; `failed` when it is as before or absent, or, after a 409, does not hold what was
    sent: a concurrent edit won); `unknown` when it cannot tell."""
    entry.state = "unknown"
    try:
        current = _current(entry, writer)
    except MultusCheckError as exc:
        log.info("%s: cannot read it back after the lost answer (%s)", entry.ref, exc)
        return
    if current is not None and took_effect(entry.before, entry.after, current):
        meta = current.get("metadata") or {}
        entry.state, entry.result, entry.error = "applied", current, None
        entry.result_version, entry.result_uid = _version(current) or None, str(meta.get("uid", "")) or None
    elif _nothing_written(entry, current) or (conflict and current is not None and not holds(current, entry.after)):
        entry.state = "failed"


def undo(journal: Journal, writer: Writer, force: bool = False) -> UndoOutcome:
    """Revert every applied (or answer-unknown) entry of the journal, last change first."""
    outcome = UndoOutcome()
    for entry in reversed(journal.entries):
        if entry.state not in UNDOABLE:
            continue
        revert(entry, writer, outcome, "undone", force)
        journal.save()
    log.info("undo of run %s: %d restored, %d deleted, %d unchanged, %d problems", journal.run_id, len(outcome.restored),
             len(outcome.deleted), len(outcome.unchanged), len(outcome.problems))
    return outcome
