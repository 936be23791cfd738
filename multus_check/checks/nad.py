"""nad.*: the NetworkAttachmentDefinition CRD, each NAD's config, and the host links its plugins
use on every node (multus-cni.md §3, §6).

The verdicts follow the plugins' own rules (domain/nadrules.py, domain/nodelinks.py): a NAD
fails only when Multus or the real plugin would refuse it, or when the plugin accepts it but no
frame can pass (a DOWN master, a Wi-Fi macvlan master). tests/corpus/ proves it against Debian's
plugin binaries.
"""

from __future__ import annotations

import json
from typing import Any

from multus_check.checks.base import CLUSTER, finding, need, per_node
from multus_check.checks.spec import check
from multus_check.domain import k8s
from multus_check.domain.cluster import Nad, nads
from multus_check.domain.confdir import Lookup, find_for_node, nad_config, spec_is_empty
from multus_check.domain.ipamrules import Problem
from multus_check.domain.ipv6rules import key, readiness, ready_config
from multus_check.domain.nadrules import binaries, config_problems, link_needs
from multus_check.domain.node import default_route_iface, interfaces
from multus_check.domain.nodelinks import LinkVerdict, judge_need
from multus_check.domain.refplugins import REFERENCE_PLUGINS
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot.data import NodeFacts, SectionState, Snapshot

CRD_MANIFEST = ("https://raw.githubusercontent.com/k8snetworkplumbingwg/multus-cni/v4.2.3/deployments/"
                "multus-daemonset.yml")
EXAMPLE_NAD = ('apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: {name: macvlan-lan, '
               'namespace: default}\nspec:\n  config: \'{"cniVersion": "0.3.1", "name": "macvlan-lan", "plugins": '
               '[{"type": "macvlan", "master": "eth0", "mode": "bridge", "capabilities": {"mac": true}, "ipam": {"type": '
               '"dhcp"}}, {"type": "tuning", "sysctl": {"net.ipv6.conf.IFNAME.accept_ra": "1", '
               '"net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"}}]}\'')


@check("nad.crd", "the NetworkAttachmentDefinition CRD is installed", Severity.CRITICAL, fix="install-multus")
def nad_crd(snap: Snapshot) -> list[Finding]:
    """Without network-attachment-definitions.k8s.cni.cncf.io no NAD can exist."""
    cid = "nad.crd"
    crd_section = snap.resource_section("customresourcedefinitions")
    crd = snap.get("CustomResourceDefinition", None, k8s.NAD_CRD_NAME) if crd_section.state.readable else None
    nad_section = snap.resource_section("network-attachment-definitions")
    if crd is not None:
        return [finding(cid, Status.PASS, f"crd/{k8s.NAD_CRD_NAME}", "The NetworkAttachmentDefinition CRD is installed.")]
    if nad_section.state is SectionState.UNSUPPORTED:
        return [finding(cid, Status.FAIL, CLUSTER, "The NetworkAttachmentDefinition CRD is missing: the API has no "
                        "network-attachment-definitions.k8s.cni.cncf.io resource.",
                        f"Install it with Multus: `kubectl apply -f {CRD_MANIFEST}` (it carries the CRD).")]
    if nad_section.state is SectionState.OK:
        return [finding(cid, Status.PASS, CLUSTER, "The NetworkAttachmentDefinition API answered, so its CRD is installed.")]
    if crd_section.state is SectionState.OK:
        return [finding(cid, Status.FAIL, CLUSTER, f"The CRD {k8s.NAD_CRD_NAME} is not among the cluster's CRDs.",
                        f"`kubectl apply -f {CRD_MANIFEST}`.")]
    return need(snap, cid, "network-attachment-definitions") or []


def _config_finding(cid: str, nad: Nad, problems: list[Problem], where: str, **ev: Any) -> Finding:
    subject = f"nad/{nad.ref}"
    fails = [p.message for p in problems if p.level == "fail"]
    warns = [p.message for p in problems if p.level == "warn"]
    if not fails and not warns:
        conf = ev.get("resolved") or nad.config or {}
        types = binaries(conf)
        other = [t for t in types if t not in REFERENCE_PLUGINS and t != "whereabouts"]
        note = f"; {', '.join(other)} is not a reference plugin, so only its JSON shape was checked" if other else ""
        return finding(cid, Status.PASS, subject, f"NAD {nad.ref} has a valid config{where} ({', '.join(types)}){note}.",
                       **ev)
    status = Status.FAIL if fails else Status.WARN
    return finding(cid, status, subject, f"NAD {nad.ref}{where}: " + "; ".join(fails + warns) + ".",
                   f"Fix spec.config with `kubectl -n {k8s.namespace(nad.obj)} edit "
                   f"network-attachment-definitions.k8s.cni.cncf.io {k8s.name(nad.obj)}`; a working example:\n"
                   + EXAMPLE_NAD, **ev)


