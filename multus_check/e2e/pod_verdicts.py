"""Judge the sample pods' observations: one finding per (e2e check, NAD on node). Pure.

Rules: the `network-status` annotation never proves an attachment alone (a failed ADD can
leave a stale one): attach needs the pod to have run and the probe inside it to see net1
with the annotated MAC. Layers after a failed attach are `skip` ("not reached"), never
`pass`; a probe that could not run is `error` (could not look), never `pass`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from multus_check.checks import e2e as ids
from multus_check.checks import ipv6 as ipv6_rule
from multus_check.checks import multicast
from multus_check.checks.base import finding
from multus_check.domain.known_failures import cause_text
from multus_check.e2e.sample_manifest import IFNAME, static_mac_annotation
from multus_check.model import Finding, Status

if TYPE_CHECKING:
    from multus_check.e2e.sample_pods import PodObservation

ROUTE_REMEDIATION = (
    "Keep Service traffic on eth0 (flannel-k3s.md §3.4): add the Service CIDR to the flannel CNI plugin's own "
    "`ipam.routes` (S2; on k3s via --flannel-cni-conf), or stop net1 from installing a competing default route: "
    "dhcp IPAM `\"priority\": 100` in the NAD (plugins >= v1.6.0), a DHCP server without option 3, or a chained "
    "route-override plugin with flushgateway (S3).")
SANDBOX_REMEDIATION = (
    "The text above is the CNI plugin's or Multus's own error (the full event is in the evidence; `kubectl describe "
    "pod` shows the same). Fix what it names on that node; if it is a Multus/CNI error, please report it so the "
    "catalog learns it.")
MAC_HINT = (
    "This holds only when the old pod is gone before the new one starts (Deployment `strategy: type: Recreate`): "
    "while it still runs on the same node, the new pod's net1 with the same MAC fails with `error calling "
    "DHCP.Allocate: address already in use` (catalog F41).")


@dataclass(frozen=True)
class Expectations:
    """What the pod's evidence is compared with (from the snapshot and the options)."""

    dns_ip: str | None
    api_ip: str | None
    #: per (NAD ref, node): the master NIC's IPv4 subnets, or why they are unknown
    lan_subnets: dict[tuple[str, str], list[ipaddress.IPv4Network]]
    lan_problems: dict[tuple[str, str], str]


def subject(obs: PodObservation) -> str:
    return f"nad/{obs.target.nad_ref} node/{obs.node or obs.target.node or '?'}"


def _net1_status(obs: PodObservation) -> dict[str, Any] | None:
    for entry in obs.network_status or []:
        if isinstance(entry, dict) and entry.get("interface") == IFNAME:
            return entry
    return None


def judge(observations: list[PodObservation], expect: Expectations) -> list[Finding]:
    out: list[Finding] = []
    attached: list[bool] = []
    for obs in observations:
        attach = judge_attach(obs)
        out.append(attach)
        reached = attach.status is Status.PASS
        attached.append(reached)
        ran = obs.output is not None
        why = f"Not reached: {ids.ATTACH} did not pass for {subject(obs)}."
        out.append(judge_lease(obs, expect) if reached else finding(ids.LEASE, Status.SKIP, subject(obs), why))
        out.append(judge_service_dns(obs, expect) if ran and obs.started else
                   finding(ids.SERVICE_DNS, Status.SKIP, subject(obs), why))
        for check_id, key in ((ids.MDNS, "mdns"), (ids.SSDP, "ssdp")):
            out.append(judge_multicast(obs, check_id, key) if reached else
                       finding(check_id, Status.SKIP, subject(obs), why))
        out += judge_ipv6(obs) if reached else [finding(cid, Status.SKIP, subject(obs), why) for cid in IPV6_IDS]
    for ref in dict.fromkeys(o.target.nad_ref for o in observations):
        pods = [(i, o, attached[i]) for i, o in enumerate(observations) if o.target.nad_ref == ref]
        out.append(judge_pod_multicast(ref, pods))
    return out


