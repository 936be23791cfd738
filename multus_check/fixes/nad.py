"""nad-repair: create a missing NAD, or repair an invalid one, with a master NIC every node has.

The master is chosen from the node facts (multus-cni.md §6): an interface that is up, wired, exists
on every node that can host pods, and is the default-route interface of at least one of them.
When nodes disagree and no interface is safe everywhere, the fix refuses and says why, since a
wrong master makes pods on some nodes fail with `Link not found` or silent DHCP timeouts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from multus_check.domain import k8s
from multus_check.domain.cluster import Nad, nad_of, nads
from multus_check.domain.cniconf import MACVLAN_MODES, plugins_of
from multus_check.domain.ipv6rules import readiness, ready_config
from multus_check.domain.node import NotCollected, default_route_iface, interfaces
from multus_check.fixes.plan import Action, Change, Edit, Fix, Plan, PlanContext, ensure_dict, replace
from multus_check.model import Finding, Status
from multus_check.snapshot.data import Snapshot

DEFAULT_NAD = ("default", "macvlan-lan")
_NAD_SUBJECT = re.compile(r"nad/([^/\s]+)/(\S+)")


def choose_master(snap: Snapshot) -> tuple[str | None, str]:
    """(interface, why) or (None, why not)."""
    hosts = [n for n in snap.node_names() if k8s.can_host_pods(snap.get("Node", None, n) or {})]
    usable: list[set[str]] = []
    defaults: dict[str, str | None] = {}
    for name in hosts:
        facts = snap.nodes.get(name)
        if facts is None:
            return None, f"node {name} has no node facts, so its NICs are unknown"
        try:
            links = interfaces(facts)
            defaults[name] = default_route_iface(facts)
        except NotCollected as exc:
            return None, f"node {name}: {exc}"
        usable.append({i.name for i in links.values() if i.up and i.wireless is False and i.addresses})
    if not usable:
        return None, "no node can host pods"
    common = set.intersection(*usable)
    picks = sorted({d for d in defaults.values() if d in common})
    if len(picks) == 1:
        return picks[0], f"{picks[0]} is up, wired and present on every node, and carries the default route"
    per_node = "; ".join(f"{n}: default route via {defaults[n] or 'nothing'}, usable NICs {', '.join(sorted(u)) or 'none'}"
                         for n, u in zip(hosts, usable, strict=True))
    if not picks:
        return None, (f"no NIC is up, wired and addressed on every node and carries a default route ({per_node}); give "
                      "the NICs one name (systemd .link file), fix the link, or use one NAD per node group with a nodeSelector")
    return None, f"nodes disagree on the LAN NIC ({per_node}); pick one yourself"


def repaired_config(nad: Nad, master: str) -> tuple[dict[str, Any], list[str]]:
    """A config for `nad` that passes nad.config-valid and nad.master, and what was changed."""
    if nad.config is None:
        fresh = thread_ready({"cniVersion": "0.3.1", "type": "macvlan", "master": master, "mode": "bridge",
                              "ipam": {"type": "dhcp"}})
        return fresh, [f"spec.config could not be used ({nad.problem}); replaced by a macvlan+DHCP config with tuning "
                       "for Matter over Thread (nad.ipv6-ready)"]
    conf: dict[str, Any] = json.loads(json.dumps(nad.config))
    what: list[str] = []
    for plugin in plugins_of(conf):
        if plugin.get("type") != "macvlan":
            continue
        if plugin.get("master") != master:
            what.append(f"master {plugin.get('master')!r} -> {master!r}")
            plugin["master"] = master
        if str(plugin.get("mode", "")) not in MACVLAN_MODES:
            what.append(f"mode {plugin.get('mode')!r} -> 'bridge'")
            plugin["mode"] = "bridge"
        if plugin.get("ipam") is not None and not isinstance(plugin.get("ipam"), dict):
            # a macvlan without ipam is a valid L2-only attachment; only an ipam that is no object is broken
            what.append(f"ipam {plugin.get('ipam')!r} -> {{\"type\": \"dhcp\"}}")
            plugin["ipam"] = {"type": "dhcp"}
    return conf, what


class NadRepair(Fix):
    id = "nad-repair"
    title = "create or repair the NetworkAttachmentDefinition with a master every node has"
    repairs = frozenset({"nad.config-valid", "nad.master"})

    def plan(self, snap: Snapshot, findings: list[Finding], ctx: PlanContext) -> Plan:
        failing = self.failing(findings)
        if not failing:
            return self.nothing("the NADs are valid")
        if any(f.check == "nad.crd" and f.status is Status.FAIL for f in findings):
            return Plan(self.id, self.repairs, "waits for the NAD CRD", refused=(
                "the NetworkAttachmentDefinition CRD is missing (install-multus creates it); run multus-check --fix "
                "again afterwards to create or repair the NAD"))
        master, why = choose_master(snap)
        if master is None:
            return Plan(self.id, self.repairs, "cannot choose a master NIC", refused=why)
        refs = {m.groups() for f in failing for m in [_NAD_SUBJECT.search(f.subject)] if m}
        items = nads(snap)
        if not items:
            return Plan(self.id, self.repairs, f"create NAD {'/'.join(DEFAULT_NAD)} (macvlan on {master}, DHCP)",
                        (Change(Action.CREATE, _new_nad(master), f"no NAD exists; master: {why}"),))
        changes = []
        for nad in items:
            if (k8s.namespace(nad.obj), k8s.name(nad.obj)) not in refs:
                continue
            _, what = repaired_config(nad, master)
            change = replace(nad.obj, _config_edit(master), "; ".join(what) + f" (master: {why})") if what else None
            if change is not None:
                changes.append(change)
        if not changes:
            return Plan(self.id, self.repairs, "nothing this fix can change",
                        refused="the failing NAD findings are not about master, mode or IPAM")
        return Plan(self.id, self.repairs, f"repair {len(changes)} NAD(s) with master {master}", tuple(changes),
                    notes=("Pods already running keep their net1; recreate them to use the repaired NAD.",),
                    risk="medium: pods created with the NAD afterwards attach to the new master")


def _config_edit(master: str) -> Edit:
    """Repair `spec.config` as it is when applied (the live config keeps everything but what is repaired)."""
    def edit(obj: dict[str, Any]) -> None:
        conf, what = repaired_config(nad_of(obj), master)
        if what:
            ensure_dict(obj, "spec")["config"] = json.dumps(conf, indent=2)

    return edit


def thread_ready(config: dict[str, Any]) -> dict[str, Any]:
    """A new single macvlan config as the conflist nad.ipv6-ready passes (tuning after macvlan)."""
    conf, _ = ready_config(config, readiness(config))
    return conf


def _new_nad(master: str) -> dict[str, Any]:
    config = thread_ready({"cniVersion": "0.3.1", "type": "macvlan", "master": master, "mode": "bridge",
                           "capabilities": {"mac": True}, "ipam": {"type": "dhcp"}})
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": DEFAULT_NAD[1], "namespace": DEFAULT_NAD[0],
                         "labels": {"app.kubernetes.io/managed-by": "multus-check"}},
            "spec": {"config": json.dumps(config, indent=2)}}
