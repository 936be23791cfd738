"""Names, subnets and the on-disk state of a lab, so several labs live side by side and a lab
left behind by a crashed run can still be found and removed.

Touches only the lab's state directory (default /run/multus-check/lab/<name>/).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from multus_check.errors import UsageError

STATE_ROOT = Path(os.environ.get("MULTUS_CHECK_LAB_DIR", "/run/multus-check/lab"))
#: overridable so that separate checkouts can run their lab tests side by side without touching each other
NS_PREFIX = os.environ.get("MULTUS_CHECK_LAB_NS_PREFIX", "mcl-")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,11}$")
MASTER, ROUTER_IF = "lan0", "rtr0"
FAULTS = ("dhcp-daemon", "plugin", "master", "dhcp-server", "multicast", "ipv6", "thread-routes", "ipv6-multicast")
#: the CNI dhcp daemon's own flags: short, so a missing DHCP server fails in seconds, not 3.5 min
DHCP_DAEMON_TIMEOUT, DHCP_DAEMON_RESENDMAX = "1s", "1s"
SERVICES = (("Lab Test Service", "_testsvc._tcp", 4242, "lab=1"), ("Lab Web UI", "_http._tcp", 8080, "path=/"))
SSDP_USN = "uuid:6d756c74-7573-2d63-6865-636b2d6c6162::upnp:rootdevice"
#: the IPv6 side (matter-thread-ipv6.md): router <-> Thread namespace, and the Matter node behind it
THREAD_ROUTER_IF, THREAD_NODE_IF = "thr0", "wpan0"
MATTER_PORT = 5540
#: what the NAD's `tuning` step sets so that net1 installs the RIO routes to Thread meshes
THREAD_SYSCTLS = {"net.ipv6.conf.IFNAME.accept_ra": "1", "net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": "64"}


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise UsageError(f"lab name {name!r}: use 1-12 lowercase letters, digits or '-' (it names namespaces)")
    return name


@dataclass
class LabState:
    """Everything `lab down` needs to remove a lab: its namespaces and the processes it started."""

    name: str
    subnet: str
    pids: dict[str, dict[str, int]] = field(default_factory=dict)  # role -> {"pid", "starttime"}
    breaks: list[str] = field(default_factory=list)

    @property
    def dir(self) -> Path:
        return STATE_ROOT / self.name

    @property
    def router_ns(self) -> str:
        return f"{NS_PREFIX}{self.name}-router"

    @property
    def node_ns(self) -> str:
        return f"{NS_PREFIX}{self.name}-node"

    @property
    def pod_ns_prefix(self) -> str:
        """Throwaway pod namespaces made by probes against this lab start with this."""
        return f"{NS_PREFIX}{self.name}-pod"

    @property
    def thread_ns(self) -> str:
        """The Thread mesh behind the border router (the router namespace), with the Matter node."""
        return f"{NS_PREFIX}{self.name}-thread"

    @property
    def namespaces(self) -> tuple[str, ...]:
        return self.router_ns, self.node_ns, self.thread_ns

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    @property
    def router_ip(self) -> str:
        return str(self.network.network_address + 1)

    @property
    def dhcp_range(self) -> tuple[str, str]:
        base = self.network.network_address
        return str(base + 100), str(base + 150)

    @property
    def _octet(self) -> int:
        """The third octet of the IPv4 LAN: it tells the labs' IPv6 prefixes apart too."""
        return self.network.network_address.packed[2]

    @property
    def lan6_prefix(self) -> ipaddress.IPv6Network:
        """The LAN's ULA /64, advertised for SLAAC (a Thread border router's own on-link prefix)."""
        return ipaddress.IPv6Network(f"fd6d:636c:61{self._octet:02x}::/64")

    @property
    def thread_prefix(self) -> ipaddress.IPv6Network:
        """The Thread mesh (OMR) prefix, announced on the LAN as a Route Information Option."""
        return ipaddress.IPv6Network(f"fd74:6872:64{self._octet:02x}::/64")

    @property
    def router_ip6(self) -> str:
        return str(self.lan6_prefix.network_address + 1)

    @property
    def thread_router_ip6(self) -> str:
        return str(self.thread_prefix.network_address + 1)

    @property
    def matter_node_ip6(self) -> str:
        return str(self.thread_prefix.network_address + 0x5540)

    @property
    def cni_bin(self) -> Path:
        return self.dir / "cni-bin"

    @property
    def dhcp_socket(self) -> Path:
        return self.dir / "dhcp.sock"

    @property
    def nad_config(self) -> Path:
        return self.dir / "nad.json"

    def nad(self) -> dict[str, Any]:
        """macvlan + dhcp, then `tuning` with what Thread needs; the faults `thread-routes` (no tuning)
        and `ipv6` (tuning disables IPv6 on the interface) change it."""
        macvlan = {"type": "macvlan", "master": MASTER, "mode": "bridge",
                   "ipam": {"type": "dhcp", "daemonSocketPath": str(self.dhcp_socket)}}
        sysctl = {} if "thread-routes" in self.breaks else dict(THREAD_SYSCTLS)
        if "ipv6" in self.breaks:
            sysctl["net.ipv6.conf.IFNAME.disable_ipv6"] = "1"
        head = {"cniVersion": "0.3.1", "name": f"lab-{self.name}"}
        if not sysctl:
            return {**head, **macvlan}
        return {**head, "plugins": [macvlan, {"type": "tuning", "sysctl": sysctl}]}

    def write_nad(self) -> None:
        self.nad_config.write_text(json.dumps(self.nad(), indent=1) + "\n")

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / "lab.json.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=1) + "\n")
        tmp.replace(self.dir / "lab.json")


def load(name: str) -> LabState | None:
    path = STATE_ROOT / check_name(name) / "lab.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is unreadable ({exc}); remove the lab's namespaces by hand") from exc
    return LabState(str(data["name"]), str(data["subnet"]), dict(data.get("pids") or {}),
                    list(data.get("breaks") or []))


def known_labs() -> list[str]:
    if not STATE_ROOT.is_dir():
        return []
    return sorted(p.name for p in STATE_ROOT.iterdir() if (p / "lab.json").exists())


def pick_subnet(requested: str | None) -> str:
    """The requested subnet, or the first 192.168.77-126.0/24 no other lab uses."""
    used = set()
    for other in known_labs():
        state = load(other)
        if state:
            used.add(ipaddress.IPv4Network(state.subnet))
    if requested:
        try:
            net = ipaddress.IPv4Network(requested)
        except ValueError as exc:
            raise UsageError(f"--subnet {requested!r} is not an IPv4 network ({exc})") from exc
        if net.prefixlen != 24:
            raise UsageError(f"--subnet {requested}: the lab LAN is a /24 (router .1, DHCP pool .100-.150 with /24 "
                             "leases); pass one, e.g. 192.168.77.0/24")
        if any(net.overlaps(u) for u in used):
            raise UsageError(f"--subnet {requested} overlaps another lab's subnet")
        return str(net)
    for third in range(77, 127):
        net = ipaddress.IPv4Network(f"192.168.{third}.0/24")
        if net not in used:
            return str(net)
    raise UsageError("every lab subnet 192.168.77-126.0/24 is in use; take labs down first")