def judge_attach(obs: PodObservation) -> Finding:
    cid, subj, where = ids.ATTACH, subject(obs), f"Sample pod {obs.pod} (NAD {obs.target.nad_ref}"
    where += f", node {obs.node or obs.target.node or 'unscheduled'})"
    if obs.error:
        return finding(cid, Status.ERROR, subj, f"{where}: could not be run: {obs.error}.",
                       "Grant create/delete on pods and configmaps in the run's namespace (fixtures/rbac/), or "
                       "pass --no-e2e.")
    if not obs.started:
        return _not_started(obs, cid, subj, where)
    if obs.output is None:
        term = obs.terminated or {}
        return finding(cid, Status.ERROR, subj, f"{where} ran, but its probe result could not be read: "
                       f"{obs.output_problem or 'no output'}.",
                       "Use a --probe-image with python3 and scapy (fixtures/probe-image/Dockerfile builds one).",
                       exit_code=term.get("exitCode"), reason=term.get("reason"), phase=obs.phase)
    seen = (obs.output.get("interfaces") or {}).get(IFNAME) or {}
    status = _net1_status(obs)
    ev: dict[str, Any] = {"pod_net1": seen, "network_status_net1": status, "phase": obs.phase}
    if not seen.get("present"):
        stale = " The network-status annotation lists net1, but it is stale." if status else ""
        return finding(cid, Status.FAIL, subj, f"{where} runs without {IFNAME}: Multus did not attach the NAD.{stale}",
                       "If no Multus event or annotation exists, Multus was never called: check multus.conf-first "
                       "and the conf dir the runtime reads (multus-cni.md F18).", **ev)
    if status is None or not status.get("ips") or not status.get("mac"):
        return finding(cid, Status.FAIL, subj, f"{where} has {IFNAME}, but network-status lists no {IFNAME} with an IP "
                       "and a MAC.", "Check the Multus version and its kubeconfig (multus.kubeconfig).", **ev)
    if str(status["mac"]).lower() != str(seen.get("mac") or "").lower():
        return finding(cid, Status.FAIL, subj, f"{where}: network-status says {IFNAME} has MAC {status['mac']}, the pod "
                       f"sees {seen.get('mac')}: the annotation is stale (multus-cni.md §11).",
                       "Look for nested Multus delegates (multus.nested-delegates).", **ev)
    if not seen.get("ipv4"):
        return finding(cid, Status.FAIL, subj, f"{where}: {IFNAME} exists but has no IPv4 address inside the pod "
                       "(the DHCP lease was lost?).", "Check the DHCP daemon log on the node.", **ev)
    ns, name = obs.target.nad_ref.split("/", 1)
    keep = static_mac_annotation(ns, name, str(seen["mac"]))
    ev["keep_mac_annotation"] = keep
    return finding(cid, Status.PASS, subj,
                   f"{where} runs with {IFNAME} {seen['ipv4']}/{seen.get('prefixlen')} MAC {seen['mac']}, as "
                   f"network-status says. To keep this MAC (and its DHCP lease) across restarts, annotate the "
                   f"workload: k8s.v1.cni.cncf.io/networks: '{keep}'. {MAC_HINT}", **ev)


def _not_started(obs: PodObservation, cid: str, subj: str, where: str) -> Finding:
    cause, sandbox = obs.known_cause(), obs.sandbox_failure()
    ev: dict[str, Any] = {"phase": obs.phase, "waiting_reason": obs.waiting_reason, "seconds": round(obs.seconds, 1),
                          "events": obs.events[-5:]}
    if cause is not None:
        said = cause_text(cause["event_message"])
        return finding(cid, Status.FAIL, subj, f"{where} did not start: {cause['cause']} (catalog {cause['catalog']}, "
                       f"see {cause['related_check']}). {cause['event_reason']}: {said}", cause["fix"], **ev, **cause,
                       cause_text=said)
    if sandbox is not None:
        said = cause_text(sandbox["message"])
        return finding(cid, Status.FAIL, subj, f"{where} did not start: its pod sandbox failed, and the "
                       f"known-failures catalog does not know this message: {said}", SANDBOX_REMEDIATION, **ev,
                       event_reason=sandbox["reason"], event_message=sandbox["message"], cause_text=said)
    if obs.waiting_reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"):
        return finding(cid, Status.ERROR, subj, f"{where} could not pull its image ({obs.waiting_reason}: "
                       f"{obs.waiting_message}).", "Mirror the probe image and pass --probe-image "
                       "(fixtures/probe-image/Dockerfile).", **ev)
    detail = "; ".join(f"{e['reason']}: {cause_text(e['message'])}" for e in obs.events[-3:]) or "no Warning events"
    waited = "within the timeout" if obs.timed_out else "before the run ended"
    return finding(cid, Status.FAIL, subj, f"{where} did not start {waited} (phase {obs.phase}"
                   f"{', ' + obs.waiting_reason if obs.waiting_reason else ''}; {detail}).",
                   "Read `kubectl describe pod` events on that node; raise --e2e-timeout if the image pull is slow.",
                   **ev)


