"""flannel-service-routes: keep Service traffic on eth0 in Multus pods (cidr.service-routing).

The remedy is chosen as flannel-k3s.md §3.4 and §6 say: widen net-conf.json `Network` to the
supernet of the pod and Service CIDRs (S1) only when they are aligned siblings (the supernet
wastes nothing) and the supernet overlaps no LAN subnet; otherwise add the Service CIDRs as
`ipam.routes` of the flannel plugin in cni-conf.json (S2), which touches no masquerade rule.
flanneld reads its config once, so the plan restarts the flannel DaemonSet (and Multus after a
cni-conf change, since thin Multus keeps its own copy, §7). Only pods created afterwards get the
new routes. k3s's embedded flannel has no ConfigMap: that case is a manual step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from multus_check.domain import k8s
from multus_check.domain.cluster import (
    flannel_cni_conf,
    flannel_configmap,
    flannel_daemonsets,
    flannel_network,
    k3s_info,
    multus_daemonset,
    multus_pods,
    service_cidrs,
)
from multus_check.domain.cniconf import plugins_of
from multus_check.domain.ipnet import Net, supernet, waste
from multus_check.domain.lan_overlap import lan_overlaps
from multus_check.fixes.plan import Change, Edit, Fix, LiveMismatch, ManualStep, Plan, PlanContext, ensure_dict, replace
from multus_check.model import Finding
from multus_check.snapshot.data import Snapshot

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
K3S_FLANNEL_CNI_CONF = "/etc/rancher/k3s/flannel-cni.conflist"


def rollout_restart(ds: dict[str, Any], now: str, why: str) -> Change | None:
    """What `kubectl rollout restart` does: stamp the pod template so every pod is replaced."""
    def stamp(obj: dict[str, Any]) -> None:
        template = ensure_dict(ensure_dict(obj, "spec"), "template")
        ensure_dict(ensure_dict(template, "metadata"), "annotations")[RESTARTED_AT] = now

    return replace(ds, stamp, why)


def _set_data(key: str, rewrite: Callable[[str], str]) -> Edit:
    """An edit that rewrites one ConfigMap data key from its current text (the live text when applied)."""
    def edit(obj: dict[str, Any]) -> None:
        data = ensure_dict(obj, "data")
        data[key] = rewrite(str(data.get(key, "")))

    return edit


def widened_net_conf(text: str, old: Net, new: Net) -> str:
    """net-conf.json with Network replaced, every other byte kept (a readable one-line diff)."""
    pattern = re.compile(r'("[Nn]etwork"\s*:\s*")' + re.escape(str(old)) + '"')
    if pattern.search(text):
        return pattern.sub(lambda m: m.group(1) + str(new) + '"', text, count=1)
    conf = json.loads(text)
    key = next(k for k in conf if k.lower() == "network")
    conf[key] = str(new)
    return json.dumps(conf, indent=2) + "\n"


def routed_cni_conf(conf: dict[str, Any], svc: list[Net]) -> dict[str, Any] | None:
    """cni-conf.json with the Service CIDRs as flannel ipam.routes; None if no flannel plugin."""
    out: dict[str, Any] = json.loads(json.dumps(conf))
    flannel = [p for p in plugins_of(out) if p.get("type") == "flannel"]
    if not flannel:
        return None
    for plugin in flannel:
        ipam = plugin.setdefault("ipam", {})
        routes = ipam.setdefault("routes", [])
        have = {r.get("dst") for r in routes if isinstance(r, dict)}
        routes.extend({"dst": str(s)} for s in svc if str(s) not in have)
    return out


def _routed_text(text: str, svc: list[Net]) -> str:
    try:
        conf = json.loads(text)
    except ValueError as exc:
        raise LiveMismatch(f"cni-conf.json is not valid JSON: {exc}") from exc
    routed = routed_cni_conf(conf, svc) if isinstance(conf, dict) else None
    if routed is None:
        raise LiveMismatch("cni-conf.json has no flannel plugin")
    return json.dumps(routed, indent=2) + "\n"


class FlannelServiceRoutes(Fix):
    id = "flannel-service-routes"
    title = "route the Service CIDR via eth0 in pods (flannel Network or ipam.routes)"
    repairs = frozenset({"cidr.service-routing"})

    def plan(self, snap: Snapshot, findings: list[Finding], ctx: PlanContext) -> Plan:
        failing = self.failing(findings)
        if not failing:
            return self.nothing("Service routing already holds (cidr.service-routing passes)")
        if all(f.evidence.get("ipv4_held") for f in failing):
            return self.nothing("IPv4 Service routing holds; the IPv6 default route on net1 is nad-ipv6-ready's")
        net = flannel_network(snap).value
        svc = [s for s in service_cidrs(snap).value if s.version == 4]
        cm = flannel_configmap(snap)
        if net is None or not svc:
            return Plan(self.id, self.repairs, "cannot plan", refused="flannel's Network or the Service CIDR is unknown")
        if cm is None and k3s_info(snap).is_k3s:
            return self._k3s_manual(snap, svc)
        if cm is None:
            return Plan(self.id, self.repairs, "cannot plan", refused=(
                "no kube-flannel-cfg ConfigMap: add {\"ipam\": {\"routes\": [{\"dst\": \"" + ", ".join(map(str, svc))
                + "\"}]}} to the flannel plugin of your flannel CNI config by hand (flannel-k3s.md §3.4 S2)"))
        candidate = supernet([net, *svc])
        spare = waste(candidate, [net, *svc])
        lan_hits, basis = lan_overlaps(snap, candidate)
        if not spare and not lan_hits and "masks not collected" not in basis:
            return self._widen(snap, cm, net, candidate, svc, ctx)
        reason = (f"widening to {candidate} would add {sum(n.num_addresses for n in spare)} addresses outside the pod "
                  f"and Service CIDRs" if spare else
                  f"{candidate} overlaps the LAN ({'; '.join(lan_hits[:3])})" if lan_hits else
                  "the nodes' LAN subnets were not collected, so widening cannot be proven safe")
        return self._routes(snap, cm, svc, ctx, reason)

    def _widen(self, snap: Snapshot, cm: dict[str, Any], net: Net, new: Net, svc: list[Net], ctx: PlanContext) -> Plan:
        why = (f"S1: Network {net} -> {new} covers Service CIDR {', '.join(map(str, svc))}; pod and Service CIDRs are "
               "aligned siblings (nothing else is added) and no LAN subnet lies inside")
        change = replace(cm, _set_data("net-conf.json", lambda text: widened_net_conf(text, net, new)), why)
        changes = [c for c in [change, *self._restarts(snap, ctx, restart_multus=False)] if c is not None]
        return Plan(self.id, self.repairs, f"widen flannel Network {net} -> {new} and restart flannel",
                    tuple(changes), notes=self._notes(snap), risk="low: leases do not move in kube mode (§7)")

    def _routes(self, snap: Snapshot, cm: dict[str, Any], svc: list[Net], ctx: PlanContext, reason: str) -> Plan:
        conf = flannel_cni_conf(snap).value
        routed = routed_cni_conf(conf, svc) if isinstance(conf, dict) else None
        if routed is None:
            return Plan(self.id, self.repairs, "cannot plan",
                        refused=f"{k8s.ref(cm)} cni-conf.json is missing, invalid or has no flannel plugin")
        why = f"S2: flannel ipam.routes {', '.join(map(str, svc))} via eth0; not widening Network because {reason}"
        change = replace(cm, _set_data("cni-conf.json", lambda text: _routed_text(text, svc)), why)
        changes = [c for c in [change, *self._restarts(snap, ctx, restart_multus=True)] if c is not None]
        return Plan(self.id, self.repairs, "add the Service CIDR to flannel's CNI ipam.routes and restart flannel",
                    tuple(changes), notes=self._notes(snap), risk="low: adds routes only, masquerading unchanged")

    def _restarts(self, snap: Snapshot, ctx: PlanContext, restart_multus: bool) -> list[Change | None]:
        out: list[Change | None] = [
            rollout_restart(flannel, ctx.now, "flanneld reads net-conf.json only at start, and install-cni "
                            "copies cni-conf.json only at pod start (§7)")
            for flannel in flannel_daemonsets(snap)]  # older manifests: one DaemonSet per architecture
        multus = multus_daemonset(snap)
        if restart_multus and multus is not None:
            out.append(rollout_restart(multus, ctx.now, "thin Multus keeps its embedded copy of the flannel conflist "
                                       "until its pod restarts (§7)"))
        return out

    def _notes(self, snap: Snapshot) -> tuple[str, ...]:
        pods = [k8s.ref(p) for p in multus_pods(snap)]
        note = "Only pods created after the restart get the new routes; existing pods keep their routing table."
        if pods:
            note += " Recreate these Multus pods: " + ", ".join(pods[:10]) + ("" if len(pods) <= 10 else ", ...")
        return (note,)

    def _k3s_manual(self, snap: Snapshot, svc: list[Net]) -> Plan:
        routes = json.dumps([{"dst": str(s)} for s in svc])
        conflist = ('{"name":"cbr0","cniVersion":"1.0.0","plugins":[{"type":"flannel","delegate":{"hairpinMode":true,'
                    f'"forceAddress":true,"isDefaultGateway":true}},"ipam":{{"routes":{routes}}}}},'
                    '{"type":"portmap","capabilities":{"portMappings":true}},{"type":"bandwidth","capabilities":'
                    '{"bandwidth":true}}]}')
        commands = (
            f"sudo tee {K3S_FLANNEL_CNI_CONF} <<'EOF'\n{conflist}\nEOF",
            f"echo 'flannel-cni-conf: {K3S_FLANNEL_CNI_CONF}' | sudo tee -a /etc/rancher/k3s/config.yaml",
            "sudo systemctl restart k3s   # on agents: sudo systemctl restart k3s-agent",
            "kubectl -n kube-system rollout restart ds/kube-multus-ds",
        )
        step = ManualStep("give k3s's embedded flannel the Service CIDR route on every node",
                          "k3s rewrites 10-flannel.conflist from its flags at every start, so only --flannel-cni-conf "
                          "keeps ipam.routes (flannel-k3s.md §3.4 S2, §7)", commands)
        return Plan(self.id, self.repairs, "k3s embedded flannel: manual step", manual=(step,), notes=self._notes(snap))
