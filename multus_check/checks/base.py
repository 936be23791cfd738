"""Helpers that keep each check small: building findings and gating on missing data.

"Could not look" is never "found nothing": the gates turn an unreadable section into an
`error` finding that names the cause (RBAC, failed read, not collected). A finding that fails or
warns names the fix its check declares; that every declared fix exists in this build is held by
tests/test_registries.py, so checks never ask the fixes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from multus_check.checks.spec import spec_of
from multus_check.domain import k8s
from multus_check.domain.node import NotCollected
from multus_check.model import Finding, Status
from multus_check.snapshot.data import IN_SNAPSHOT, PERMISSION, NodeFacts, SectionState, Snapshot

CLUSTER = "cluster"


def finding(
    check_id: str, status: Status, subject: str, message: str, remediation: str = "", **evidence: Any
) -> Finding:
    spec = spec_of(check_id)
    fixable = status in (Status.FAIL, Status.WARN)
    return Finding(
        check=check_id, status=status, severity=spec.severity, subject=subject, message=message,
        evidence=evidence, remediation=remediation if fixable or status is Status.ERROR else "",
        fix=spec.fix if fixable else None,
    )


def _section_problem(snap: Snapshot, key: str) -> str | None:
    section = snap.section(key)
    if section.state.readable:
        return None
    what = key.replace("cluster/", "").replace("node/", "node ")
    detail = f": {section.detail}" if section.detail else ""
    if section.state is SectionState.FORBIDDEN:
        return f"reading {what} was forbidden by RBAC{detail}"
    if section.state is SectionState.FAILED:
        return f"reading {what} failed{detail}"
    return f"{what} was not collected{detail}"


#: the next step for a section that cannot be used, by its state (a section may carry a more precise one)
NEXT_STEP = {
    SectionState.FORBIDDEN: "Grant the missing permission (see fixtures/rbac/), then run multus-check again.",
    SectionState.FAILED: "Collect it again (run multus-check again, or `multus-check snapshot DIR`); the message "
                         "says why the read failed.",
    SectionState.NOT_COLLECTED: "Collect the missing part (a full `multus-check snapshot DIR`, or a live run), then "
                                "run multus-check again.",
}


def section_advice(snap: Snapshot, keys: Iterable[str]) -> str:
    """The next steps for the unusable sections among `keys`: what fits each one's cause, each said once."""
    steps: list[str] = []
    for key in keys:
        section = snap.section(key)
        if section.state.readable:
            continue
        step = section.advice or NEXT_STEP.get(section.state, "")
        if step and step not in steps:
            steps.append(step)
    return " ".join(steps)


def unreadable_advice(reason: str) -> str:
    """The next step for a node fact that could not be used, by what the reason says happened."""
    if PERMISSION in reason:
        return "Make the snapshot file it names readable by this user (chmod a+r, or run as its owner), then run again."
    if IN_SNAPSHOT in reason:
        return "Fix or re-collect the snapshot file it names (`multus-check snapshot DIR` writes a complete one)."
    return "Collect the missing node facts (a live run without --no-node-facts, or `multus-check node` on the host)."


def need(snap: Snapshot, check_id: str, *resources: str) -> list[Finding] | None:
    """An error finding when any needed `cluster/<resource>` section cannot be trusted."""
    keys = [f"cluster/{r}" for r in resources]
    problems = [p for p in (_section_problem(snap, k) for k in keys) if p]
    if not problems:
        return None
    return [finding(check_id, Status.ERROR, CLUSTER, "Could not evaluate: " + "; ".join(problems) + ".",
                    section_advice(snap, keys), missing=list(resources))]


def per_node(
    snap: Snapshot,
    check_id: str,
    judge: Callable[[str, NodeFacts, dict[str, Any] | None], Finding],
    only_pod_hosts: bool = False,
) -> list[Finding]:
    """Run `judge` for every node; missing node facts become `error`, tainted nodes `skip`."""
    out: list[Finding] = []
    for name in snap.node_names():
        subject = f"node/{name}"
        node_obj = snap.get("Node", None, name)
        if only_pod_hosts and node_obj is not None and not k8s.can_host_pods(node_obj):
            out.append(finding(check_id, Status.SKIP, subject,
                               f"Node {name} is cordoned or tainted NoSchedule/NoExecute; ordinary pods do not run there."))
            continue
        facts = snap.nodes.get(name)
        problem = _section_problem(snap, f"node/{name}")
        if problem or facts is None:
            msg = problem or f"node {name} has no node facts in the snapshot"
            out.append(finding(check_id, Status.ERROR, subject, f"Could not evaluate node {name}: {msg}.",
                               snap.section(f"node/{name}").advice or
                               "Collect node facts for this node (run without --no-node-facts, or "
                               "`multus-check node` on the host)."))
            continue
        try:
            out.append(judge(name, facts, node_obj))
        except NotCollected as exc:
            reason = _with_unreadable(str(exc), facts)
            out.append(finding(check_id, Status.ERROR, subject, f"Could not evaluate node {name}: {reason}.",
                               unreadable_advice(reason)))
    if not out:
        out.append(finding(check_id, Status.ERROR, CLUSTER, "Could not evaluate: the snapshot names no nodes.",
                           section_advice(snap, ["cluster/nodes"]) or NEXT_STEP[SectionState.NOT_COLLECTED]))
    return out


def _with_unreadable(reason: str, facts: NodeFacts) -> str:
    """The reason, plus why the node's listings could not be read when that is the cause (dirs.json)."""
    why = facts.unreadable.get("dirs.json")
    return f"{reason} ({why})" if why and why not in reason else reason


def worst(statuses: Iterable[Status]) -> Status:
    items = list(statuses)
    return max(items, key=lambda s: s.rank) if items else Status.PASS