def judge_lease(obs: PodObservation, expect: Expectations) -> Finding:
    cid, subj = ids.LEASE, subject(obs)
    seen = ((obs.output or {}).get("interfaces") or {}).get(IFNAME) or {}
    ip = ipaddress.IPv4Address(str(seen["ipv4"]))
    node = obs.node or ""
    key = (obs.target.nad_ref, node)
    nets = expect.lan_subnets.get(key)
    if not nets:
        why = expect.lan_problems.get(key, f"no subnet is known for the master NIC on node {node}")
        return finding(cid, Status.ERROR, subj, f"Could not evaluate the lease {ip} of {obs.pod}: {why}.",
                       "Collect node facts (run without --no-node-facts) or pass --e2e-lan-subnet CIDR.", ip=str(ip))
    inside = [str(n) for n in nets if ip in n]
    ev: dict[str, Any] = {"ip": str(ip), "lan_subnets": [str(n) for n in nets]}
    if inside:
        return finding(cid, Status.PASS, subj, f"{IFNAME} of {obs.pod} got {ip}, inside the master NIC's subnet "
                       f"{inside[0]} on node {node}: a real lease from the LAN.", **ev)
    return finding(cid, Status.FAIL, subj, f"{IFNAME} of {obs.pod} got {ip}, outside the master NIC's subnet(s) "
                   f"{', '.join(ev['lan_subnets'])} on node {node}: the address did not come from that LAN.",
                   "Check which DHCP server answered (VLAN, master NIC) and the NAD's ipam section.", **ev)


def judge_service_dns(obs: PodObservation, expect: Expectations) -> Finding:
    cid, subj, out = ids.SERVICE_DNS, subject(obs), obs.output or {}
    routes = out.get("routes") or {}
    wrong, unknown = [], []
    for label, ip in (("cluster DNS", expect.dns_ip), ("kubernetes Service", expect.api_ip)):
        if not ip:
            continue
        choice = routes.get(ip)
        if not choice or not choice.get("dev"):
            unknown.append(f"{label} {ip}: {(choice or {}).get('error') or 'not reported by the probe'}")
        elif choice["dev"] != "eth0":
            via = (choice.get("route") or {}).get("gateway")
            wrong.append(f"{label} {ip} leaves via {choice['dev']}" + (f" (gateway {via})" if via else ""))
    dns = out.get("dns") or {}
    ev: dict[str, Any] = {"routes": routes, "dns": dns, "resolv_conf": out.get("resolv_conf")}
    if wrong:
        tail = f"; {dns.get('name')} does not resolve ({dns.get('error')})" if dns.get("error") else ""
        return finding(cid, Status.FAIL, subj, f"Inside {obs.pod}: " + "; ".join(wrong) + ", not eth0, so Service "
                       f"traffic bypasses kube-proxy{tail}.", ROUTE_REMEDIATION, **ev)
    if unknown:
        return finding(cid, Status.ERROR, subj, f"Could not evaluate routing inside {obs.pod}: " + "; ".join(unknown)
                       + ".", "Run with a probe image that has python3 (fixtures/probe-image/Dockerfile).", **ev)
    if not dns or dns.get("error"):
        return finding(cid, Status.FAIL, subj, f"Inside {obs.pod} Service IPs route via eth0, but "
                       f"{dns.get('name', 'the cluster name')} does not resolve ({dns.get('error', 'not tried')}).",
                       "Check CoreDNS (kube-system) and the pod's resolv.conf.", **ev)
    competing = _competing_ipv6_default(obs)
    if competing is not None:
        return finding(cid, Status.WARN, subj, competing, ipv6_rule.DEFRTR_PATCH, **ev)
    return finding(cid, Status.PASS, subj, f"Inside {obs.pod} the cluster DNS IP and the kubernetes Service IP route "
                   f"via eth0, and {dns.get('name')} resolves to {', '.join(dns.get('addresses') or [])}.", **ev)


