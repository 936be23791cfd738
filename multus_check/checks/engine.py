"""The one engine that runs static checks over a snapshot, crash guard included.

Every way a check is run goes through here: the pytest plugin (one check per suite test), `multus-check
node` (the node-scoped checks on this host's facts) and the verification after `--fix`. A check that
raises is a bug in multus-check, not a verdict on the cluster: it becomes an `error` finding naming the
exception, so a run never dies with a traceback and never passes a check it could not evaluate. Pure
apart from the debug log.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable

from multus_check.checks import registry
from multus_check.checks.spec import CheckSpec
from multus_check.model import Finding, Status
from multus_check.snapshot.data import Snapshot

log = logging.getLogger(__name__)


def run_check(spec: CheckSpec, snap: Snapshot) -> list[Finding]:
    if spec.fn is None:
        return []
    started = time.perf_counter()
    try:
        findings = spec.fn(snap)
        log.debug("check %s: %s in %.1f ms", spec.id, dict(Counter(f.status.value for f in findings)),
                  1000 * (time.perf_counter() - started))
    except Exception as exc:  # a crash must not become a pass nor a traceback for the user
        log.debug("check %s crashed", spec.id, exc_info=True)
        return [Finding(spec.id, Status.ERROR, spec.severity, "cluster",
                        f"Could not evaluate: the check crashed on this snapshot ({type(exc).__name__}: {exc}).",
                        {"exception": type(exc).__name__},
                        "Please report this with the snapshot attached (multus-check snapshot DIR).")]
    if not findings:
        return [Finding(spec.id, Status.ERROR, spec.severity, "cluster", "Could not evaluate: the check returned no finding.")]
    return findings


def run_checks(snap: Snapshot, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> list[Finding]:
    out: list[Finding] = []
    for spec in registry.select(include, exclude):
        out.extend(run_check(spec, snap))
    return out
