"""cidr.*: does Service traffic stay on eth0 once net1 exists, and is a widened flannel
Network safe? The mechanism and the sufficient conditions S1-S3 are flannel-k3s.md §3.4, §6."""

from __future__ import annotations

from typing import Any

from multus_check.checks.base import CLUSTER, finding, need
from multus_check.checks.spec import check
from multus_check.domain import k8s
from multus_check.domain.cluster import (
    Nad,
    cluster_dns_ip,
    flannel_cni_conf,
    flannel_network,
    ipv6_only,
    ipv6_services,
    k3s_info,
    kubernetes_service_ip,
    multus_pods,
    nads,
    service_cidrs,
)
from multus_check.domain.cniconf import ConfigError, parse_json_object, plugins_of
from multus_check.domain.confdir import nad_config, spec_is_empty
from multus_check.domain.ipnet import Net, contains, supernet, try_net, waste
from multus_check.domain.ipv6rules import DEFRTR, key, ra_default_route
from multus_check.domain.lan_overlap import lan_overlaps
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot.data import Snapshot

SR = "cidr.service-routing"


@check(SR, "Service CIDR and cluster DNS stay routed via eth0 in a Multus pod", Severity.CRITICAL, fix="flannel-service-routes")
def service_routing(snap: Snapshot) -> list[Finding]:
    """A DHCP lease on net1 adds `default via <LAN router> dev net1`, inserted after eth0's and so
    preferred. Service IPs outside flannel's Network then leave through net1, skip kube-proxy, and
    cluster DNS times out. Reports which sufficient condition keeps them on eth0: S1 (Service CIDR
    inside flannel Network), S2 (flannel CNI `ipam.routes` for the Service CIDR) or S3 (net1 adds
    no competing default route). IPv6, when the cluster serves it (an IPv6 Service CIDR, an IPv6
    clusterIP, kube-apiserver's --service-cluster-ip-range, flannel's IPv6Network): a NAD whose
    chain accepts RAs (accept_ra 1, the kernel default) without `accept_ra_defrtr` 0 lets the LAN
    router's RA add `default via fe80::... dev net1 proto ra metric 1024`, the same metric as
    eth0's IPv6 default, so IPv6 Service traffic may leave through net1 (matter-thread-ipv6.md
    "A second default route"); the same S1/S2 hold it, or S3: every NAD sets
    `net.ipv6.conf.IFNAME.accept_ra_defrtr` 0 through tuning (Thread's RIO routes still arrive). A NAD
    without spec.config is judged on its file in each node's Multus confDir; when no node's file was
    collected the IPv6 side could not be evaluated (`error`), never S3."""
    if err := need(snap, SR, "nodes", "configmaps", "services", "network-attachment-definitions"):
        return err
    net = flannel_network(snap)
    svc = service_cidrs(snap)
    dns = cluster_dns_ip(snap)
    ev: dict[str, Any] = {
        "service_cidrs": [str(n) for n in svc.value], "service_cidr_source": svc.source,
        "cluster_dns": dns.value, "cluster_dns_source": dns.source,
        "kubernetes_service_ip": kubernetes_service_ip(snap),
        "flannel_network": str(net.value) if net.value else None, "flannel_network_source": net.source,
    }
    if ipv6_only(net):
        return [finding(SR, Status.ERROR, CLUSTER, f"Could not evaluate: flannel runs IPv6 only ({net.source} sets "
                        "EnableIPv4 false), and this check judges the IPv4 Service routes; check by hand that the IPv6 "
                        "Service CIDR is routed via eth0 in a Multus pod (`ip -6 route get <service IP>`).",
                        "Run `ip -6 route get <cluster DNS IP>` in a pod with net1; it must say `dev eth0`.", **ev)]
    if net.value is None:
        return [finding(SR, Status.ERROR, CLUSTER, f"Could not evaluate: flannel's Network is unknown ({net.problem}).",
                        "Fix flannel's net-conf.json first (see flannel.network-contains-pod-cidrs).", **ev)]
    v4 = _ipv4_side(snap, net.value, [s for s in svc.value if s.version == 4], svc.source, str(dns.value), ev)
    v6 = _ipv6_side(snap, ev)
    broken = [side for side in (v4, v6) if side is not None and not side[0]]
    if not broken:
        return [finding(SR, Status.PASS, CLUSTER, " ".join(side[1] for side in (v4, v6) if side), **ev)]
    if v6 is not None and broken == [v6] and ev["ipv6_unjudged_nads"] and not ev["ipv6_ra_nads"]:
        return [finding(SR, Status.ERROR, CLUSTER, f"Could not evaluate IPv6: {v6[1]} (IPv4: {v4[1]})", v6[2], **ev)]
    status = Status.FAIL if nads(snap) else Status.WARN
    lead = "" if nads(snap) else "No NAD exists yet, but once a macvlan+DHCP NAD is used: "
    return [finding(SR, status, CLUSTER, lead + " ".join(side[1] for side in broken),
                    " ".join(side[2] for side in broken), **ev)]