@check("nad.config-valid", "each NAD's config is one Multus and its CNI plugins accept", Severity.HIGH, fix="nad-repair")
def nad_config_valid(snap: Snapshot) -> list[Finding]:
    """Multus parses `spec.config` at pod creation and the plugin then checks its own keys: invalid
    JSON fails with `failed to unmarshal Spec.Config`, a macvlan mode in the wrong case with
    `unknown macvlan mode`, a cniVersion no plugin knows with `incompatible CNI versions`, a vlan
    without master with `"master" field is required`, a static address without prefix length,
    a host-local range outside its subnet. `ipam` is optional for macvlan, bridge and host-device
    (an L2-only attachment), required for ipvlan and vlan. A NAD without spec.config is valid when
    Multus's confDir (/etc/cni/multus/net.d) holds a network of that name on every node. Keys are
    read as the plugins' Go code reads them: in any capitalisation (`"Master"` is the master), the
    lower-case spelling winning when several are given (libcni hands the plugin its keys sorted)."""
    cid = "nad.config-valid"
    if err := need(snap, cid, "network-attachment-definitions"):
        return err
    items = nads(snap)
    if not items:
        return [finding(cid, Status.FAIL, CLUSTER, "No NetworkAttachmentDefinition exists, so no pod can get net1.",
                        "Create one with your LAN NIC as master, e.g. `kubectl apply -f -` with:\n" + EXAMPLE_NAD)]
    out = []
    for nad in items:
        ev: dict[str, Any] = {"config": k8s.spec(nad.obj).get("config")}
        if spec_is_empty(nad):
            out.append(_config_from_conf_dir(snap, cid, nad))
        elif nad.config is None:
            out.append(_config_finding(cid, nad, [Problem("fail", str(nad.problem))], "", **ev))
        else:
            out.append(_config_finding(cid, nad, config_problems(nad.config), "", **ev))
    return out


def _pod_hosts(snap: Snapshot) -> list[str]:
    return [n for n in snap.node_names() if k8s.can_host_pods(snap.get("Node", None, n) or {})]


def _config_from_conf_dir(snap: Snapshot, cid: str, nad: Nad) -> Finding:
    """A NAD without spec.config: Multus loads the network of the NAD's name from its confDir, per node."""
    found: dict[str, Lookup] = {}
    unknown: list[str] = []
    for name in _pod_hosts(snap):
        facts = snap.nodes.get(name)
        if facts is None or not snap.node_section(name).state.readable:
            unknown.append(f"{name} (no node facts)")
            continue
        result = find_for_node(snap, nad, facts)
        if result.not_collected:
            unknown.append(f"{name} ({result.not_collected})")
        else:
            found[name] = result
    missing = {n: r for n, r in found.items() if r.config is None}
    ev: dict[str, Any] = {"config": None, "nodes": {n: r.file or r.problem for n, r in found.items()},
                          "not_collected": unknown}
    where = " (no spec.config: Multus loads it from its confDir)"
    if missing:
        detail = "; ".join(f"node {n}: {_quoted(str(r.problem))}" for n, r in sorted(missing.items()))
        return finding(cid, Status.FAIL, f"nad/{nad.ref}", f"NAD {nad.ref} has no spec.config and Multus finds no "
                       f"network named {k8s.name(nad.obj)!r} in its confDir: {detail}.",
                       f"Put the CNI config in spec.config, or a file whose \"name\" is {k8s.name(nad.obj)!r} into "
                       f"{next(iter(missing.values())).conf_dir} on every node.", **ev)
    problems = [p for r in found.values() for p in config_problems(r.config or {})]
    if unknown:
        problems.append(Problem("warn", "Multus's confDir was not collected on " + ", ".join(unknown)))
    if not found and not unknown:
        problems.append(Problem("warn", "no node can host pods, so no confDir was looked at"))
    resolved = next((r.config for r in found.values() if r.config), None)
    return _config_finding(cid, nad, _unique(problems), where, resolved=resolved, **ev)


