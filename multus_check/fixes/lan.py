"""lan-manual: what only a person can change on the LAN side, printed as manual steps with exact commands.

A macvlan pod's frames leave through the node's NIC with a MAC the LAN has never seen, so
the Wi-Fi driver, the hypervisor's virtual switch and the physical switch or access point
must all let them through. multus-check cannot change any of those, so this plan only prints what to
do. It is planned when failing findings carry evidence that the fault lies there (by evidence
fields and node facts, never by message text):

- `nad.master` fails and the node facts say the master is a wireless NIC ("macvlan generally does
  not work on wifi interfaces", multus-cni.md §6 pitfall 2), and nad-repair has no wired NIC to
  move the NAD to;
- a sandbox event or a sample pod matched catalog F8 (`evidence.catalog`): no DHCP offer, the
  typical sign of a hypervisor that drops frames for or from foreign MACs (§4 F8, §6 pitfall 3);
- mDNS got no multicast answer while a legacy-unicast query was answered (`e2e.mdns`
  `unicast_answered`, `datapath.mdns` `legacy_unicast`): multicast towards the node is dropped by
  IGMP snooping or multicast filtering on the switch or access point (netns-lab.md §4 d3, §5.12).

The plan has no changes: nothing is applied, journaled or verified. No check names it as its
`fix`, so a finding's JSON `fix` stays the automatic repair of its own check; the plan is reached
through `advises` instead.
"""

from __future__ import annotations

import json
import re

from multus_check.domain.cluster import macvlan_masters, nads
from multus_check.domain.node import NotCollected, interfaces
from multus_check.fixes.nad import choose_master
from multus_check.fixes.plan import Fix, ManualStep, Plan, PlanContext
from multus_check.model import Finding, Status
from multus_check.snapshot.data import Snapshot

MASTER = "nad.master"
E2E_MDNS = "e2e.mdns"
DATAPATH_MDNS = "datapath.mdns"
_NODE = re.compile(r"(?:^|\s)node/(\S+)")
_NAD = re.compile(r"(?:^|\s)nad/([^/\s]+)/(\S+)")


def _node_of(f: Finding) -> str | None:
    m = _NODE.search(f.subject)
    return m.group(1) if m else None


def wireless_masters(snap: Snapshot, findings: list[Finding]) -> list[tuple[str, str, str | None]]:
    """(node, master, NAD ref) of failing nad.master findings whose master the node facts call wireless."""
    out: set[tuple[str, str, str | None]] = set()
    for f in findings:
        if f.check != MASTER or f.status is not Status.FAIL or not isinstance(f.evidence.get("master"), str):
            continue
        node, master = _node_of(f), str(f.evidence["master"])
        facts = snap.nodes.get(node or "")
        if node is None or facts is None:
            continue
        try:
            link = interfaces(facts).get(master)
        except NotCollected:
            continue
        if link is not None and link.wireless is True:
            nad = _NAD.search(f.subject)
            out.add((node, master, f"{nad.group(1)}/{nad.group(2)}" if nad else None))
    return sorted(out, key=lambda t: (t[0], t[1], t[2] or ""))


def no_dhcp_offer(findings: list[Finding]) -> list[Finding]:
    """Failing findings whose evidence names catalog entry F8 (no DHCP server answered)."""
    return [f for f in findings if f.status is Status.FAIL and f.evidence.get("catalog") == "F8"]


def multicast_dropped(findings: list[Finding]) -> list[Finding]:
    """mDNS failures where unicast to the same responders worked, so multicast alone is dropped."""
    return [f for f in findings if f.status is Status.FAIL and (
        (f.check == E2E_MDNS and f.evidence.get("unicast_answered") is True)
        or (f.check == DATAPATH_MDNS and f.evidence.get("legacy_unicast") == "answered"))]


def _masters(snap: Snapshot) -> list[str]:
    return sorted({m for nad in nads(snap) for m in macvlan_masters(nad) if m})


def _nodes_text(findings: list[Finding]) -> str:
    nodes = sorted({n for f in findings if (n := _node_of(f))})
    return f" (nodes: {', '.join(nodes)})" if nodes else ""


def wifi_step(found: list[tuple[str, str, str | None]]) -> ManualStep:
    where = "; ".join(f"node {n}: {m}" for n, m, _ in found)
    master = found[0][1]
    ns, _, name = (found[0][2] or "default/macvlan-lan").partition("/")
    config = json.dumps({"cniVersion": "0.3.1", "type": "ipvlan", "master": master, "mode": "l2",
                         "ipam": {"type": "dhcp"}})
    commands = (
        f"# either: give the node(s) a wired NIC ({where} is wireless), bring it up, then let nad-repair use it:",
        "ip -br addr    # on the node: a wired NIC that is UP and has a LAN address",
        "multus-check --fix    # nad-repair moves the NAD to the NIC that is up, wired and on every node",
        "# or: an ipvlan L2 NAD on the same NIC (pods share its MAC, which the access point accepts):",
        f"kubectl apply -f - <<'EOF'\napiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\n"
        f"metadata: {{name: {name}-ipvlan, namespace: {ns}}}\nspec:\n  config: '{config}'\nEOF",
        f"# then point the workloads' k8s.v1.cni.cncf.io/networks annotation at {ns}/{name}-ipvlan",
    )
    return ManualStep(
        "use a wired NIC as macvlan master, or ipvlan L2 on the Wi-Fi NIC",
        f"{where} is a wireless NIC: most Wi-Fi drivers and access points drop frames for the extra macvlan MACs, so "
        "DHCP is never answered (multus-cni.md §6 pitfall 2, F8), and no NIC is up, wired and present on every node "
        "for nad-repair to switch to. ipvlan reuses the master's MAC instead: a per-pod `mac` has no effect, the DHCP "
        "server tells the pods apart by client id only, and one master cannot carry macvlan and ipvlan pods at once "
        "(pitfall 5), so move the macvlan pods off it first. Or keep the Multus workloads off that node with a "
        "nodeSelector.", commands)


