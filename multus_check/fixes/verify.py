"""Run planned fixes end to end (apply, collect again, judge again) and say what was verified.

Verification re-runs the static checks on a fresh collection: the checks each fix meant to
repair must now pass, and no check that passed before may fail afterwards (a widened flannel
Network, for instance, must not make cidr.supernet-safety fail). "Could not look" is never
"verified": a re-collection that fails, a repaired check that now says `error` (could not
evaluate) or gives no verdict at all leaves the run unverified, and only a check that still
fails or warns waits for a rollout as `pending`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from multus_check.checks import registry
from multus_check.checks.base import worst
from multus_check.errors import MultusCheckError
from multus_check.fixes.apply import ApplyOutcome, apply
from multus_check.fixes.journal import Journal
from multus_check.fixes.model import Plan
from multus_check.kube.writes import Writer
from multus_check.model import Finding, Status
from multus_check.snapshot.model import Snapshot

log = logging.getLogger(__name__)


def static_findings(snap: Snapshot) -> list[Finding]:
    """Every static check on a snapshot, without pytest (verification needs only the verdicts)."""
    return [f for spec in registry.all_checks() if spec.fn is not None for f in spec.fn(snap)]


def statuses(findings: list[Finding]) -> dict[str, Status]:
    by_check: dict[str, list[Status]] = {}
    for f in findings:
        by_check.setdefault(f.check, []).append(f.status)
    return {cid: worst(s) for cid, s in by_check.items()}


@dataclass
class FixRun:
    journal: Journal
    outcome: ApplyOutcome
    repaired: dict[str, str] = field(default_factory=dict)  # check id -> status after the fix, or "pending"
    pending: dict[str, str] = field(default_factory=dict)  # check id -> what must happen first
    regressions: list[str] = field(default_factory=list)
    #: why the checks could not be run again after the fix (the collection failed), if they could not
    recheck_problem: str | None = None
    checked: bool = False  # the checks ran again on a fresh collection

    @property
    def verified(self) -> bool:
        """Applied, checked again, nothing regressed, and every repaired check passes (or waits for a rollout)."""
        return (self.outcome.ok and self.checked and self.recheck_problem is None and not self.regressions
                and all(s in ("pass", "pending") for s in self.repaired.values()))


def execute(plans: list[Plan], writer: Writer, before: Snapshot, report_dir: Path, run_id: str,
            recollect: Callable[[], Snapshot]) -> FixRun:
    journal = Journal.create(report_dir, run_id)
    outcome = apply(plans, writer, journal)
    run = FixRun(journal, outcome)
    if not outcome.ok or not outcome.applied:
        return run
    old = statuses(static_findings(before))
    try:
        again = recollect()
    except MultusCheckError as exc:
        run.recheck_problem = f"collecting again after the fix failed, so nothing is verified: {exc}"
        journal.verified = {"problem": run.recheck_problem}
        journal.save()
        log.info("fix run %s: %s", run_id, run.recheck_problem)
        return run
    new = statuses(static_findings(again))
    run.checked = True
    for plan in plans:
        if plan.changes and plan.refused is None:
            for cid in sorted(plan.repairs):
                if cid not in new:
                    if old.get(cid) in (Status.FAIL, Status.WARN):
                        run.repaired[cid] = "not evaluated"  # failed before, and no verdict now
                    continue
                run.repaired[cid] = new[cid].value
                if new[cid] in (Status.FAIL, Status.WARN) and plan.pending:
                    run.repaired[cid], run.pending[cid] = "pending", plan.pending
    run.regressions = sorted(cid for cid, s in new.items()
                             if old.get(cid) is Status.PASS and s in (Status.FAIL, Status.ERROR))
    journal.verified = {"repaired": run.repaired, "pending": run.pending, "regressions": run.regressions}
    journal.save()
    log.info("fix run %s verified: %s", run_id, run.verified)
    return run
