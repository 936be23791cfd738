"""events.known-failures: recent Warning events whose message matches a known cause.

A sandbox failure the catalog does not know is still shown: its message, cut to the part that
names the cause (`cause_text`), goes whole into the finding; the full text into the evidence.
"""

from __future__ import annotations

from typing import Any

from multus_check.checks.base import CLUSTER, finding, need
from multus_check.checks.spec import check
from multus_check.domain.known_failures import cause_text, match
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot.data import Snapshot

SANDBOX_REASONS = ("FailedCreatePodSandBox", "FailedKillPodSandbox")


def _subject(event: dict[str, Any]) -> str:
    obj = event.get("involvedObject") or event.get("regarding") or {}
    kind = str(obj.get("kind", "object")).lower()
    ns = obj.get("namespace")
    return f"{kind}/{ns}/{obj.get('name')}" if ns else f"{kind}/{obj.get('name')}"


def _message(event: dict[str, Any]) -> str:
    return str(event.get("message") or event.get("note") or "")


@check("events.known-failures", "no recent pod sandbox failures with a known cause", Severity.HIGH)
def known_failures(snap: Snapshot) -> list[Finding]:
    """Maps each recognised error message of recent Warning events to its cause, the check that
    owns it and the fix (the catalog in domain/known_failures.py). A pod sandbox failure the
    catalog does not know is a warning that still shows the part of its message naming the cause."""
    cid = "events.known-failures"
    if err := need(snap, cid, "events"):
        return err
    warnings = [e for e in snap.kind("Event") if e.get("type") == "Warning"]
    out: dict[tuple[str, str], Finding] = {}
    for event in warnings:
        text, subject = _message(event), _subject(event)
        known = match(text)
        if known is not None:
            key = (subject, known.id)
            if key not in out:
                out[key] = finding(cid, Status.FAIL, subject,
                                   f"{subject}: {known.cause} (catalog {known.id}, see {known.check}).", known.fix,
                                   catalog=known.id, related_check=known.check, reason=event.get("reason"),
                                   count=event.get("count", 1), cause_text=cause_text(text), event_message=text)
        elif event.get("reason") in SANDBOX_REASONS:
            out.setdefault((subject, "unknown"), finding(
                cid, Status.WARN, subject, f"{subject}: a pod sandbox failed with a message the catalog does not know: "
                f"{cause_text(text)}",
                f"Read it with `kubectl describe {subject.split('/', 1)[0]} ...`; if it is a Multus/CNI error, please "
                "report it so the catalog learns it.", reason=event.get("reason"), cause_text=cause_text(text),
                event_message=text))
    if not out:
        return [finding(cid, Status.PASS, CLUSTER,
                        f"None of the {len(warnings)} recent Warning events matches a known Multus/CNI failure.",
                        warning_events=len(warnings))]
    return list(out.values())
