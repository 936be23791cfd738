"""Observe a node's data path the way Multus uses it: preflight, CNI ADD, lease, routes, probes, DEL.

Why it exists: whether a pod's net1 gets a LAN address and hears multicast depends on the
node's plugins, its DHCP daemon, the master NIC, the switch and the router; this exercises
exactly that path with the node's own binaries and records what happened, layer by layer,
for `datapath_verdicts` to turn into findings. It judges nothing itself.

What it touches: it creates one throwaway network namespace (named `<prefix><pid>-<random>`),
runs the CNI plugins on it (inside `node_netns` when given, so the master resolves there),
sends mDNS/SSDP probes and the IPv6 observations (RS, mDNS on ff02::fb, a Matter round trip) from the new
interface, then runs CNI DEL and deletes the namespace,
also when anything fails (the namespace's removal also removes a macvlan link leaked by the
plugin after an IPAM failure).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import stat
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from multus_check.domain.cniconf import NetConf
from multus_check.probes import cni, netns

log = logging.getLogger(__name__)
DEFAULT_DHCP_SOCKET = "/run/cni/dhcp.sock"
MASTER_PLUGINS = ("macvlan", "ipvlan", "vlan")


@dataclass
class DatapathOptions:
    conf: NetConf
    cni_path: list[str]
    node: str
    node_netns: str | None = None  # where the node's LAN NIC lives (None: this host's namespace)
    pod_netns_prefix: str = "mc-probe-"
    ifname: str = "net1"
    lan_subnet: str | None = None
    trials: int = 1
    probe_timeout: float = 2.0
    settle: float = 0.2
    probes: tuple[str, ...] = ("mdns", "ssdp", "ipv6")  # ipv6: probe_ipv6.py (Matter/Thread), beside the others


@dataclass
class SocketState:
    path: str
    kind: str  # missing | socket | file | dir | other
    live: bool | None = None
    error: str | None = None


@dataclass
class MasterState:
    name: str
    exists: bool
    admin_up: bool = False
    operstate: str = ""
    ipv4: tuple[str, ...] = ()


@dataclass
class DatapathObservation:
    """Everything seen while probing, as plain data; `datapath_verdicts` turns it into findings."""

    options: DatapathOptions
    plugins: dict[str, str | None] = field(default_factory=dict)
    dhcp_socket: SocketState | None = None
    master: MasterState | None = None
    add_blocked: str | None = None
    pod_netns: str | None = None
    add: cni.CniCall | None = None
    pod_addresses: tuple[str, ...] = ()
    pod_routes: list[dict[str, Any]] = field(default_factory=list)
    probe: dict[str, Any] | None = None
    probe_error: str | None = None
    dels: list[cni.CniCall] = field(default_factory=list)
    netns_removed: bool | None = None
    cleanup_error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def socket_state(path: str) -> SocketState:
    """Is there a unix socket at `path`, and does connect() succeed (a live daemon)?"""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return SocketState(path, "missing")
    except OSError as exc:
        return SocketState(path, "other", error=exc.strerror)
    if not stat.S_ISSOCK(mode):
        return SocketState(path, "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2.0)
        try:
            s.connect(path)
        except OSError as exc:
            return SocketState(path, "socket", False, exc.strerror or str(exc))
    return SocketState(path, "socket", True)


def master_state(name: str, node_netns: str | None) -> MasterState:
    link = netns.link_state(node_netns, name)
    if link is None:
        return MasterState(name, False)
    return MasterState(name, True, link.admin_up, link.operstate, link.ipv4)


def preflight(opts: DatapathOptions) -> DatapathObservation:
    """Plugins, DHCP daemon socket and master state, looked at before anything is created."""
    obs = DatapathObservation(opts)
    obs.plugins = {name: cni.find_plugin(name, opts.cni_path) for name in opts.conf.binaries()}
    if opts.conf.ipam.get("type") == "dhcp":
        obs.dhcp_socket = socket_state(str(opts.conf.ipam.get("daemonSocketPath") or DEFAULT_DHCP_SOCKET))
    if opts.conf.main.get("type") in MASTER_PLUGINS and opts.conf.master:
        obs.master = master_state(opts.conf.master, opts.node_netns)
    obs.add_blocked = _blocker(obs)
    return obs


def _blocker(obs: DatapathObservation) -> str | None:
    """Why ADD must not run: it cannot start, or it would only hang (a DOWN master: ~35 s)."""
    main_type = str(obs.options.conf.main.get("type"))
    if obs.plugins.get(main_type) is None:
        return f"the main plugin {main_type!r} is not in CNI_PATH"
    if obs.master is not None and not obs.master.exists:
        return None  # ADD fails at once with the plugin's own text (`Link not found`): worth showing
    if obs.master is not None and not (obs.master.admin_up and obs.master.operstate in ("UP", "UNKNOWN")):
        return f"the master {obs.master.name} is down (ADD would only give up after ~35 s)"
    return None


def run(opts: DatapathOptions) -> DatapathObservation:
    """Preflight, then ADD + look + probe + DEL on a throwaway namespace, always cleaned up."""
    t0 = time.monotonic()
    obs = preflight(opts)
    obs.seconds["preflight"] = time.monotonic() - t0
    if obs.add_blocked:
        return obs
    obs.pod_netns = f"{opts.pod_netns_prefix}{os.getpid()}-{secrets.token_hex(3)}"
    att = cni.Attachment(f"multus-check-{secrets.token_hex(6)}", netns.netns_path(obs.pod_netns), opts.ifname,
                         opts.cni_path, opts.node_netns)
    # scapy takes ~1 s to import: do it while ADD waits for the lease (joined before the fork)
    importer = threading.Thread(target=_import_probe, name="import-scapy", daemon=True)
    if opts.probes:
        importer.start()
    try:
        netns.create(obs.pod_netns)
        _attach_and_probe(obs, att, importer)
    finally:
        _cleanup(obs, att)
    obs.seconds["total"] = time.monotonic() - t0
    return obs


def _import_probe() -> None:
    try:
        from multus_check.probes import probe_script  # noqa: F401
    except Exception:
        log.debug("importing the probe failed", exc_info=True)


def _attach_and_probe(obs: DatapathObservation, att: cni.Attachment, importer: threading.Thread) -> None:
    opts = obs.options
    t = time.monotonic()
    obs.add = cni.add(att, opts.conf)
    obs.seconds["add"] = time.monotonic() - t
    if not obs.add.ok or obs.pod_netns is None:
        return
    link = netns.link_state(obs.pod_netns, opts.ifname)
    obs.pod_addresses = link.ipv4 if link else ()
    obs.pod_routes = netns.routes(obs.pod_netns)
    if opts.probes:
        importer.join()
        t = time.monotonic()
        obs.probe, obs.probe_error = _probe(obs.pod_netns, opts)
        obs.seconds["probe"] = time.monotonic() - t


def _probe(pod_ns: str, opts: DatapathOptions) -> tuple[dict[str, Any] | None, str | None]:
    from multus_check.probes import probe_script  # scapy: imported only when probing

    budget = 10.0 + opts.trials * 4 * (opts.probe_timeout + opts.settle + 1.0)
    try:
        result = netns.call_in_netns(pod_ns, lambda: probe_script.run_probes(
            opts.ifname, opts.probes, opts.trials, opts.probe_timeout, opts.settle), budget)
    except Exception as exc:
        return None, str(exc)
    return result, None


def _cleanup(obs: DatapathObservation, att: cni.Attachment) -> None:
    t = time.monotonic()
    prev = obs.add.result if obs.add is not None and obs.add.ok else None
    if obs.add is not None:
        try:
            obs.dels = cni.delete(att, obs.options.conf, prev)
        except Exception as exc:
            obs.cleanup_error = f"CNI DEL raised {type(exc).__name__}: {exc}"
    obs.seconds["del"] = time.monotonic() - t
    t = time.monotonic()
    if obs.pod_netns is not None:
        try:
            netns.remove(obs.pod_netns)
        except Exception as exc:
            obs.cleanup_error = f"could not delete namespace {obs.pod_netns}: {exc}"
        obs.netns_removed = not netns.exists(obs.pod_netns)
    obs.seconds["netns-remove"] = time.monotonic() - t
