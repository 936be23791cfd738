"""The lab's IPv6 side: a ULA LAN with SLAAC, and a Thread border router with a Matter node behind it.

    [mcl-<name>-router]  rtr0 <lan6>::1/64  radvd: prefix <lan6>/64 (SLAAC), route <thread>/64 (RIO,
                         preference high), router lifetime 0, as a Thread border router advertises
                         thr0 <thread>::1/64; IPv6 forwarding on, in this namespace only
                         avahi, as the border router's advertising proxy: _meshcop._udp for itself,
                         _matter._tcp and _matterc._udp for the Matter node (AAAA = its Thread address)
           | veth thr0 <-> wpan0, both ends created inside the lab namespaces
    [mcl-<name>-thread]  wpan0 <thread>::5540/64, default via <thread>::1; the Matter node stand-in
                         (multus_check.lab.matter_node) on UDP 5540

Why it exists: Matter is IPv6 only, and Thread devices sit behind border routers that announce
their mesh prefix in Router Advertisements as a Route Information Option (matter-thread-ipv6.md).
mDNS is link-local, so a real border router (OTBR's SRP advertising proxy, Apple TV, Nest hub)
publishes the Thread devices' services on the LAN with their mesh addresses; the router
namespace's avahi does the same here, IPv6 only, so the lab's IPv4 mDNS answers stay as they were.

What it touches: only the lab's namespaces (sysctls inside them, the veth, addresses, a route),
the processes it starts there (radvd, the Matter node) and files in the lab's state dir.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from multus_check.errors import HostError
from multus_check.lab import processes
from multus_check.lab.config import MATTER_PORT, ROUTER_IF, THREAD_NODE_IF, THREAD_ROUTER_IF, LabState
from multus_check.probes import netns

#: the Matter node's mDNS host name: Thread devices use 16 hex digits derived from their MAC
MATTER_HOST = "0E5B8D8A0B3C4D5E.local"
#: radvd's periodic interval; a solicitation is answered at once (unicast, RFC 7772)
RA_INTERVAL = (10, 30)
MESHCOP_PORT = 49154


@dataclass(frozen=True)
class AdvertisedService:
    """One DNS-SD service the border router publishes over IPv6 (an avahi .service file)."""

    name: str
    type: str
    port: int
    txt: tuple[str, ...]
    host: str | None = None  # None: the border router itself
    subtypes: tuple[str, ...] = ()

    def xml(self) -> str:
        host = f"<host-name>{escape(self.host)}</host-name>" if self.host else ""
        subs = "".join(f"<subtype>{escape(s)}._sub.{self.type}</subtype>" for s in self.subtypes)
        txt = "".join(f"<txt-record>{escape(t)}</txt-record>" for t in self.txt)
        return ("<?xml version=\"1.0\" standalone='no'?>\n<!DOCTYPE service-group SYSTEM \"avahi-service.dtd\">\n"
                f"<service-group><name>{escape(self.name)}</name><service protocol=\"ipv6\">"
                f"<type>{self.type}</type>{subs}{host}<port>{self.port}</port>{txt}</service></service-group>\n")


def advertised_services(state: LabState) -> tuple[AdvertisedService, ...]:
    """A commissionable + operational Matter node on the Thread mesh, and the border router itself."""
    common = ("SII=5000", "SAI=300", "T=0")
    return (
        AdvertisedService("2906C908D115D362-0000000000005540", "_matter._tcp", MATTER_PORT, common, MATTER_HOST,
                          ("_I2906C908D115D362",)),
        AdvertisedService("3F9A2C5D1E7B8064", "_matterc._udp", MATTER_PORT,
                          ("D=3840", "CM=2", "VP=65521+32768", "DT=770", "DN=Lab Thread Sensor", "PH=33", *common),
                          MATTER_HOST, ("_L3840", "_S15", "_CM")),
        AdvertisedService(f"Lab Border Router {state.name}", "_meshcop._udp", MESHCOP_PORT,
                          ("rv=1", "tv=1.3.0", f"nn=mcl-{state.name}", "xp=6d636c2d6c616230", "vn=multus-check",
                           "mn=lab")),
    )


def write_avahi_records(state: LabState, services_dir: Path, hosts_file: Path) -> int:
    """The border router's IPv6 records for avahi; returns how many entries avahi will establish."""
    services = advertised_services(state)
    for svc in services:
        (services_dir / f"{svc.type.strip('_').split('.')[0]}.service").write_text(svc.xml())
    hosts_file.write_text(f"{state.matter_node_ip6} {MATTER_HOST}\n")
    return len(services) + 1  # and the static host name


