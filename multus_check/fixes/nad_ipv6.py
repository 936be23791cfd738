"""nad-ipv6-ready: chain a `tuning` plugin into a LAN NAD so net1 takes the Thread border routers'
IPv6 routes (matter-thread-ipv6.md), and on a cluster with IPv6 Services keeps the LAN router's RAs
from adding a second IPv6 default route (`accept_ra_defrtr` 0, the IPv6 twin of cidr.service-routing).

The new config is domain/ipv6rules.ready_config of the NAD's own: the main plugin and its ipam are
kept as written (key order too), a single-plugin config becomes a conflist, an existing tuning plugin
keeps its other sysctls. The edit is computed again on the fresh GET of the NAD, so only
`spec.config` changes, and undo restores its exact original string. Pods keep the net1 they were
created with: the plan and the run's last lines name the pods the snapshot shows using the NAD.
A NAD that has no tuning plugin yet is left alone while a node that hosts pods lacks the `tuning`
binary where Multus looks (k3s does not bundle it; plugins.present's advice installs only the missing
ones): the new chain would make every new pod on that node fail with `failed to find plugin "tuning"`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from multus_check.checks.plugins import PLUGINS_URL
from multus_check.domain import k8s
from multus_check.domain.cluster import Nad, ipv6_services, nad_of, nads, pods_using
from multus_check.domain.gotypes import go_get
from multus_check.domain.ipv6rules import readiness, ready_config
from multus_check.domain.nadrules import nad_plugins
from multus_check.domain.node import NotCollected, listing, search_dirs
from multus_check.fixes.plan import Change, Edit, Fix, Plan, PlanContext, ensure_dict, replace
from multus_check.model import Finding, Status
from multus_check.snapshot.data import NodeFacts, Snapshot

_NAD_SUBJECT = re.compile(r"nad/([^/\s]+)/(\S+)")


class NadIpv6Ready(Fix):
    id = "nad-ipv6-ready"
    title = "chain tuning into the LAN NADs: accept RAs and Thread's /64 routes on net1"
    repairs = frozenset({"nad.ipv6-ready"})
    #: a net1 IPv6 default route from RAs on a dual-stack cluster (cidr.service-routing evidence `ipv6_ra_nads`)
    advises = frozenset({"cidr.service-routing"})

    def plan(self, snap: Snapshot, findings: list[Finding], ctx: PlanContext) -> Plan:
        refs = _targets(findings)
        if not refs:
            return self.nothing("every LAN NAD is IPv6-ready")
        dual = bool(ipv6_services(snap).source)
        changes: list[Change] = []
        refused: list[str] = []
        pods: list[str] = []
        found = [n for n in nads(snap) if n.ref in refs]
        lacking, unseen = _tuning_missing(snap)
        for nad in found:
            change, why_not = _change(nad, dual, lacking)
            if change is not None:
                changes.append(change)
                pods += pods_using(snap, nad)
            elif why_not:
                refused.append(f"NAD {nad.ref}: {why_not}")
        if not changes and found and not refused:
            return self.nothing("the NADs are IPv6-ready now")
        if not changes:
            return Plan(self.id, self.repairs, "cannot make the NADs IPv6-ready",
                        refused="; ".join(refused) or "the NADs the findings name are not in the snapshot")
        notes = _notes(pods, refused, dual)
        if unseen:
            notes += (f"Whether node(s) {', '.join(unseen)} have the tuning plugin was not collected: check that "
                      "`tuning` is in Multus's CNI bin dir there before recreating pods.",)
        return Plan(self.id, self.repairs, f"chain tuning into {len(changes)} NAD(s) for Matter over Thread",
                    tuple(changes), notes=notes, risk="low: only pods created afterwards get the new sysctls on net1",
                    after_apply=notes[:1])


def _targets(findings: list[Finding]) -> set[str]:
    """NAD refs (namespace/name) the failing findings name: nad.ipv6-ready subjects, cidr.service-routing evidence."""
    out: set[str] = set()
    for f in findings:
        if f.status not in (Status.FAIL, Status.WARN):
            continue
        if f.check == "nad.ipv6-ready":
            out.update("/".join(m.groups()) for m in [_NAD_SUBJECT.search(f.subject)] if m)
        elif f.check == "cidr.service-routing":
            out.update(str(r) for r in f.evidence.get("ipv6_ra_nads") or [])
    return out


def _change(nad: Nad, dual: bool, lacking: list[tuple[str, str]]) -> tuple[Change | None, str]:
    """The replace that makes the NAD ready, or None and why this fix cannot (or need not) change it."""
    if nad.config is None:
        return None, f"spec.config cannot be used ({nad.problem}); see nad.config-valid"
    verdict = readiness(nad.config, dual)
    if verdict.skip:
        return None, f"not changed: {verdict.skip}"
    if verdict.ready:
        return None, ""
    if lacking and not any(go_get(p, "type") == "tuning" for p in nad_plugins(nad.config) or []):
        node, bin_dir = lacking[0]
        return None, (f"not changed: node(s) {', '.join(n for n, _ in lacking)} lack the tuning plugin in Multus's CNI "
                      f"bin dir, so every new pod using it there would fail with `failed to find plugin \"tuning\"`; "
                      f"install it first (on {node}: `curl -sL {PLUGINS_URL} | sudo tar -xz -C {bin_dir} ./tuning`), "
                      "then run --fix again")
    _, what = ready_config(nad.config, verdict)
    return replace(nad.obj, _edit(dual), "; ".join(what)), ""


def _tuning_missing(snap: Snapshot) -> tuple[list[tuple[str, str]], list[str]]:
    """(nodes that host pods and have no `tuning` along Multus's plugin search path, with the first dir of that
    path; nodes where that was not collected), as plugins.present looks."""
    lacking: list[tuple[str, str]] = []
    unseen: list[str] = []
    for name in snap.node_names():
        obj = snap.get("Node", None, name)
        facts = snap.nodes.get(name)
        if obj is not None and not k8s.can_host_pods(obj):
            continue
        if facts is None:
            unseen.append(name)
            continue
        dirs = search_dirs(snap, facts)
        listed = [_listed(facts, d) for d in dirs]
        if all(entries is None for entries in listed):
            unseen.append(name)
        elif not any("tuning" in entries for entries in listed if entries is not None):
            lacking.append((name, dirs[0]))
    return lacking, unseen


def _listed(facts: NodeFacts, directory: str) -> set[str] | None:
    """The executables' names in one directory of a node, None when it was not collected."""
    try:
        return {e.name for e in listing(facts, directory) or [] if e.type in ("file", "symlink")}
    except NotCollected:
        return None


