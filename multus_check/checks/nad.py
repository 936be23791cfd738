"""nad.*: the NetworkAttachmentDefinition CRD, each NAD's config, and its macvlan master
on every node (multus-cni.md §3, §6)."""

from __future__ import annotations

from typing import Any

from multus_check.checks.base import CLUSTER, finding, need, per_node
from multus_check.checks.registry import check
from multus_check.domain import k8s
from multus_check.domain.cluster import Nad, macvlan_masters, nads
from multus_check.domain.cniconf import KNOWN_IPAM_TYPES, KNOWN_PLUGIN_TYPES, MACVLAN_MODES, plugins_of
from multus_check.domain.node import default_route_iface, interfaces
from multus_check.model import Finding, Severity, Status
from multus_check.snapshot.model import NodeFacts, SectionState, Snapshot

CRD_MANIFEST = ("https://raw.githubusercontent.com/k8snetworkplumbingwg/multus-cni/v4.2.3/deployments/"
                "multus-daemonset.yml")
EXAMPLE_NAD = ('apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: {name: macvlan-lan, '
               'namespace: default}\nspec:\n  config: \'{"cniVersion": "0.3.1", "type": "macvlan", "master": "eth0", '
               '"mode": "bridge", "capabilities": {"mac": true}, "ipam": {"type": "dhcp"}}\'')


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


def _config_problems(nad: Nad) -> list[tuple[Status, str]]:
    if nad.config is None:
        return [(Status.FAIL, str(nad.problem))]
    out: list[tuple[Status, str]] = []
    plugins = plugins_of(nad.config)
    if not plugins or not all(isinstance(p.get("type"), str) and p.get("type") for p in plugins):
        return [(Status.FAIL, "a plugin entry has no \"type\"")]
    for p in plugins:
        ptype, ipam = str(p["type"]), p.get("ipam")
        if ptype not in KNOWN_PLUGIN_TYPES:
            out.append((Status.FAIL, f"unknown plugin type {ptype!r}"))
        if ptype == "macvlan" and str(p.get("mode", "")) not in MACVLAN_MODES:
            out.append((Status.FAIL, f"unknown macvlan mode {p.get('mode')!r} (`unknown macvlan mode`)"))
        if ptype in ("macvlan", "ipvlan", "bridge", "host-device", "vlan"):
            if not isinstance(ipam, dict):
                out.append((Status.FAIL, f"the {ptype} plugin has no \"ipam\" section"))
            elif not ipam:
                out.append((Status.WARN, f"the {ptype} plugin's ipam is empty: net1 comes up without an address"))
            elif ipam.get("type") not in KNOWN_IPAM_TYPES:
                out.append((Status.WARN, f"unknown IPAM type {ipam.get('type')!r}"))
    return out


@check("nad.config-valid", "each NAD's spec.config is valid JSON with a known plugin type and an IPAM section", Severity.HIGH, fix="nad-repair")
def nad_config_valid(snap: Snapshot) -> list[Finding]:
    """Multus parses `spec.config` at pod creation; invalid JSON fails with `failed to unmarshal
    Spec.Config`, an empty one with `No networks found in /etc/cni/multus/net.d`."""
    cid = "nad.config-valid"
    if err := need(snap, cid, "network-attachment-definitions"):
        return err
    items = nads(snap)
    if not items:
        return [finding(cid, Status.FAIL, CLUSTER, "No NetworkAttachmentDefinition exists, so no pod can get net1.",
                        "Create one with your LAN NIC as master, e.g. `kubectl apply -f -` with:\n" + EXAMPLE_NAD)]
    out = []
    for nad in items:
        problems = _config_problems(nad)
        subject = f"nad/{nad.ref}"
        ev: dict[str, Any] = {"config": k8s.spec(nad.obj).get("config")}
        if not problems:
            types = ", ".join(p.get("type", "?") for p in plugins_of(nad.config or {}))
            out.append(finding(cid, Status.PASS, subject, f"NAD {nad.ref} has a valid config ({types}).", **ev))
            continue
        status = Status.FAIL if any(s is Status.FAIL for s, _ in problems) else Status.WARN
        out.append(finding(cid, status, subject, f"NAD {nad.ref}: " + "; ".join(m for _, m in problems) + ".",
                           f"Fix spec.config with `kubectl -n {k8s.namespace(nad.obj)} edit "
                           f"network-attachment-definitions.k8s.cni.cncf.io {k8s.name(nad.obj)}`; a working example:\n"
                           + EXAMPLE_NAD, **ev))
    return out


@check("nad.master", "the macvlan master exists, is up and is not wireless, on every node", Severity.CRITICAL, fix="nad-repair")
def nad_master(snap: Snapshot) -> list[Finding]:
    """A missing master fails with a bare `Link not found`; a DOWN one or a Wi-Fi NIC only shows
    as `error calling DHCP.Allocate: no more tries` after a long wait."""
    cid = "nad.master"
    if err := need(snap, cid, "nodes", "network-attachment-definitions"):
        return err
    targets = [(nad, master) for nad in nads(snap) for master in macvlan_masters(nad)]
    if not targets:
        return [finding(cid, Status.SKIP, CLUSTER, "No valid macvlan NetworkAttachmentDefinition exists.")]
    out: list[Finding] = []
    for nad, master in targets:
        def judge(name: str, facts: NodeFacts, _node: dict[str, Any] | None, nad: Nad = nad,
                  master: str | None = master) -> Finding:
            return _judge_master(cid, name, facts, nad, master)

        out.extend(per_node(snap, cid, judge, only_pod_hosts=True))
    return out


def _judge_master(cid: str, name: str, facts: NodeFacts, nad: Nad, master: str | None) -> Finding:
    subject = f"node/{name} nad/{nad.ref}"
    links = interfaces(facts)
    via = ""
    if master is None:
        master = default_route_iface(facts)
        via = " (master omitted: the default-route interface)"
        if master is None:
            return finding(cid, Status.FAIL, subject, f"Node {name}: NAD {nad.ref} omits master and the node has no default "
                           "route (`no default route interface found`).", "Set \"master\" in the NAD to the LAN NIC.")
    ev: dict[str, Any] = {"master": master, "interfaces": sorted(links)}
    link = links.get(master)
    fix = ("Use one NAD per NIC name with a nodeSelector on the workloads, rename the NICs with a systemd .link file, or "
           "omit master so macvlan takes each node's default-route interface.")
    if link is None:
        return finding(cid, Status.FAIL, subject, f"Node {name} has no interface {master!r} for NAD {nad.ref}: pods there fail "
                       f"with `Link not found`. Interfaces: {', '.join(sorted(links))}.", fix, **ev)
    if not link.up:
        return finding(cid, Status.FAIL, subject, f"Node {name}: master {master} of NAD {nad.ref} is {link.operstate}; DHCP "
                       "then fails with `no more tries` after ~35 s.", f"`ip link set {master} up` on node {name}.", **ev)
    if link.wireless:
        return finding(cid, Status.FAIL, subject, f"Node {name}: master {master} of NAD {nad.ref} is a wireless NIC; most "
                       "Wi-Fi drivers drop frames for the extra macvlan MACs, so DHCP is never answered.",
                       "Use a wired NIC as master.", **ev)
    note = "" if link.wireless is False else " (whether it is wireless was not collected)"
    return finding(cid, Status.PASS, subject, f"Node {name}: master {master}{via} of NAD {nad.ref} is up{note}.", **ev)
