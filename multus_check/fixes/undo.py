"""Undo: put every object a fix changed back exactly as the journal recorded it.

Replaced objects are written back from the journal's `before` with a resourceVersion
precondition, only while they still hold what the fix wrote: the resourceVersion the fix itself
produced, or the same content under a newer one (a later run that changed the object was undone
first, or a later step of the same run was restored), so a change someone made after the fix is
never silently overwritten (the entry is reported instead; `force` overrides). Objects the fix
created are deleted with uid and resourceVersion preconditions. Used by `multus-check undo` and by
the rollback of a fix that fails part-way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from multus_check.errors import MultusCheckError, NotFound
from multus_check.fixes.fields import comparable
from multus_check.fixes.journal import Entry, Journal
from multus_check.fixes.plan import strip_server_fields
from multus_check.kube.writes import Writer

log = logging.getLogger(__name__)


@dataclass
class UndoOutcome:
    restored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def revert(entry: Entry, writer: Writer, outcome: UndoOutcome, final_state: str, force: bool = False) -> None:
    """Revert one applied entry; record what happened in `outcome` and in the entry's state."""
    try:
        current = writer.get(entry.kind, entry.namespace, entry.name)
    except NotFound:
        if entry.action == "create":
            entry.state = final_state
            outcome.deleted.append(f"{entry.ref} (already gone)")
            return
        current = None
    if current is None:
        outcome.problems.append(f"{entry.ref} no longer exists; recreate it from the journal's `before` by hand")
        return
    version = str((current.get("metadata") or {}).get("resourceVersion", ""))
    if version != entry.result_version and not force and not _as_the_fix_left_it(entry, current):
        outcome.problems.append(
            f"{entry.ref} was changed after the fix (resourceVersion {entry.result_version} -> {version}); "
            "left as it is (pass --force to restore the journaled state anyway)")
        return
    try:
        if entry.action == "create":
            uid = str((current.get("metadata") or {}).get("uid", ""))
            writer.delete(entry.kind, entry.namespace, entry.name, uid=uid, resource_version=version)
            outcome.deleted.append(entry.ref)
        else:
            assert entry.before is not None
            restored = strip_server_fields(entry.before)
            writer.replace(restored, version)
            outcome.restored.append(entry.ref)
    except MultusCheckError as exc:
        outcome.problems.append(f"{entry.ref}: {exc}")
        return
    entry.state = final_state


def _as_the_fix_left_it(entry: Entry, current: dict[str, Any]) -> bool:
    """Does the object hold exactly what the fix wrote (its content, under whatever resourceVersion)?"""
    return entry.result is not None and comparable(current) == comparable(entry.result)


def undo(journal: Journal, writer: Writer, force: bool = False) -> UndoOutcome:
    """Revert every applied entry of the journal, last change first."""
    outcome = UndoOutcome()
    for entry in reversed(journal.entries):
        if entry.state != "applied":
            continue
        revert(entry, writer, outcome, "undone", force)
        journal.save()
    log.info("undo of run %s: %d restored, %d deleted, %d problems", journal.run_id, len(outcome.restored),
             len(outcome.deleted), len(outcome.problems))
    return outcome
