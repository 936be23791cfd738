"""Network namespaces and links, through netlink (pyroute2): create, look, remove, run code inside.

Why it exists: the data-path probe and the lab both need throwaway namespaces and a look at
links, addresses and routes inside a namespace, without parsing `ip` output. Everything here
acts only on namespaces named by the caller; nothing is ever done in the root namespace
except creating and deleting those named namespaces (a file under /run/netns).
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyroute2 import IPRoute, NetNS, netns

from multus_check.errors import HostError

log = logging.getLogger(__name__)
NETNS_DIR = "/run/netns"


def netns_path(name: str) -> str:
    return os.path.join(NETNS_DIR, name)


def exists(name: str) -> bool:
    return os.path.exists(netns_path(name))


def create(name: str) -> None:
    """Create a named namespace with its loopback up."""
    if exists(name):
        raise HostError(f"network namespace {name} already exists")
    # iproute2 rather than pyroute2's netns.create: the latter runs in a helper process whose
    # failures can go unreported (seen once: a namespace missing right after create returned)
    out = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, timeout=10, check=False)
    if out.returncode != 0 or not exists(name):
        raise HostError(f"ip netns add {name} failed: {out.stderr.strip() or 'namespace missing afterwards'}")
    with NetNS(name) as ns:
        ns.link("set", index=ns.link_lookup(ifname="lo")[0], state="up")


def remove(name: str) -> bool:
    """Delete a named namespace (its links go with it); False when it was not there."""
    if not exists(name):
        return False
    netns.remove(name)
    return True


def listed(prefix: str) -> list[str]:
    return sorted(n for n in netns.listnetns() if n.startswith(prefix))


def pids_in(name: str) -> list[int]:
    """Processes whose network namespace is this named one (what `ip netns pids` prints)."""
    try:
        target = os.stat(netns_path(name))
    except OSError:
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry}/ns/net")
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            found.append(int(entry))
    return found


def _open(name: str | None) -> Any:
    return NetNS(name) if name else IPRoute()


@dataclass(frozen=True)
class LinkState:
    """What netlink says about one link: its flags, operstate and IPv4 addresses (CIDR)."""

    name: str
    index: int
    admin_up: bool
    operstate: str
    kind: str | None
    ipv4: tuple[str, ...]

    @property
    def up(self) -> bool:
        return self.admin_up and self.operstate in ("UP", "UNKNOWN")


def link_state(ns_name: str | None, ifname: str) -> LinkState | None:
    """The link `ifname` in namespace `ns_name` (None = this process's namespace), or None."""
    with _open(ns_name) as ipr:
        idx = ipr.link_lookup(ifname=ifname)
        if not idx:
            return None
        link = ipr.get_links(idx[0])[0]
        addrs = [f"{a.get('IFA_ADDRESS')}/{a['prefixlen']}" for a in ipr.get_addr(family=2)
                 if a["index"] == idx[0]]
    info = link.get("IFLA_LINKINFO")
    return LinkState(ifname, idx[0], bool(link["flags"] & 1), str(link.get("IFLA_OPERSTATE")),
                     info.get("IFLA_INFO_KIND") if info else None, tuple(addrs))


def set_link(ns_name: str, ifname: str, up: bool) -> None:
    with NetNS(ns_name) as ns:
        idx = ns.link_lookup(ifname=ifname)
        if not idx:
            raise HostError(f"link {ifname} not found in namespace {ns_name}")
        ns.link("set", index=idx[0], state="up" if up else "down")


def add_veth(ns_a: str, if_a: str, ns_b: str, if_b: str) -> None:
    """A veth pair created directly in two namespaces (it never exists in the root namespace)."""
    with NetNS(ns_a) as ns:
        ns.link("add", ifname=if_a, kind="veth", peer={"ifname": if_b, "net_ns_fd": ns_b})


def add_address(ns_name: str, ifname: str, address: str, prefixlen: int) -> None:
    with NetNS(ns_name) as ns:
        ns.addr("add", index=ns.link_lookup(ifname=ifname)[0], address=address, prefixlen=prefixlen)


def add_route(ns_name: str, dst: str, gateway: str) -> None:
    """A static route in a named namespace (`dst` may be "default" for IPv6 as `::/0`)."""
    with NetNS(ns_name) as ns:
        ns.route("add", dst="::/0" if dst == "default" else dst, gateway=gateway)


_WRITE_SYSCTLS = 'while [ "$#" -gt 1 ]; do printf "%s" "$2" > "/proc/sys/$1" || exit 1; shift 2; done'


def set_sysctls(ns_name: str, values: dict[str, str]) -> None:
    """Write `net.*` sysctls inside a named namespace (/proc/sys/net follows the writer's namespace).

    One `ip netns exec ... sh` for all of them: no procps needed, nothing written outside the namespace.
    """
    args = [part for key, value in values.items() for part in (key.replace(".", "/"), value)]
    out = subprocess.run(["ip", "netns", "exec", ns_name, "sh", "-c", _WRITE_SYSCTLS, "sh", *args],
                         capture_output=True, text=True, timeout=10, check=False)
    if out.returncode != 0:
        raise HostError(f"setting {', '.join(values)} in {ns_name} failed: {out.stderr.strip()}")


def routes(ns_name: str) -> list[dict[str, Any]]:
    """IPv4 routes of the main table in `ip -j route` shape (dst, gateway, dev, protocol...)."""
    out = subprocess.run(["ip", "-n", ns_name, "-j", "-4", "route", "show"], capture_output=True, text=True,
                         timeout=10, check=False)
    if out.returncode != 0:
        raise HostError(f"ip -n {ns_name} route failed: {out.stderr.strip()}")
    data = json.loads(out.stdout or "[]")
    return data if isinstance(data, list) else []


def _setns(path: str) -> None:
    """Move this process into the namespace at `path`, which must exist.

    The file is opened here, so a namespace that vanished is a FileNotFoundError naming it, and
    pyroute2 gets the descriptor with flags=0: given a name and its default O_CREAT, it would
    create the namespace again instead.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        netns.setns(fd, flags=0)
    except OSError as exc:  # pyroute2's message names the descriptor; name the namespace
        raise OSError(exc.errno, f"setns({path}): {os.strerror(exc.errno or 0)}") from exc
    finally:
        os.close(fd)


def call_in_netns(ns_name: str, fn: Callable[[], dict[str, Any]], timeout: float) -> dict[str, Any]:
    """Run `fn` in a forked child that entered `ns_name`; returns its JSON-able dict.

    A fork keeps already-imported modules (scapy takes ~1 s to import) and leaves this
    process's own namespace untouched. The child is killed (by its PID) after `timeout`.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns
        os.close(read_fd)
        code = 0
        try:
            _setns(netns_path(ns_name))
            payload = json.dumps({"ok": fn()})
        except BaseException as exc:
            payload, code = json.dumps({"error": f"{type(exc).__name__}: {exc}"}), 1
        with os.fdopen(write_fd, "w") as w:
            w.write(payload)
        os._exit(code)
    os.close(write_fd)
    return _collect_child(pid, read_fd, timeout)


def _collect_child(pid: int, read_fd: int, timeout: float) -> dict[str, Any]:
    chunks, deadline = [], time.monotonic() + timeout
    with os.fdopen(read_fd, "rb") as r:
        while True:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([r], [], [], max(left, 0))
            if not ready:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise HostError(f"probe process {pid} did not finish within {timeout:.0f} s; killed")
            chunk = r.read1(65536)
            if not chunk:
                break
            chunks.append(chunk)
    os.waitpid(pid, 0)
    data = json.loads(b"".join(chunks) or b'{"error": "probe process exited without output"}')
    if "error" in data:
        raise HostError(str(data["error"]))
    result: dict[str, Any] = data["ok"]
    return result