Side = tuple[bool, str, str]  # (holds, message, remediation)


def _ipv4_side(snap: Snapshot, network: Net, v4: list[Net], source: str, dns: str, ev: dict[str, Any]) -> Side:
    s1 = all(contains(network, s) for s in v4)
    s2, s2_where = _s2_routes(snap, v4)
    s3, s3_why = _s3_no_competing_default(snap)
    ev["conditions"] = {"S1": s1, "S2": s2, "S3": s3}
    ev["S2_source"], ev["S3_reason"] = s2_where, s3_why
    ev["ipv4_held"] = s1 or s2 or s3
    held = [name for name, ok in (("S1", s1), ("S2", s2), ("S3", s3)) if ok]
    if held:
        text = {"S1": f"S1 (Service CIDR inside flannel Network {network})",
                "S2": f"S2 (flannel ipam.routes cover the Service CIDR, {s2_where})",
                "S3": f"S3 ({s3_why})"}
        return True, "Service traffic stays on eth0 in Multus pods: " + "; ".join(text[h] for h in held) + ".", ""
    return (False, f"Service CIDR {', '.join(map(str, v4))} ({source}) lies outside flannel Network {network}, "
            f"and {s3_why}: the net1 default route wins, so cluster DNS {dns} leaves via net1 to the LAN router "
            "and times out.", _routing_remedy(snap, network, v4))


def _ipv6_side(snap: Snapshot, ev: dict[str, Any]) -> Side | None:
    """The IPv6 twin: None when the cluster serves no IPv6 Services."""
    six = ipv6_services(snap)
    ev["ipv6_evidence"] = six.extra.get("evidence", [])
    if not six.source:
        return None
    v6, net6 = list(six.value), flannel_network(snap).extra.get("ipv6_network")
    s1 = bool(v6) and net6 is not None and all(contains(net6, s) for s in v6)
    s2, s2_where = _s2_routes(snap, v6)
    items = nads(snap)
    ra, unjudged = _ra_default_routes(snap, items)
    s3 = bool(items) and not ra and not unjudged
    ev["ipv6_conditions"] = {"S1": s1, "S2": s2, "S3": s3}
    ev["ipv6_ra_nads"] = [ref for ref, _ in ra]
    ev["ipv6_unjudged_nads"] = unjudged
    if s1 or s2 or s3:
        how = (f"S1 (IPv6 Service CIDR inside flannel IPv6Network {net6})" if s1 else
               f"S2 (flannel ipam.routes cover the IPv6 Service CIDR, {s2_where})" if s2 else
               "S3 (every NAD sets accept_ra_defrtr=0 or takes no RAs)")
        return True, f"IPv6 ({six.source}): {how}.", ""
    cidrs = ", ".join(map(str, v6)) or "the IPv6 Services"
    if unjudged and not ra:
        return (False, f"the cluster serves IPv6 ({six.source}), and NAD(s) {', '.join(unjudged)} have no spec.config "
                f"and their file in Multus's confDir was not collected from any node, so whether the LAN router's RA "
                f"gives net1 an IPv6 default route competing with eth0's (for {cidrs}) is unknown.",
                "Collect node facts (run without --no-node-facts), or in a pod using the NAD run `ip -6 route show "
                "default`: it must not say `dev net1`.")
    why = "; ".join(f"NAD {ref} {text}" for ref, text in ra) or "no NAD exists to judge"
    return (False, f"The cluster serves IPv6 ({six.source}) and {why}: the LAN router's RA adds `default via fe80::... "
            f"dev net1 proto ra metric 1024`, competing with eth0's IPv6 default route, so traffic to {cidrs} may "
            "leave via net1.",
            f"Add a tuning plugin after the interface plugin with \"sysctl\": {{\"{key(DEFRTR)}\": \"0\"}} to "
            f"{', '.join(ref for ref, _ in ra) or 'each LAN NAD'} (`multus-check --fix` does it with nad-ipv6-ready, "
            "keeping Thread's RIO routes), then recreate the pods using it.")