def _competing_ipv6_default(obs: PodObservation) -> str | None:
    """The IPv6 twin of a net1 default route: one learned from an RA while eth0 has an IPv6 default too."""
    out = obs.output or {}
    net1 = ipv6_rule.ra_default_routes((out.get("multicast") or {}).get("ipv6"))
    eth0 = [r for r in out.get("eth0_ipv6_routes") or [] if r.get("dst") == "default"]
    if not net1 or not eth0:
        return None
    return (f"Inside {obs.pod} IPv4 Service traffic leaves via eth0, but {IFNAME} learned an IPv6 default route via "
            f"{net1[0].get('gateway')} from a router's RA (proto ra, net.ipv6.conf.{IFNAME}.accept_ra_defrtr=1) that "
            f"competes with eth0's IPv6 default route via {eth0[0].get('gateway')}: IPv6 Service and cluster traffic "
            "can leave via the LAN.")


IPV6_IDS = (ids.IPV6, ids.THREAD_ROUTES, ids.MATTER)


def judge_ipv6(obs: PodObservation) -> list[Finding]:
    """e2e.ipv6/thread-routes/matter, by the one IPv6 verdict (checks/ipv6.py) the node path uses too."""
    subj, mc = subject(obs), (obs.output or {}).get("multicast") or {}
    if mc.get("error") or not isinstance(mc.get("ipv6"), dict):
        why = mc.get("error") or "no IPv6 result (a probe image older than this multus-check?)"
        return [finding(cid, Status.ERROR, subj, f"The IPv6 probe in {obs.pod} could not run: {why}.",
                        "Use a --probe-image with python3 and scapy (fixtures/probe-image/Dockerfile).")
                for cid in IPV6_IDS]
    verdicts = ipv6_rule.judge(mc["ipv6"], IFNAME, mc.get("mdns"), IPV6_IDS)
    return [finding(cid, v.status, subj, f"Inside {obs.pod}: {v.message}", v.remediation, **v.evidence)
            for cid, v in verdicts.items()]


def judge_multicast(obs: PodObservation, check_id: str, key: str) -> Finding:
    """e2e.mdns / e2e.ssdp, by the one multicast verdict (checks/multicast.py) the node path uses too."""
    subj, mc = subject(obs), (obs.output or {}).get("multicast") or {}
    what = "mDNS" if key == "mdns" else "SSDP"
    if mc.get("error") or key not in mc:
        return finding(check_id, Status.ERROR, subj, f"The {what} probe in {obs.pod} could not run: "
                       f"{mc.get('error') or 'no result'}.", "Use a --probe-image with python3 and scapy "
                       "(fixtures/probe-image/Dockerfile).")
    res = mc[key]
    ev = {k: res.get(k) for k in ("outcome", "sent", "answered", "first_answer_ms", "responders", "errors")}
    if key == "mdns":
        ev.update(service_types=res.get("service_types"), services=res.get("services"))
        verdict = multicast.mdns_verdict(res)
    else:
        ev.update(devices=res.get("devices"))
        verdict = multicast.ssdp_verdict(res, multicast.answered(mc.get("mdns")))
    if verdict.reason == multicast.SEND_ERROR:
        return finding(check_id, verdict.status, subj, f"{what} from {obs.pod}'s {IFNAME} could not be sent: "
                       f"{'; '.join(res.get('errors') or [])}.", "The probe needs CAP_NET_RAW in the pod.", **ev)
    if verdict.reason in (multicast.ANSWERED, multicast.LOSSY):
        return _answered(obs, check_id, key, what, verdict, res, ev)
    ip = (obs.output or {}).get("interfaces", {}).get(IFNAME, {}).get("ipv4")
    if verdict.reason == multicast.QUIET:
        return finding(check_id, verdict.status, subj, f"No {what} answer reached {obs.pod}'s {IFNAME} {ip} although "
                       "mDNS works there: maybe no UPnP/DLNA device is on this LAN.",
                       "Check that an SSDP device is on the LAN.", **ev)
    unicast = verdict.reason == multicast.UNICAST_ONLY
    cause = (" A legacy-unicast query was answered, so the responders are reachable but multicast towards the "
             "node is dropped (switch/AP IGMP snooping, or the hypervisor).") if unicast else ""
    return finding(check_id, verdict.status, subj, f"No {what} answer reached {obs.pod}'s {IFNAME} {ip}.{cause}",
                   "Check that multicast reaches the node's master NIC (switch/AP multicast filtering, "
                   "promiscuous mode / MAC spoofing on a VM).", **ev, unicast_answered=unicast)


