"""Faults a lab can be broken with (`--break`), each with its exact undo.

Why it exists: users and tests need to see how `multus-check node` diagnoses each failure of
the data path. Every fault acts only on the lab's own namespaces, processes and state dir:

- dhcp-daemon: the CNI dhcp daemon is killed and its socket left behind (connection refused)
- plugin:      the macvlan binary is missing from the lab node's CNI bin dir
- master:      the macvlan master (lan0, the node's "LAN NIC") is set DOWN
- dhcp-server: dnsmasq is stopped (no DHCP offer)
- multicast:   the "switch" drops multicast frames towards the node (nft netdev ingress on lan0);
               unicast still flows, like an access point with IGMP snooping gone wrong
- ipv6:        the NAD's tuning step disables IPv6 on net1 (`net.ipv6.conf.IFNAME.disable_ipv6=1`)
- thread-routes: the NAD has no tuning step, so net1 keeps `accept_ra_rt_info_max_plen=0`
- ipv6-multicast: the "switch" drops IPv6 multicast towards the node except what Neighbor Discovery
               and SLAAC need (all-nodes ff02::1, solicited-node ff02::1:ffXX:XXXX): MLD snooping
               gone wrong, ff02::fb (mDNS) never arrives while RAs and IPv6 unicast still do
"""

from __future__ import annotations

import logging
import subprocess

from multus_check.errors import HostError, UsageError
from multus_check.lab import daemons, processes
from multus_check.lab.config import FAULTS, MASTER, LabState
from multus_check.probes import netns

log = logging.getLogger(__name__)
NFT_TABLE = "multus_check_lab"
NFT_DROP_MULTICAST = f"""table netdev {NFT_TABLE} {{
  chain ingress {{
    type filter hook ingress device "{MASTER}" priority 0;
    ether daddr & 01:00:00:00:00:00 == 01:00:00:00:00:00 ether daddr != ff:ff:ff:ff:ff:ff drop;
  }}
}}
"""
NFT_TABLE6 = "multus_check_lab_ipv6"
KEEP_SOLICITED_NODE = "ether daddr & ff:ff:ff:00:00:00 != 33:33:ff:00:00:00"
#: 33:33:xx = IPv6 multicast; kept: 33:33:00:00:00:01 (all-nodes: RAs) and 33:33:ff:xx:xx:xx (solicited-node: ND, DAD)
NFT_DROP_IPV6_MULTICAST = f"""table netdev {NFT_TABLE6} {{
  chain ingress {{
    type filter hook ingress device "{MASTER}" priority 0;
    ether daddr & ff:ff:00:00:00:00 == 33:33:00:00:00:00 ether daddr != 33:33:00:00:00:01 {KEEP_SOLICITED_NODE} drop;
  }}
}}
"""
#: faults that live in the NAD the lab node probes with (LabState.nad), not in a daemon or the switch
NAD_FAULTS = ("ipv6", "thread-routes")


def _nft(state: LabState, script: str) -> None:
    out = subprocess.run(["ip", "netns", "exec", state.node_ns, "nft", "-f", "-"], input=script, text=True,
                         capture_output=True, timeout=10, check=False)
    if out.returncode != 0:
        raise HostError(f"nft in {state.node_ns} failed: {out.stderr.strip()}")


def inject(state: LabState, fault: str) -> None:
    """Break the lab in one way; recorded in the lab state so `status` shows it."""
    if fault not in FAULTS:
        raise UsageError(f"unknown fault {fault!r}; choose one of {', '.join(FAULTS)}")
    if fault in state.breaks:
        return
    if fault == "dhcp-daemon":
        # v1.1.1 keeps its socket file on SIGTERM, so a stale socket remains (connection refused);
        # v1.2.0+ removes it (no such file). Both are the same fault seen from the plugin.
        processes.stop(state, "cni-dhcp")
    elif fault == "plugin":
        (state.cni_bin / "macvlan").unlink(missing_ok=True)
    elif fault == "master":
        netns.set_link(state.node_ns, MASTER, up=False)
    elif fault == "dhcp-server":
        processes.stop(state, "dnsmasq")
    elif fault == "multicast":
        _nft(state, NFT_DROP_MULTICAST)
    elif fault == "ipv6-multicast":
        _nft(state, NFT_DROP_IPV6_MULTICAST)
    state.breaks.append(fault)
    if fault in NAD_FAULTS:
        state.write_nad()
    state.save()
    log.info("lab %s: injected fault %s", state.name, fault)


def repair(state: LabState, fault: str) -> None:
    """Undo one fault injected by `inject`."""
    if fault not in state.breaks:
        return
    if fault == "dhcp-daemon":
        daemons.start_cni_dhcp_daemon(state)
    elif fault == "plugin":
        daemons.link_cni_plugins(state)
    elif fault == "master":
        netns.set_link(state.node_ns, MASTER, up=True)
    elif fault == "dhcp-server":
        daemons.start_dnsmasq(state)
    elif fault == "multicast":
        _nft(state, f"delete table netdev {NFT_TABLE}\n")
    elif fault == "ipv6-multicast":
        _nft(state, f"delete table netdev {NFT_TABLE6}\n")
    state.breaks.remove(fault)
    if fault in NAD_FAULTS:
        state.write_nad()
    state.save()
    log.info("lab %s: repaired fault %s", state.name, fault)
