"""Per-node facts derived from a node's snapshot: runtime CNI dirs, Multus config, interfaces.

Facts: multus-cni.md §2.3 (which conf file the runtime uses), §8 (k3s paths), §9.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from multus_check.domain import k3s
from multus_check.domain.cluster import K3sInfo, k3s_info, multus_deployment
from multus_check.domain.cniconf import CNI_CONF_SUFFIXES, ConfigError, parse_multus_config
from multus_check.domain.ipnet import Net
from multus_check.snapshot.data import DirEntry, NodeFacts, Snapshot

STANDARD_CONF_DIR = "/etc/cni/net.d"
STANDARD_BIN_DIR = "/opt/cni/bin"
VIRTUAL_IFACE = re.compile(r"^(lo|cni\d*|flannel\.\d+|veth.*|docker\d*|cali.*|tunl\d*|kube-ipvs\d*|vxlan.*|cilium.*)$")


class NotCollected(Exception):
    """The fact needed was not collected for this node; the message says what."""


def listing(facts: NodeFacts, path: str) -> list[DirEntry] | None:
    """A directory listing (None = absent on the host). Falls back to the files the snapshot
    holds under that directory (hand-made snapshots); raises NotCollected otherwise."""
    if facts.has_listing(path):
        return facts.listing(path)
    prefix = path.rstrip("/") + "/"
    children = sorted({k[len(prefix):].split("/", 1)[0] for k in facts.files if k.startswith(prefix)})
    if children:
        return [DirEntry(c, "file") for c in children]
    reason = facts.unreadable.get("dirs.json", f"the listing of {path} was not collected")
    raise NotCollected(reason)


@dataclass(frozen=True)
class RuntimeDirs:
    conf_dir: str
    bin_dir: str
    source: str


def runtime_dirs(facts: NodeFacts, info: K3sInfo) -> RuntimeDirs:
    """The CNI conf and bin dirs the container runtime on this node really uses."""
    toml = facts.file(k3s.CONTAINERD_CONFIG)
    if toml:
        conf = re.search(r'^\s*conf_dir\s*=\s*"([^"]+)"', toml, re.MULTILINE)
        binp = re.search(r'^\s*bin_dir\s*=\s*"([^"]+)"', toml, re.MULTILINE)
        if conf or binp:
            return RuntimeDirs(
                conf.group(1) if conf else STANDARD_CONF_DIR,
                binp.group(1) if binp else STANDARD_BIN_DIR,
                f"{k3s.CONTAINERD_CONFIG}",
            )
    if info.is_k3s and not info.embedded_flannel_disabled:
        new_bin = facts.dirs.get(k3s.BIN_DIR) if facts.has_listing(k3s.BIN_DIR) else []
        bin_dir = k3s.OLD_BIN_DIR if new_bin is None else k3s.BIN_DIR
        return RuntimeDirs(k3s.CONF_DIR, bin_dir, "k3s with its embedded flannel (k3s paths)")
    if info.is_k3s:
        return RuntimeDirs(STANDARD_CONF_DIR, STANDARD_BIN_DIR, "k3s with --flannel-backend none (containerd defaults)")
    return RuntimeDirs(STANDARD_CONF_DIR, STANDARD_BIN_DIR, "containerd/CRI-O defaults")


def cni_conf_files(facts: NodeFacts, conf_dir: str) -> list[str]:
    """Config file names in the order the runtime considers them (lexicographic)."""
    entries = listing(facts, conf_dir)
    if entries is None:
        return []
    return sorted(e.name for e in entries if e.type != "dir" and e.name.endswith(CNI_CONF_SUFFIXES))


def multus_files(names: list[str]) -> list[str]:
    return [n for n in names if n.startswith("00-multus")]


def search_dirs(snap: Snapshot, facts: NodeFacts) -> list[str]:
    """Where Multus looks for delegate plugins on this node: its binDir, then the runtime's CNI_PATH."""
    dirs = runtime_dirs(facts, k3s_info(snap))
    multus_bin = None
    names = multus_files(cni_conf_files(facts, dirs.conf_dir))
    text = facts.file(f"{dirs.conf_dir}/{names[0]}") if names else None
    if text is not None:
        try:
            multus_bin = parse_multus_config(text, names[0]).bin_dir
        except ConfigError:
            multus_bin = None
    dep = multus_deployment(snap)
    if dep is not None and dep.mode == "thick":
        return [dep.host_paths.get("/opt/cni/bin", multus_bin or STANDARD_BIN_DIR)]
    return list(dict.fromkeys([multus_bin or STANDARD_BIN_DIR, dirs.bin_dir]))


