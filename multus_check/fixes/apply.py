"""Apply plans: server-side dry run of every change, then journal-first writes with preconditions.

Order of events for a plan set:
1. every change is sent once with `dryRun=All` (an edit: applied to a fresh GET of the live
   object); any refusal (conflict, invalid, forbidden) stops everything before the first real write;
2. per change: read the live object, stop if its resourceVersion is not the one planned against
   (someone changed it since the diagnosis; or, when an earlier step of this run wrote the same
   object, not the one that step produced), apply the change's edit to that live object and
   check that it touches only the fields the plan's diff shows (`fields.stray_fields`), write the
   journal entry, then PUT the live object with only those fields changed, with the
   resourceVersion precondition, and record what the server returned. Fields the plan does not
   change, credentials above all, are written back exactly as the cluster holds them. A create
   marked `if_absent` reads first: an object that already exists is left alone, journaled as
   `skipped` and never undone (an object created between that read and the POST gives 409 and stops);
3. if a change fails, the changes already applied are reverted (last first), and the journal says so.

A write whose answer is lost is not taken for refused. Interrupted by a signal while the request is
in flight, the entry is saved `unknown` before the interrupt goes on (undo then finds out from the
object whether it took effect). Timed out, cut off, or answered 409/5xx after the gateway retried
it, the object is read back (`undo.settle`): holding what was sent, the step counts as applied and
the run goes on; as before, it failed; otherwise it stays `unknown` and is rolled back with the rest.
Only a refusal that proves nothing was stored (403, 400/422, 401, 404; and 409 for a create) is
`failed` at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from multus_check.errors import Conflict, Forbidden, Invalid, MultusCheckError, NotFound, Unauthorized
from multus_check.fixes.fields import stray_fields
from multus_check.fixes.journal import Entry, Journal
from multus_check.fixes.plan import Action, Change, LiveMismatch, Plan
from multus_check.fixes.undo import UndoOutcome, revert, settle
from multus_check.kube.writes import Writer

log = logging.getLogger(__name__)

#: answers proving the server stored nothing (it refused before writing)
REFUSALS: tuple[type[MultusCheckError], ...] = (Forbidden, Invalid, Unauthorized, NotFound)


@dataclass
class ApplyOutcome:
    applied: list[str] = field(default_factory=list)
    #: `if_absent` creates of objects that already existed: left alone, not the fix's to undo
    skipped: list[str] = field(default_factory=list)
    stopped: str | None = None
    rolled_back: UndoOutcome | None = None
    dry_run_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.stopped is None


def changes_of(plans: list[Plan]) -> list[tuple[Plan, Change]]:
    return [(p, c) for p in plans if p.refused is None for c in p.changes]


def live_body(change: Change, live: dict[str, Any]) -> dict[str, Any]:
    """What to PUT for a replace: the live object with only the planned fields changed.

    Raises LiveMismatch when the edit would change a field the plan does not show, or write a
    redaction marker: the collected copy and the live object then differ where the fix writes.
    """
    assert change.before is not None
    body = change.applied_to(live)
    stray = stray_fields(change.before, change.after, live, body)
    if stray:
        raise LiveMismatch(f"{change.ref} differs from the diagnosed copy where the fix writes ({'; '.join(stray)}); "
                           "nothing of it was written; run multus-check --fix again")
    meta = body.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)  # omitted: the server keeps its own
    body.pop("status", None)
    return body


def dry_run(plans: list[Plan], writer: Writer) -> list[str]:
    """Ask the API server to validate every change without persisting anything."""
    problems = []
    for _, change in changes_of(plans):
        try:
            if change.if_absent and _existing(change, writer) is not None:
                continue
            if change.action is Action.REPLACE:
                live = writer.get(change.kind, change.namespace, change.name)
                writer.replace(live_body(change, live), change.planned_version or "", dry_run=True)
            else:
                writer.create(change.after, dry_run=True)
        except MultusCheckError as exc:
            problems.append(f"{change.ref}: {exc}")
    return problems


def apply(plans: list[Plan], writer: Writer, journal: Journal) -> ApplyOutcome:
    outcome = ApplyOutcome()
    outcome.dry_run_problems = dry_run(plans, writer)
    if outcome.dry_run_problems:
        outcome.stopped = "the server-side dry run refused: " + "; ".join(outcome.dry_run_problems)
        return outcome
    done: list[Entry] = []
    produced: dict[str, str] = {}  # object ref -> the resourceVersion an earlier step of this run wrote
    for step, (plan, change) in enumerate(changes_of(plans), start=1):
        if change.if_absent:
            try:
                live = _existing(change, writer)
            except MultusCheckError as exc:
                return _stop(outcome, step, change, f"could not look whether {change.ref} exists: {exc}", done, writer,
                             journal)
            if live is not None:
                journal.add(Entry(step, plan.fix_id, change.action.value, change.kind, change.namespace, change.name,
                                  live, change.after, state="skipped"))
                outcome.skipped.append(change.ref)
                log.info("step %d: %s already exists, left alone", step, change.ref)
                continue
        problem = _apply_one(step, plan, change, writer, journal, done, produced.get(change.ref, change.planned_version))
        if problem is not None:
            return _stop(outcome, step, change, problem, done, writer, journal)
        produced[change.ref] = done[-1].result_version or ""
        outcome.applied.append(change.ref)
    return outcome


def _stop(outcome: ApplyOutcome, step: int, change: Change, problem: str, done: list[Entry], writer: Writer,
          journal: Journal) -> ApplyOutcome:
    outcome.stopped = f"step {step} ({change.ref}) failed: {problem}"
    if done:
        outcome.rolled_back = _roll_back(done, writer, journal)
    return outcome


def _existing(change: Change, writer: Writer) -> dict[str, Any] | None:
    """The live object an `if_absent` create would collide with, or None when it is absent."""
    try:
        return writer.get(change.kind, change.namespace, change.name)
    except NotFound:
        return None


def _apply_one(step: int, plan: Plan, change: Change, writer: Writer, journal: Journal, done: list[Entry],
               expected: str | None) -> str | None:
    before, body = None, change.after
    if change.action is Action.REPLACE:
        try:
            before = writer.get(change.kind, change.namespace, change.name)
        except MultusCheckError as exc:
            return str(exc)
        live_version = str((before.get("metadata") or {}).get("resourceVersion", ""))
        if live_version != expected:
            return (f"{change.ref} changed since the diagnosis (resourceVersion {expected} -> "
                    f"{live_version}); nothing of it was overwritten; run multus-check --fix again")
        try:
            body = live_body(change, before)
        except LiveMismatch as exc:
            return str(exc)
    entry = journal.add(Entry(step, plan.fix_id, change.action.value, change.kind, change.namespace, change.name,
                              before, body))
    try:
        result = _send(change, body, writer, expected)
    except MultusCheckError as exc:
        return _lost_or_refused(entry, exc, writer, journal, done)
    except BaseException:  # SIGTERM or Ctrl-C while the request was in flight: the server may have applied it
        entry.state, entry.error = "unknown", "interrupted while the request was in flight"
        journal.save()
        raise
    meta = result.get("metadata") or {}
    entry.state = "applied"
    entry.result_version = str(meta.get("resourceVersion", "")) or None
    entry.result_uid = str(meta.get("uid", "")) or None
    entry.result = result
    journal.save()
    done.append(entry)
    log.info("applied step %d: %s %s", step, change.action.value, change.ref)
    return None


def _send(change: Change, body: dict[str, Any], writer: Writer, expected: str | None) -> dict[str, Any]:
    if change.action is Action.REPLACE:
        return writer.replace(body, expected or "")
    return writer.create(body)


def _lost_or_refused(entry: Entry, exc: MultusCheckError, writer: Writer, journal: Journal, done: list[Entry]) -> str | None:
    """A write without a success answer: refused (nothing stored), or lost (read the object back to know)."""
    entry.error = str(exc)
    refused = isinstance(exc, REFUSALS) or (entry.action == "create" and isinstance(exc, Conflict))
    if refused:
        entry.state = "failed"
    else:
        settle(entry, writer, conflict=isinstance(exc, Conflict))
        log.info("step %d: %s %s lost its answer (%s); the object shows: %s", entry.step, entry.action, entry.ref, exc,
                 entry.state)
    journal.save()
    if entry.state == "applied":
        done.append(entry)
        return None
    if entry.state == "unknown":
        done.append(entry)  # rolled back (or found not to have taken effect) with the rest
        return f"{exc} (sent, but its answer was lost and the object could not be read back to tell)"
    return str(exc)


def _roll_back(done: list[Entry], writer: Writer, journal: Journal) -> UndoOutcome:
    outcome = UndoOutcome()
    for entry in reversed(done):
        revert(entry, writer, outcome, "rolled-back")
        journal.save()
    return outcome