def _ra_default_routes(snap: Snapshot, items: list[Nad]) -> tuple[list[tuple[str, str]], list[str]]:
    """(NADs whose chain lets RAs install an IPv6 default route on net1, with how; NADs without spec.config whose
    confDir file no node's facts hold). A confDir NAD is judged on every node's file; an unusable spec.config is
    not judged (nad.config-valid fails it: no pod starts with it)."""
    ra: list[tuple[str, str]] = []
    unjudged: list[str] = []
    for nad in items:
        configs = [nad.config] if nad.config is not None else []
        if nad.config is None and spec_is_empty(nad):
            configs = [c for facts in snap.nodes.values() if (c := nad_config(snap, nad, facts)[0]) is not None]
            if not configs:
                unjudged.append(nad.ref)
        why = next((w for c in configs if (w := ra_default_route(c))), None)
        if why:
            ra.append((nad.ref, why))
    return ra, unjudged


def _s2_routes(snap: Snapshot, svc: list[Net]) -> tuple[bool, str]:
    conf = flannel_cni_conf(snap)
    confs: list[tuple[str, dict[str, Any]]] = []
    if conf.value is not None:
        confs.append((conf.source, conf.value))
    else:
        for name, facts in sorted(snap.nodes.items()):
            for path, text in facts.files.items():
                if path.endswith("flannel.conflist"):
                    try:
                        confs.append((f"node {name}: {path}", parse_json_object(text, path)))
                    except ConfigError:
                        continue
    if not confs or not svc:
        return False, "no flannel CNI config to read"
    for where, c in confs:
        routes = [try_net(r.get("dst")) for p in plugins_of(c) if p.get("type") == "flannel"
                  for r in ((p.get("ipam") or {}).get("routes") or []) if isinstance(r, dict)]
        nets = [r for r in routes if r is not None]
        if not all(any(contains(r, s) for r in nets) for s in svc):
            return False, where
    return True, confs[0][0] if len(confs) == 1 else f"{len(confs)} node conflists"


def _s3_no_competing_default(snap: Snapshot) -> tuple[bool, str]:
    items = nads(snap)
    if not items:
        return False, "no NAD exists to judge"
    for pod in multus_pods(snap):
        for entry in k8s.network_status(pod) or []:
            if not entry.get("default") and entry.get("gateway"):
                return False, (f"pod {k8s.ref(pod)} has a default gateway {entry['gateway'][0]} on "
                               f"{entry.get('interface', 'net1')} (from its network-status)")
        if "default-route" in k8s.annotations_of(pod).get(k8s.NETWORKS_ANNOTATION, ""):
            return False, f"pod {k8s.ref(pod)} requests a Multus default-route on a secondary network"
    for nad in items:
        reason = _nad_default_route(nad)
        if reason:
            return False, reason
    return True, "no NAD installs a competing default route on net1"


def _nad_default_route(nad: Nad) -> str | None:
    if nad.config is None:
        return None
    for plugin in plugins_of(nad.config):
        raw = plugin.get("ipam")
        ipam = raw if isinstance(raw, dict) else {}
        if ipam.get("type") == "dhcp" and not int(ipam.get("priority") or 0):
            return (f"NAD {nad.ref} uses DHCP IPAM without a route priority, so the LAN router's option 3 "
                    "becomes a default route on net1")
        for route in ipam.get("routes") or []:
            if isinstance(route, dict) and route.get("dst") in ("0.0.0.0/0", "::/0"):
                return f"NAD {nad.ref} adds a static default route on net1"
    return None