def _answered(obs: PodObservation, check_id: str, key: str, what: str, verdict: multicast.Verdict,
              res: dict[str, Any], ev: dict[str, Any]) -> Finding:
    found = (", ".join(t.rstrip(".") for t in res.get("service_types") or []) if key == "mdns" else
             ", ".join(str(d.get("server") or d.get("usn")) for d in res.get("devices") or []))
    loss = f" ({res.get('answered')}/{res.get('sent')} queries answered)" if verdict.reason == multicast.LOSSY else ""
    return finding(check_id, verdict.status, subject(obs), f"{what} from {obs.pod}'s {IFNAME} answered by "
                   f"{', '.join(res.get('responders') or [])} in {res.get('first_answer_ms')} ms{loss}; found: "
                   f"{found or 'no named services'}.",
                   "Some queries went unanswered: multicast is lossy on this LAN (Wi-Fi, IGMP snooping).", **ev)


#: a pair whose beacon windows overlapped less than this was not measured (4 beacons at 0.5 s)
MIN_OVERLAP_S = 2.0
CELL = {"heard": "yes", "missed": "NO", "not measured": "?", "error": "err", "ipv6 off": "off"}
POD_MULTICAST_REMEDIATION = (
    "Multicast between the nodes' LAN NICs is filtered: check IGMP snooping / multicast filtering on the switch or "
    "access point between the nodes (an IGMP querier on the LAN, or snooping off), promiscuous mode / forged "
    "transmits / MAC spoofing on a hypervisor, and the NAD's macvlan mode (private and vepa stop pods that share a "
    "master from hearing each other).")


def judge_pod_multicast(ref: str, pods: list[tuple[int, PodObservation, bool]]) -> Finding:
    """One finding per NAD: can the sample pods on different nodes hear each other's multicast?
    `pods` holds (index, observation, attach passed) of this NAD's sample pods."""
    cid, subj = ids.POD_MULTICAST, f"nad/{ref}"
    nodes = sorted({o.node or o.target.node or "?" for _, o, _ in pods})
    if len(nodes) < 2:
        return finding(cid, Status.SKIP, subj, f"Needs sample pods on at least two nodes; this run placed one on "
                       f"{', '.join(nodes)} (run with --all-nodes on a cluster with two or more nodes).")
    reached = [(i, o) for i, o, ok in pods if ok and isinstance((o.output or {}).get("peers"), dict)]
    reached_ids = {i for i, _ in reached}
    unreached = sorted({_node(o) for i, o, _ in pods if i not in reached_ids})
    if len(reached) < 2:
        return finding(cid, Status.SKIP, subj, f"Not reached: fewer than two sample pods of NAD {ref} attached "
                       f"({ids.ATTACH} did not pass on {', '.join(unreached)}).", unreached=unreached)
    matrix, matrix6 = _matrix(reached, "peers"), _ipv6_off(_matrix(reached, "peers6"), reached)
    cells = [c for m in (matrix, matrix6) for row in m.values() for c in row.values() if c != "ipv6 off"]
    ev: dict[str, Any] = {"matrix": matrix, "matrix_ipv6": matrix6, "unreached": unreached}
    table = f"  IPv4, 224.0.0.251:\n{_matrix_text(matrix)}\n  IPv6, ff02::fb:\n{_matrix_text(matrix6)}"
    off = sorted(_node(o) for _, o in reached if _v6_off(o))
    tail = (f" Not reached: {', '.join(unreached)}." if unreached else "") + (
        f" IPv6 is off on net1 on {', '.join(off)} (see {ids.IPV6}): its IPv6 pairs are not judged." if off else "")
    missed = [f"{s} -> {r}{label}" for m, label in ((matrix, ""), (matrix6, " (IPv6)"))
              for s, row in m.items() for r, c in row.items() if c == "missed"]
    if missed:
        return finding(cid, Status.FAIL, subj, f"Multicast on net1 of NAD {ref} does not get from pod to pod across "
                       f"nodes: {', '.join(missed)} never heard (rows send, columns receive):\n{table}{tail}",
                       POD_MULTICAST_REMEDIATION, **ev)
    if all(c == "heard" for c in cells):
        return finding(cid, Status.PASS, subj, f"Sample pods of NAD {ref} on {len(reached)} nodes hear each other's "
                       f"mDNS multicast on net1, IPv4 and IPv6 (rows send, columns receive):\n{table}{tail}", **ev)
    return finding(cid, Status.ERROR, subj, f"Could not measure multicast between every pair of sample pods of NAD "
                   f"{ref} (? = their listening windows did not overlap, err = the pod's beacon failed):\n{table}{tail}",
                   "Raise --e2e-peer-window when the sample pods start far apart (slow image pulls), or pre-pull "
                   "the probe image.", **ev)


