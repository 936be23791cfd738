"""The lab's daemons: dnsmasq (DHCP), avahi-daemon (mDNS), our SSDP responder (router namespace)
and the CNI `dhcp daemon` (node namespace), with the flags netns-lab.md verified.

Each daemon is confined to its lab namespace; its files (config, leases, logs, socket, PID
file) live in the lab's state directory. avahi gets a private mount namespace in which a tmpfs
covers /run/avahi-daemon and the lab's avahi dir (config, services, static hosts) is bound over
/etc/avahi, its chroot, so the host's /etc and a host avahi are never touched (netns-lab.md
pitfall 7). radvd and the Matter node of the lab's IPv6 side start in multus_check.lab.thread.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import sys
from pathlib import Path

from multus_check.errors import HostError
from multus_check.lab import processes, thread
from multus_check.lab.config import DHCP_DAEMON_RESENDMAX, DHCP_DAEMON_TIMEOUT, ROUTER_IF, SERVICES, LabState

CNI_SOURCE_DIRS = ("/usr/lib/cni", "/opt/cni/bin")
LAB_PLUGINS = ("macvlan", "ipvlan", "dhcp", "host-local", "static", "loopback", "bridge", "tuning")
REQUIRED_TOOLS = ("ip", "dnsmasq", "avahi-daemon", "nft", "radvd")


def cni_source_dir() -> Path | None:
    """Where this machine's CNI plugin binaries are (Debian: /usr/lib/cni)."""
    for d in CNI_SOURCE_DIRS:
        if os.access(os.path.join(d, "macvlan"), os.X_OK) and os.access(os.path.join(d, "dhcp"), os.X_OK):
            return Path(d)
    return None


def missing_prerequisites() -> list[str]:
    """What this machine lacks to run a lab; empty when it can."""
    missing = [f"{tool} (not on PATH)" for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if cni_source_dir() is None:
        missing.append(f"CNI plugins macvlan+dhcp (looked in {', '.join(CNI_SOURCE_DIRS)})")
    if os.geteuid() != 0:
        missing.append("root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)")
    return missing


def link_cni_plugins(state: LabState) -> None:
    """The lab node's CNI bin dir: symlinks to this machine's plugins (`--break plugin` removes one)."""
    source = cni_source_dir()
    if source is None:
        raise HostError("no CNI plugin binaries found; install Debian's containernetworking-plugins")
    state.cni_bin.mkdir(parents=True, exist_ok=True)
    for name in LAB_PLUGINS:
        target, link = source / name, state.cni_bin / name
        if target.exists() and not link.is_symlink():
            link.symlink_to(target)


def start_dnsmasq(state: LabState) -> float:
    first, last = state.dhcp_range
    argv = ["dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground", "--port=0", f"--interface={ROUTER_IF}",
            "--bind-interfaces", "--except-interface=lo", f"--dhcp-range={first},{last},255.255.255.0,2m",
            f"--dhcp-option=option:router,{state.router_ip}", "--dhcp-authoritative", "--no-ping",
            f"--dhcp-leasefile={state.dir / 'dnsmasq.leases'}", f"--pid-file={state.dir / 'dnsmasq.pid'}",
            "--log-dhcp", "--log-facility=-", "--user=root", "--group=root"]
    processes.start(state, "dnsmasq", state.router_ns, argv)
    log = state.dir / "dnsmasq.log"
    return processes.wait_for("dnsmasq", lambda: "DHCP, IP range" in log.read_text(errors="replace"), 5.0,
                              state.pids["dnsmasq"], log)


def _write_avahi_files(state: LabState) -> Path:
    services = state.dir / "avahi" / "services"
    services.mkdir(parents=True, exist_ok=True)
    conf = state.dir / "avahi" / "avahi-daemon.conf"
    conf.write_text(
        f"[server]\nhost-name=mcl-{state.name}-router\ndomain-name=local\nuse-ipv4=yes\nuse-ipv6=yes\n"
        f"allow-interfaces={ROUTER_IF}\nenable-dbus=no\nratelimit-interval-usec=1000000\nratelimit-burst=1000\n"
        "[wide-area]\nenable-wide-area=no\n[publish]\npublish-hinfo=no\npublish-workstation=no\n"
        "[reflector]\nenable-reflector=no\n[rlimits]\n")
    for name, stype, port, txt in SERVICES:
        (services / f"{stype.strip('_').split('.')[0]}.service").write_text(
            "<?xml version=\"1.0\" standalone='no'?>\n<!DOCTYPE service-group SYSTEM \"avahi-service.dtd\">\n"
            f"<service-group><name>{name}</name><service><type>{stype}</type><port>{port}</port>"
            f"<txt-record>{txt}</txt-record></service></service-group>\n")
    return conf


def avahi_entries(state: LabState) -> int:
    """How many `successfully established` lines a ready avahi logs: services and static hosts."""
    return len(SERVICES) + len(thread.advertised_services(state)) + 1


def start_avahi(state: LabState) -> None:
    conf = _write_avahi_files(state)
    avahi_dir = state.dir / "avahi"
    thread.write_avahi_records(state, avahi_dir / "services", avahi_dir / "hosts")
    # `ip netns exec` gives the shell a private (slave) mount namespace: these mounts stay in it.
    # The lab's avahi dir replaces /etc/avahi (avahi chroots there and reads services/ and hosts).
    script = (f"mkdir -p /run/avahi-daemon && mount -t tmpfs tmpfs /run/avahi-daemon && "
              f"mount --bind {shlex.quote(str(avahi_dir))} /etc/avahi && "
              f"exec avahi-daemon --file={shlex.quote(str(conf))} --no-rlimits --debug")
    processes.start(state, "avahi", state.router_ns, ["sh", "-c", script])


def wait_avahi(state: LabState) -> float:
    """Wait until avahi established every service and host (mDNS probing takes ~1.5 s)."""
    log = state.dir / "avahi.log"
    wanted = avahi_entries(state)
    return processes.wait_for(
        "avahi-daemon", lambda: log.read_text(errors="replace").count("successfully established") >= wanted,
        15.0, state.pids["avahi"], log)


def start_ssdp(state: LabState) -> float:
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": package_root}
    argv = [sys.executable, "-m", "multus_check.lab.ssdp_responder", "--bind", state.router_ip,
            "--location", f"http://{state.router_ip}:8080/desc.xml"]
    processes.start(state, "ssdp", state.router_ns, argv, env=env)
    log = state.dir / "ssdp.log"
    return processes.wait_for("SSDP responder", lambda: "ready" in log.read_text(errors="replace"), 10.0,
                              state.pids["ssdp"], log)


def start_cni_dhcp_daemon(state: LabState) -> float:
    source = cni_source_dir()
    if source is None:
        raise HostError("no CNI dhcp binary found")
    # v1.1.1 leaves its socket behind on SIGTERM; a stale one makes the next start fail (EADDRINUSE)
    state.dhcp_socket.unlink(missing_ok=True)
    argv = [str(source / "dhcp"), "daemon", "-socketpath", str(state.dhcp_socket),
            "-pidfile", str(state.dir / "cni-dhcp.pid"),
            "-timeout", DHCP_DAEMON_TIMEOUT, "-resendmax", DHCP_DAEMON_RESENDMAX]
    processes.start(state, "cni-dhcp", state.node_ns, argv)
    return processes.wait_for("CNI dhcp daemon", lambda: socket_live(state.dhcp_socket), 5.0,
                              state.pids["cni-dhcp"], state.dir / "cni-dhcp.log")


def socket_live(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
        except OSError:
            return False
    return True