def hypervisor_step(evidence: list[Finding], masters: list[str]) -> ManualStep:
    m = masters[0] if len(masters) == 1 else "<master>"
    commands = (
        "# 1. on the node, while a pod with the NAD starts: does the DISCOVER leave, does an OFFER come back?",
        f"sudo tcpdump -eni {m} 'udp port 67 or udp port 68'",
        "# DISCOVER out, no OFFER back: the hypervisor (or switch) drops the pod's MAC. Allow foreign MACs there:",
        "# VMware ESXi standard vSwitch (or override on the port group of the node VMs):",
        "esxcli network vswitch standard policy security set -v <vSwitch> --allow-promiscuous=true "
        "--allow-mac-change=true --allow-forged-transmits=true",
        "#   distributed switch: port group > Edit Settings > Security: Promiscuous mode, MAC address changes, "
        "Forged transmits = Accept",
        "# Hyper-V, on the host (PowerShell as administrator), once per node VM:",
        "Set-VMNetworkAdapter -VMName <vm> -MacAddressSpoofing On",
        "# Proxmox VE: the VM firewall's MAC filter (on by default when the NIC has firewall=1):",
        "pvesh set /nodes/<pve-node>/qemu/<vmid>/firewall/options --macfilter 0",
        "# VirtualBox (VM powered off; adapter 1):",
        "VBoxManage modifyvm <vm> --nicpromisc1 allow-all",
        "# Linux bridge on a KVM/libvirt host: the VM's tap port must learn and flood unknown MACs:",
        "bridge -d link show    # find the VM's tap port and its learning/flood flags",
        "bridge link set dev <tap> learning on flood on",
        "# 2. in the node VM, to test whether the NIC itself filters (not kept across reboots):",
        f"sudo ip link set {m} promisc on",
    )
    return ManualStep(
        "let the hypervisor pass frames for the pods' MACs (no DHCP offer, catalog F8)",
        f"{len(evidence)} failing finding(s) name catalog F8{_nodes_text(evidence)}: no DHCP server answered. On a VM "
        "the usual cause is a virtual switch that drops frames for, or from, MACs other than the VM's own (multus-cni.md "
        "§6 pitfall 3). F8 has other causes too: rule out a wrong, DOWN or wireless master first (nad.master) and "
        "watch the DHCP server's log for the DISCOVER. On cloud VMs the provider usually drops foreign MACs and offers "
        "no switch to change: use ipvlan or the provider's own secondary IPs.", commands)


def multicast_step(evidence: list[Finding], masters: list[str]) -> ManualStep:
    on = f" the nodes' {', '.join(masters)}" if masters else " the nodes' master NIC"
    commands = (
        f"# managed switch, on the VLAN of{on}: stop IGMP snooping there ...",
        "#   e.g. Cisco IOS (config-mode):  no ip igmp snooping vlan <vlan>",
        "# ... or keep it and give the VLAN an IGMP querier, so memberships of 224.0.0.251 do not age out:",
        "#   e.g. Cisco IOS (config-mode):  ip igmp snooping querier",
        "# a Linux bridge in the path (Proxmox vmbr0, libvirt virbr0, a Linux router or AP), on that host:",
        "ip link set dev <bridge> type bridge mcast_snooping 0",
        "#   or keep snooping with the bridge as querier:",
        "ip link set dev <bridge> type bridge mcast_querier 1",
        "# Wi-Fi access point or mesh: turn off IGMP snooping / multicast filtering / \"block LAN to WLAN multicast\" "
        "for the network the nodes are on",
        "# if multicast must stay filtered: run an mDNS reflector on a host in both segments",
        "#   /etc/avahi/avahi-daemon.conf: [reflector] enable-reflector=yes, then: sudo systemctl restart avahi-daemon",
    )
    return ManualStep(
        "let multicast reach the nodes (switch or access point IGMP snooping / multicast filtering)",
        f"{len(evidence)} mDNS finding(s){_nodes_text(evidence)}: no multicast answer, but a legacy-unicast query to the "
        "same group was answered, so the responders are reachable and multicast towards the node is dropped on the "
        "way: the AP/IGMP-snooping pattern (netns-lab.md §4 d3, §5.12). On VM nodes the hypervisor must pass it too "
        "(its promiscuous / MAC spoofing settings, as for F8).", commands)


class LanManualSteps(Fix):
    id = "lan-manual"
    title = "switch, access point and hypervisor settings multus-check cannot change (manual steps only)"
    repairs = frozenset()
    advises = frozenset({MASTER, "events.known-failures", "e2e.attach", E2E_MDNS, DATAPATH_MDNS})

    def plan(self, snap: Snapshot, findings: list[Finding], ctx: PlanContext) -> Plan:
        steps: list[ManualStep] = []
        about: set[str] = set()
        wifi = wireless_masters(snap, findings)
        if wifi and choose_master(snap)[0] is None:
            steps.append(wifi_step(wifi))
            about.add(MASTER)
        masters = _masters(snap)
        if offers := no_dhcp_offer(findings):
            steps.append(hypervisor_step(offers, masters))
            about |= {f.check for f in offers}
        if dropped := multicast_dropped(findings):
            steps.append(multicast_step(dropped, masters))
            about |= {f.check for f in dropped}
        if not steps:
            return self.nothing("no finding points at the LAN, the access point or the hypervisor")
        return Plan(self.id, frozenset(about), f"{len(steps)} manual step(s) on the LAN side", manual=tuple(steps),
                    risk="none: multus-check changes nothing here", reversible=False)