def _v6_off(obs: PodObservation) -> bool:
    """net1 has IPv6 disabled (or no IPv6 at all): e2e.ipv6 fails on it; no IPv6 beacon can be measured."""
    sysctls = ((((obs.output or {}).get("multicast") or {}).get("ipv6") or {}).get("sysctls"))
    return isinstance(sysctls, dict) and sysctls.get("disable_ipv6") in (1, None)


def _ipv6_off(matrix6: dict[str, dict[str, str]], reached: list[tuple[int, PodObservation]]) -> dict[str, dict[str, str]]:
    """Mark the IPv6 pairs with a pod whose net1 has no IPv6 as `ipv6 off` (not an error of the measurement)."""
    off = {_node(o) for _, o in reached if _v6_off(o)}
    return {s: {r: "ipv6 off" if (s in off or r in off) and c != "heard" else c for r, c in row.items()}
            for s, row in matrix6.items()}


def _node(obs: PodObservation) -> str:
    return obs.node or obs.target.node or obs.pod


def _matrix(reached: list[tuple[int, PodObservation]], key: str) -> dict[str, dict[str, str]]:
    """Sender by receiver for the beacons under `key` (peers: IPv4, peers6: IPv6)."""
    return {_node(s): {_node(r): _pair(s, r, key) for _, r in reached if r is not s} for _, s in reached}


def _pair(sender: PodObservation, receiver: PodObservation, key: str = "peers") -> str:
    s, r = (sender.output or {}).get(key), (receiver.output or {}).get(key)
    if not isinstance(s, dict) or not isinstance(r, dict):
        return "not measured"  # a probe that predates IPv6 beacons
    if r.get("error") and not r.get("heard"):
        return "error"
    if str(s.get("index")) in (r.get("heard") or {}):
        return "heard"
    if s.get("error") or not s.get("sent"):
        return "error"
    try:
        overlap = min(float(s["ended"]), float(r["ended"])) - max(float(s["started"]), float(r["started"]))
    except (KeyError, TypeError, ValueError):
        return "not measured"
    return "missed" if overlap >= MIN_OVERLAP_S else "not measured"


def _matrix_text(matrix: dict[str, dict[str, str]]) -> str:
    names = list(matrix)
    width = max(len(n) for n in names)
    lines = ["  " + " " * width + "  " + "  ".join(n.rjust(max(len(n), 3)) for n in names)]
    for s in names:
        cells = [("-" if r == s else CELL[matrix[s].get(r, "not measured")]).rjust(max(len(r), 3)) for r in names]
        lines.append("  " + s.ljust(width) + "  " + "  ".join(cells))
    return "\n".join(lines)