def _quoted(problem: str) -> str:
    return problem if "`" in problem else f"`{problem}`"


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


REMEDIATION = {
    "missing": "Use one NAD per NIC name with a nodeSelector on the workloads, rename the NICs with a systemd .link "
               "file, or omit master so macvlan takes each node's default-route interface.",
    "no-default-route": "Set \"master\" in the NAD to the LAN NIC.",
    "down": "`ip link set {link} up` on the node (and check its cable or its VM's virtual NIC).",
    "wireless": "Use a wired NIC as master (or ipvlan, which shares the NIC's MAC).",
    "mtu": "Lower or drop \"mtu\" in the NAD: it may not exceed the master's MTU.",
    "device-missing": "Name a device every node has, or restrict the workloads to the nodes that have it.",
    "device-netns-local": "Name a physical NIC (or a VF) for host-device; for a bridge or bond use macvlan or bridge "
                          "with it as master instead.",
    "not-bridge": "Name a bridge (\"bridge\") that is not an existing NIC, e.g. br-lan, and enslave the NIC to it.",
}


@check("nad.master", "the host links the NADs use (macvlan/ipvlan/vlan master, host-device, bridge) exist and are up on every node",
       Severity.CRITICAL, fix="nad-repair")
def nad_master(snap: Snapshot) -> list[Finding]:
    """A missing macvlan master fails with a bare `Link not found` (ipvlan: `failed to lookup
    master`), an `mtu` above the master's with `invalid MTU`, a missing host-device with `failed
    to find host device`. A DOWN master or a Wi-Fi macvlan master is accepted by the plugin but
    passes no frame: DHCP then fails with `error calling DHCP.Allocate: no more tries`."""
    cid = "nad.master"
    if err := need(snap, cid, "nodes", "network-attachment-definitions"):
        return err
    targets = [nad for nad in nads(snap) if spec_is_empty(nad) or (nad.config and link_needs(nad.config))]
    if not targets:
        return [finding(cid, Status.SKIP, CLUSTER, "No NAD uses a host link (macvlan, ipvlan, vlan, host-device, bridge).")]
    out: list[Finding] = []
    for nad in targets:
        def judge(name: str, facts: NodeFacts, _node: dict[str, Any] | None, nad: Nad = nad) -> Finding:
            return _judge_links(snap, cid, name, facts, nad)

        out.extend(per_node(snap, cid, judge, only_pod_hosts=True))
    return out


def _judge_links(snap: Snapshot, cid: str, name: str, facts: NodeFacts, nad: Nad) -> Finding:
    subject = f"node/{name} nad/{nad.ref}"
    config, _ = nad_config(snap, nad, facts)
    needs = link_needs(config or {})
    if not needs:
        why = "its config is not usable here (see nad.config-valid)" if config is None else "it uses no host link"
        return finding(cid, Status.SKIP, subject, f"Node {name}: NAD {nad.ref} is not judged: {why}.")
    links = interfaces(facts)
    default = default_route_iface(facts)
    verdicts = [judge_need(n, links, default) for n in needs]
    ev: dict[str, Any] = {"needs": [f"{n.plugin} {n.role} {n.name or '(default route)'}" for n in needs],
                          "interfaces": sorted(links), "default_route_interface": default}
    worst = max(verdicts, key=lambda v: ("pass", "warn", "fail").index(v.level))
    masters = [v.link for n, v in zip(needs, verdicts, strict=True) if n.role == "master" and v.link]
    shown = worst.link if worst.level != "pass" and worst.link else next(iter(masters), worst.link)
    if shown:
        ev["master"] = shown
    text = "; ".join(v.message for v in verdicts)
    if worst.level == "pass":
        return finding(cid, Status.PASS, subject, f"Node {name}, NAD {nad.ref}: {text}.", **ev)
    fix = _remediation(worst, name, links)
    status = Status.FAIL if worst.level == "fail" else Status.WARN
    return finding(cid, status, subject, f"Node {name}, NAD {nad.ref}: {text}.", fix, **ev)


def _remediation(verdict: LinkVerdict, node: str, links: dict[str, Any]) -> str:
    text = REMEDIATION.get(verdict.kind, "See the message.").format(link=verdict.link or "")
    return f"On node {node}: {text} Interfaces there: {', '.join(sorted(links))}."


IPV6 = "nad.ipv6-ready"