def prepare_router(state: LabState) -> None:
    """Before rtr0 goes up: route IPv6 in the router only, no DAD wait on its (lab-only) link."""
    netns.set_sysctls(state.router_ns, {"net.ipv6.conf.all.forwarding": "1",
                                         f"net.ipv6.conf.{ROUTER_IF}.accept_dad": "0"})


def build(state: LabState) -> None:
    """The router's LAN address and the Thread namespace behind it."""
    netns.add_address(state.router_ns, ROUTER_IF, state.router_ip6, state.lan6_prefix.prefixlen)
    netns.add_veth(state.router_ns, THREAD_ROUTER_IF, state.thread_ns, THREAD_NODE_IF)
    netns.set_sysctls(state.router_ns, {f"net.ipv6.conf.{THREAD_ROUTER_IF}.accept_dad": "0",
                                         f"net.ipv6.conf.{THREAD_ROUTER_IF}.forwarding": "1"})
    netns.set_sysctls(state.thread_ns, {f"net.ipv6.conf.{THREAD_NODE_IF}.accept_dad": "0"})
    netns.add_address(state.router_ns, THREAD_ROUTER_IF, state.thread_router_ip6, state.thread_prefix.prefixlen)
    netns.add_address(state.thread_ns, THREAD_NODE_IF, state.matter_node_ip6, state.thread_prefix.prefixlen)
    netns.set_link(state.router_ns, THREAD_ROUTER_IF, up=True)
    netns.set_link(state.thread_ns, THREAD_NODE_IF, up=True)
    netns.add_route(state.thread_ns, "default", state.thread_router_ip6)


def radvd_conf(state: LabState) -> str:
    low, high = RA_INTERVAL
    return (f"interface {ROUTER_IF} {{\n  AdvSendAdvert on;\n  MinRtrAdvInterval {low};\n  MaxRtrAdvInterval {high};\n"
            "  AdvDefaultLifetime 0;\n"
            f"  prefix {state.lan6_prefix} {{ AdvOnLink on; AdvAutonomous on; }};\n"
            f"  route {state.thread_prefix} {{ AdvRoutePreference high; AdvRouteLifetime 1800; }};\n}};\n")


def start_radvd(state: LabState) -> float:
    binary = shutil.which("radvd")
    if binary is None:
        raise HostError("radvd is not installed (Debian package radvd)")
    conf, pidfile = state.dir / "radvd.conf", state.dir / "radvd.pid"
    conf.write_text(radvd_conf(state))
    pidfile.unlink(missing_ok=True)
    processes.start(state, "radvd", state.router_ns, [binary, "-C", str(conf), "-p", str(pidfile), "-n", "-m", "stderr"])
    return processes.wait_for("radvd", pidfile.exists, 5.0, state.pids["radvd"], state.dir / "radvd.log")


def start_matter_node(state: LabState) -> float:
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": package_root}
    argv = [sys.executable, "-m", "multus_check.lab.matter_node", "--port", str(MATTER_PORT)]
    processes.start(state, "matter-node", state.thread_ns, argv, env=env)
    log = state.dir / "matter-node.log"
    return processes.wait_for("Matter node", lambda: "ready" in log.read_text(errors="replace"), 10.0,
                              state.pids["matter-node"], log)