def _edit(dual: bool) -> Edit:
    """Make `spec.config` ready as it is when applied: the live config keeps everything but the sysctls."""
    def edit(obj: dict[str, Any]) -> None:
        nad = nad_of(obj)
        if nad.config is None:
            raise ValueError(f"spec.config of {nad.ref} cannot be used now ({nad.problem})")
        verdict = readiness(nad.config, dual)
        if verdict.skip:
            raise ValueError(f"{nad.ref} is not a LAN attachment now: {verdict.skip}")
        if not verdict.ready:
            conf, _ = ready_config(nad.config, verdict)
            ensure_dict(obj, "spec")["config"] = json.dumps(conf, indent=2)

    return edit


def _notes(pods: list[str], refused: list[str], dual: bool) -> tuple[str, ...]:
    using = (f"Pods already using these NADs keep their old net1 until they are recreated: {', '.join(sorted(pods))} "
             "(delete them, or `kubectl rollout restart` their workload)." if pods else
             "Pods already using these NADs keep their old net1 until they are recreated (the snapshot shows none).")
    why = ("The cluster serves IPv6 Services, so net.ipv6.conf.IFNAME.accept_ra_defrtr=0 keeps the LAN router's RAs "
           "from adding a second IPv6 default route on net1 (Thread's RIO routes still arrive)." if dual else
           "The cluster serves no IPv6 Services, so the LAN router may stay net1's IPv6 default route "
           "(accept_ra_defrtr is left alone).")
    return (using, why, *[f"left alone: {r}" for r in refused])
