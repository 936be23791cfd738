"""Bring a simulated home LAN up and down in network namespaces, and report on it.

    [mcl-<name>-router]  rtr0 <subnet>.1/24 + a ULA /64: dnsmasq (DHCP), avahi-daemon (mDNS), SSDP
           |             responder, radvd (SLAAC prefix + Thread route); the Thread border router
           |   + veth thr0 <-> wpan0: [mcl-<name>-thread], the Thread mesh with a Matter node stand-in
           |     on UDP 5540 (see lab/thread.py)
           | veth, both ends created directly inside the lab namespaces
    [mcl-<name>-node]    lan0 (no address) = the macvlan master; the CNI `dhcp daemon` runs here
           | macvlan, created later by the real CNI plugin run by `multus-check node`
    [mcl-<name>-pod...]  throwaway pod namespaces made and removed by the probe

Touches only what it creates: the namespaces above, the processes it starts in them (PIDs in
the state dir) and its state dir. `down` works from the state dir alone, so it also removes a
lab left behind by a crashed run; a failed `up` takes down what it had built.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from typing import Any

from multus_check.errors import HostError, UsageError
from multus_check.lab import config, daemons, faults, processes, thread
from multus_check.lab.config import MASTER, MATTER_PORT, ROUTER_IF, LabState
from multus_check.probes import netns

log = logging.getLogger(__name__)
#: the processes a healthy lab runs (roles in the lab state)
DAEMONS = ("avahi", "dnsmasq", "cni-dhcp", "ssdp", "radvd", "matter-node")


@dataclass
class UpReport:
    state: LabState
    seconds: dict[str, float] = field(default_factory=dict)


def up(name: str, subnet: str | None = None, breaks: tuple[str, ...] = ()) -> UpReport:
    """Create the lab; on any failure remove everything created so far and re-raise."""
    missing = daemons.missing_prerequisites()
    if missing:
        raise HostError("the lab cannot run here; missing: " + "; ".join(missing))
    config.check_name(name)
    if config.load(name) is not None or any(netns.exists(f"{config.NS_PREFIX}{name}-{r}") for r in ("router", "node", "thread")):
        raise UsageError(f"lab {name!r} already exists; run `multus-check lab down --name {name}` first")
    state = LabState(name, config.pick_subnet(subnet))
    state.save()
    report = UpReport(state)
    t_all = time.monotonic()
    try:
        _build(state, report)
        for fault in breaks:
            faults.inject(state, fault)
    except BaseException:
        log.error("lab %s failed to come up; removing what was created", name)
        down(name)
        raise
    report.seconds["total"] = time.monotonic() - t_all
    return report


def _build(state: LabState, report: UpReport) -> None:
    t0 = time.monotonic()
    for ns_name in state.namespaces:
        netns.create(ns_name)
    netns.add_veth(state.node_ns, MASTER, state.router_ns, ROUTER_IF)
    thread.prepare_router(state)
    netns.add_address(state.router_ns, ROUTER_IF, state.router_ip, state.network.prefixlen)
    netns.set_link(state.router_ns, ROUTER_IF, up=True)
    netns.set_link(state.node_ns, MASTER, up=True)  # macvlan children pass traffic only while it is up
    thread.build(state)
    daemons.link_cni_plugins(state)
    state.write_nad()
    report.seconds["namespaces"] = time.monotonic() - t0
    t_avahi = time.monotonic()
    daemons.start_avahi(state)  # its mDNS probing takes ~1.5 s: let it run while the rest starts
    report.seconds["dnsmasq"] = daemons.start_dnsmasq(state)
    report.seconds["cni-dhcp"] = daemons.start_cni_dhcp_daemon(state)
    report.seconds["ssdp"] = daemons.start_ssdp(state)
    report.seconds["radvd"] = thread.start_radvd(state)
    report.seconds["matter-node"] = thread.start_matter_node(state)
    daemons.wait_avahi(state)
    report.seconds["avahi"] = time.monotonic() - t_avahi


@dataclass
class DownReport:
    name: str
    stopped: list[str]
    namespaces: list[str]


def down(name: str) -> DownReport:
    """Stop the lab's processes (recorded PIDs, then anything in its namespaces) and delete them."""
    state = config.load(name) or LabState(config.check_name(name), "0.0.0.0/32")
    stopped = processes.stop_all(state)
    removed = [n for n in (*netns.listed(state.pod_ns_prefix), *state.namespaces) if netns.remove(n)]
    if state.dir.exists():
        shutil.rmtree(state.dir)
    return DownReport(name, stopped, removed)


def status(name: str) -> dict[str, Any]:
    """What is up of a lab: namespaces, processes, the DHCP socket, the master, injected faults."""
    state = config.load(name)
    if state is None:
        leftovers = [n for n in netns.listed(f"{config.NS_PREFIX}{name}-")]
        return {"name": name, "state": "absent" if not leftovers else "leftover", "namespaces": leftovers}
    master = netns.link_state(state.node_ns, MASTER) if netns.exists(state.node_ns) else None
    procs = {role: {"pid": rec["pid"], "running": processes.alive(rec)} for role, rec in state.pids.items()}
    healthy = (all(netns.exists(n) for n in state.namespaces) and all(p["running"] for p in procs.values())
               and set(procs) == set(DAEMONS))
    return {
        "name": name, "state": "up" if healthy and not state.breaks else "degraded",
        "subnet": state.subnet, "router": state.router_ip, "lan6": str(state.lan6_prefix),
        "thread_prefix": str(state.thread_prefix), "matter_node": f"[{state.matter_node_ip6}]:{MATTER_PORT}",
        "namespaces": {n: netns.exists(n) for n in state.namespaces},
        "pod_namespaces": netns.listed(state.pod_ns_prefix), "processes": procs,
        "dhcp_socket": {"path": str(state.dhcp_socket), "live": daemons.socket_live(state.dhcp_socket)},
        "master": {"name": MASTER, "up": master.up if master else None},
        "cni_bin": str(state.cni_bin), "nad_config": str(state.nad_config), "breaks": list(state.breaks),
    }