def _routing_remedy(snap: Snapshot, network: Net, svc: list[Net]) -> str:
    info = k3s_info(snap)
    cidrs = ", ".join(f'{{"dst": "{s}"}}' for s in svc)
    s2 = (f"add the Service CIDR route to the flannel plugin entry of cni-conf.json: \"ipam\": {{\"routes\": [{cidrs}]}} "
          "(S2)")
    candidate = supernet([network, *svc]) if svc else network
    safe = not waste(candidate, [network, *svc]) and not _swallows_lan(snap, candidate)
    widen = (f"widen net-conf.json Network from {network} to {candidate} (S1; safe here: pod and Service CIDRs are "
             "aligned siblings)") if safe else ""
    steps = " or ".join(x for x in (widen, s2) if x)
    where = ("on k3s with embedded flannel pass the files with --flannel-conf/--flannel-cni-conf on every node and "
             "restart k3s" if info.is_k3s and not info.embedded_flannel_disabled else
             "`kubectl -n kube-flannel edit configmap kube-flannel-cfg`, then "
             "`kubectl -n kube-flannel rollout restart ds/kube-flannel-ds`")
    return (f"Either {steps}; {where}. Only pods created afterwards get the new routes. Alternatively give the NAD's "
            "dhcp IPAM \"priority\": 100 (CNI plugins v1.6.0+) so eth0's default route wins (S3).")


def _swallows_lan(snap: Snapshot, network: Net) -> bool:
    return bool(lan_overlaps(snap, network)[0])


@check("cidr.supernet-safety", "flannel's Network does not swallow a node's LAN subnet", Severity.HIGH)
def supernet_safety(snap: Snapshot) -> list[Finding]:
    """Pods route every destination inside flannel's Network via eth0 and flannel does not
    masquerade it, so a Network that reaches into the LAN breaks pod-to-LAN for every pod
    (flannel-k3s.md §6)."""
    cid = "cidr.supernet-safety"
    if err := need(snap, cid, "nodes", "configmaps", "pods"):
        return err
    net = flannel_network(snap)
    if ipv6_only(net):
        return [finding(cid, Status.SKIP, CLUSTER, f"flannel runs IPv6 only ({net.source} sets EnableIPv4 false): it has "
                        "no IPv4 Network that could swallow a LAN subnet; an IPv6Network overlapping the LAN's IPv6 "
                        "prefix is not judged.")]
    if net.value is None:
        return [finding(cid, Status.ERROR, CLUSTER, f"Could not evaluate: flannel's Network is unknown ({net.problem}).",
                        "Fix flannel's net-conf.json first (see flannel.network-contains-pod-cidrs).")]
    pods = [n for n in (try_net(c) for node in snap.kind("Node") for c in k8s.pod_cidrs(node)) if n and n.version == 4]
    svc = [s for s in service_cidrs(snap).value if s.version == 4]
    extra = waste(net.value, [*pods, *svc]) if pods else []
    hits, basis = lan_overlaps(snap, net.value)
    ev: dict[str, Any] = {"network": str(net.value), "checked_against": basis, "overlaps": hits,
          "unused_in_network": sum(n.num_addresses for n in extra)}
    if hits:
        return [finding(cid, Status.FAIL, CLUSTER,
                        f"flannel Network {net.value} overlaps the LAN ({'; '.join(hits[:3])}): pods route those addresses "
                        "via eth0 without masquerading, so pod-to-LAN traffic breaks cluster-wide.",
                        "Narrow Network back to the cluster CIDR and keep Service traffic on eth0 with flannel "
                        "ipam.routes instead (S2, see cidr.service-routing).", **ev)]
    return [finding(cid, Status.PASS, CLUSTER,
                    f"flannel Network {net.value} does not overlap any LAN subnet seen ({basis}).", **ev)]