def file_exists(facts: NodeFacts, path: str) -> bool | None:
    """True/False when known from a listing or a copied file; None when not collected."""
    if facts.file(path) is not None:
        return True
    parent = str(PurePosixPath(path).parent)
    try:
        entries = listing(facts, parent)
    except NotCollected:
        return None
    if entries is None:
        return False
    return any(e.name == PurePosixPath(path).name for e in entries)


@dataclass(frozen=True)
class Interface:
    name: str
    up: bool
    operstate: str
    addresses: list[ipaddress.IPv4Interface | ipaddress.IPv6Interface]
    wireless: bool | None
    mtu: int | None = None
    mac: str | None = None
    #: DEVTYPE from its uevent ("bridge", "vlan", "wlan", ...); "" when the uevent has none, None when not collected
    devtype: str | None = None


def interfaces(facts: NodeFacts) -> dict[str, Interface]:
    if facts.ip_addr is None:
        raise NotCollected(facts.unreadable.get("ip-addr.json", "`ip -j addr` output was not collected"))
    out: dict[str, Interface] = {}
    for link in facts.ip_addr:
        name = str(link.get("ifname", ""))
        if not name:
            continue
        flags = [str(f) for f in link.get("flags") or []]
        addrs = [_iface(a) for a in link.get("addr_info") or [] if isinstance(a, dict)]
        mtu = link.get("mtu")
        out[name] = Interface(
            name, "UP" in flags, str(link.get("operstate", "UNKNOWN")),
            [a for a in addrs if a is not None], _wireless(facts, name),
            mtu if isinstance(mtu, int) else None, str(link["address"]).lower() if link.get("address") else None,
            _devtype(facts, name),
        )
    return out


def _devtype(facts: NodeFacts, name: str) -> str | None:
    uevent = facts.file(f"/sys/class/net/{name}/uevent")
    if uevent is None:
        return None
    found = re.search(r"^DEVTYPE=(\S+)", uevent, re.MULTILINE)
    return found.group(1) if found else ""


def _iface(addr: dict[str, Any]) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface | None:
    try:
        return ipaddress.ip_interface(f"{addr.get('local')}/{addr.get('prefixlen')}")
    except ValueError:
        return None


def _wireless(facts: NodeFacts, name: str) -> bool | None:
    uevent = facts.file(f"/sys/class/net/{name}/uevent")
    if uevent is not None and "DEVTYPE=wlan" in uevent:
        return True
    if facts.has_listing(f"/sys/class/net/{name}"):
        entries = facts.listing(f"/sys/class/net/{name}") or []
        return any(e.name in ("wireless", "phy80211") for e in entries)
    return False if uevent is not None else None


def default_route_iface(facts: NodeFacts) -> str | None:
    if facts.ip_route is None:
        raise NotCollected(facts.unreadable.get("ip-route.json", "`ip -j route` output was not collected"))
    for route in facts.ip_route:
        if route.get("dst") == "default" and route.get("dev"):
            return str(route["dev"])
    return None


def lan_subnets(facts: NodeFacts) -> list[Net]:
    """Global IPv4 subnets on the node's physical-looking interfaces."""
    nets: list[Net] = []
    for iface in interfaces(facts).values():
        if VIRTUAL_IFACE.match(iface.name):
            continue
        nets.extend(a.network for a in iface.addresses if a.version == 4 and not a.is_link_local)
    return nets