@check(IPV6, "each LAN NAD's chain lets net1 take the Thread border routers' IPv6 routes (tuning: accept_ra, "
       "accept_ra_rt_info_max_plen 64, IPv6 on)", Severity.MEDIUM, fix="nad-ipv6-ready")
def nad_ipv6_ready(snap: Snapshot) -> list[Finding]:
    """Matter is IPv6 only, and Thread devices sit behind border routers that announce the mesh
    prefix as a Route Information Option in their RAs. A pod's net1 lives in a fresh namespace where
    `net.ipv6.conf.net1.accept_ra_rt_info_max_plen` is 0, so that route is ignored while SLAAC works:
    Wi-Fi/Ethernet Matter devices answer, Thread ones never do (matter-thread-ipv6.md). Only a
    `tuning` plugin chained after the interface plugin (macvlan, ipvlan l2, vlan, bridge,
    host-device) can set it in the pod: `net.ipv6.conf.IFNAME.accept_ra` 1 (2 when forwarding is on)
    and `net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen` 64 (any value >= 64 takes a /64), with
    `disable_ipv6` not 1. Keys naming Multus's interface (`net1`) count like IFNAME; `all` counts
    only for disable_ipv6 and forwarding. Keys are read as the binaries read them: `"Type"`,
    `"Sysctl"` in any capitalisation; a tuning whose sysctl values are not all strings (`64`, not
    `"64"`) is refused by the binary, so it is `skip` here and fails nad.config-valid. Values are read
    as the kernel reads them: `"064"` is octal, 52. `warn`, not
    `fail`: a setup without Thread devices works
    without it. The remediation is the exact conflist to write; pods must be recreated to get it.
    A NAD without spec.config (confDir) or with an unusable one is `skip`, never `pass`."""
    if err := need(snap, IPV6, "network-attachment-definitions"):
        return err
    items = nads(snap)
    if not items:
        return [finding(IPV6, Status.SKIP, CLUSTER, "No NAD exists to judge (see nad.config-valid).")]
    return [_ipv6_finding(nad) for nad in items]


def _ipv6_finding(nad: Nad) -> Finding:
    subject = f"nad/{nad.ref}"
    if nad.config is None:
        why = ("it has no spec.config (Multus reads the network from its confDir on each node, which this check does "
               "not judge)" if spec_is_empty(nad) else "its spec.config cannot be used (see nad.config-valid)")
        return finding(IPV6, Status.SKIP, subject, f"NAD {nad.ref} is not judged for IPv6: {why}.")
    verdict = readiness(nad.config)
    ev: dict[str, Any] = {"sysctls": {s.written: s.value for s in verdict.settings.values()}}
    if verdict.skip:
        return finding(IPV6, Status.SKIP, subject, f"NAD {nad.ref} is not judged for IPv6: {verdict.skip}.", **ev)
    if verdict.ready:
        shown = ", ".join(f"{s.written}={s.value}" for s in verdict.settings.values())
        literal = sorted({s.written for s in verdict.settings.values() if ".IFNAME." not in s.written
                          and "/IFNAME/" not in s.written and ".all." not in s.written and "/all/" not in s.written})
        caveat = (f" Key(s) {', '.join(literal)} name the interface literally: right while pods attach this NAD under "
                  "that name; IFNAME (tuning replaces it with the pod's interface name) suits any position."
                  if literal else "")
        return finding(IPV6, Status.PASS, subject, f"NAD {nad.ref} ({verdict.main}) sets {shown} through tuning: net1 "
                       "accepts RAs and the Thread border routers' /64 routes." + caveat, **ev)
    patched, _ = ready_config(nad.config, verdict)
    ev["wanted"] = verdict.wanted
    return finding(IPV6, Status.WARN, subject,
                   f"NAD {nad.ref} ({verdict.main}): " + "; ".join(verdict.problems) + ". Matter over Thread will not "
                   "work from pods using it (Wi-Fi/Ethernet Matter devices are unaffected).",
                   f"Set {', '.join(f'{key(n)}={v}' for n, v in verdict.wanted.items())} with a tuning plugin: "
                   f"`kubectl -n {k8s.namespace(nad.obj)} edit network-attachment-definitions.k8s.cni.cncf.io "
                   f"{k8s.name(nad.obj)}` (or `multus-check --fix`) and make spec.config:\n"
                   + json.dumps(patched, indent=2) + "\nPods already using it keep their net1 until they are recreated. Every "
                   "node needs the tuning plugin in Multus's CNI bin dir (k3s does not ship it).",
                   **ev)
