"""Whether a node has the host links a NAD's plugins use: masters, host devices, bridges.

Facts (containernetworking/plugins main plugins, Debian 1.1.1 run by tests/corpus/): macvlan and
vlan look the master up and refuse an MTU above its own (`Link not found`, `invalid MTU %d, must
be [0, master MTU(%d)]`); ipvlan refuses a missing master (`failed to lookup master`); an
omitted macvlan/ipvlan master is the interface of the first default route (`no default route
interface found`); host-device needs the named device or a link with that MAC (`failed to find
host device`), and the kernel never moves loopback, bridge, bond or Open vSwitch devices to
another namespace (NETIF_F_NETNS_LOCAL: `failed to move link invalid argument`); bridge refuses a
name taken by a link that is not a bridge (`already exists but is not a bridge`). A DOWN master is
accepted by every plugin, but no frame passes (dhcp then fails with `no more tries`), and Wi-Fi
drops frames for macvlan's extra MACs (multus-cni.md §6): those two fail here on purpose. Pure
functions; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from multus_check.domain.gotypes import parse_mac
from multus_check.domain.nadrules import LinkNeed
from multus_check.domain.node import Interface

#: device types the kernel keeps in their namespace (NETIF_F_NETNS_LOCAL), by their uevent DEVTYPE
NETNS_LOCAL_DEVTYPES = ("bridge", "bond", "openvswitch")
MISSING_MASTER_ERROR = {"macvlan": "Link not found", "vlan": "Link not found",
                        "ipvlan": "failed to lookup master \"{name}\": Link not found"}


@dataclass(frozen=True)
class LinkVerdict:
    level: str  # pass | warn | fail
    kind: str  # ok | no-default-route | missing | down | wireless | mtu | device-missing | device-netns-local | default-device | not-bridge | unknown
    message: str
    link: str | None = None


def judge_need(need: LinkNeed, links: dict[str, Interface], default_iface: str | None) -> LinkVerdict:
    """How the node's links meet one need of the NAD."""
    if need.role == "master":
        return _master(need, links, default_iface)
    if need.role in ("device", "hwaddr"):
        return _device(need, links, default_iface)
    if need.role == "bridge":
        return _bridge(need, links)
    return LinkVerdict("warn", "unknown", f"host-device {need.role} {need.name} was not verified: the snapshot does not hold "
                               "/sys/devices or /sys/bus/pci")


def _master(need: LinkNeed, links: dict[str, Interface], default_iface: str | None) -> LinkVerdict:
    name, via = need.name, ""
    if name is None:
        name, via = default_iface, " (master omitted: the default-route interface)"
        if name is None:
            return LinkVerdict("fail", "no-default-route", f"{need.plugin} omits master and the node has no default route "
                                       "(`no default route interface found`)")
    link = links.get(name)
    if link is None:
        error = MISSING_MASTER_ERROR[need.plugin].format(name=name)
        return LinkVerdict("fail", "missing", f"{need.plugin} master {name!r} does not exist: pods fail with `{error}`", name)
    if not link.up or link.operstate in ("DOWN", "LOWERLAYERDOWN"):
        return LinkVerdict("fail", "down", f"{need.plugin} master {name}{via} is {'DOWN' if not link.up else link.operstate}: "
                                   "the plugin creates the link but no frame passes (dhcp fails with `no more "
                                   "tries` after ~35 s)", name)
    if need.own_mac and link.wireless:
        return LinkVerdict("fail", "wireless", f"{need.plugin} master {name} is a wireless NIC; most Wi-Fi drivers drop frames "
                                   "for the extra macvlan MACs, so DHCP is never answered", name)
    if need.mtu and link.mtu and need.mtu > link.mtu:
        level = "warn" if need.plugin == "ipvlan" else "fail"
        return LinkVerdict(level, "mtu", f"{need.plugin} mtu {need.mtu} is above master {name}'s MTU {link.mtu} "
                                  f"(`invalid MTU {need.mtu}, must be [0, master MTU({link.mtu})]`)", name)
    unknown = " (whether it is wireless was not collected)" if need.own_mac and link.wireless is None else ""
    mtu = f", MTU {link.mtu}" if link.mtu else ""
    return LinkVerdict("pass", "ok", f"{need.plugin} master {name}{via} is up{mtu}{unknown}", name)


def _device(need: LinkNeed, links: dict[str, Interface], default_iface: str | None) -> LinkVerdict:
    if need.role == "device":
        link = links.get(str(need.name))
    else:
        wanted = parse_mac(need.name)
        link = next((i for i in links.values() if i.mac and parse_mac(i.mac) == wanted), None)
    what = f"host-device {need.role} {need.name}"
    if link is None:
        error = "Link not found" if need.role == "device" else "failed to find physical interface"
        return LinkVerdict("fail", "device-missing", f"{what} matches no link on the node (`failed to find host device: {error}`)")
    if link.name == "lo" or link.devtype in NETNS_LOCAL_DEVTYPES:
        kind = "the loopback device" if link.name == "lo" else f"a {link.devtype} device"
        return LinkVerdict("fail", "device-netns-local", f"{what} is {link.name}, {kind}, which the kernel never moves into "
                                   "another namespace (`failed to move link invalid argument`)", link.name)
    if link.name == default_iface:
        return LinkVerdict("warn", "default-device", f"{what} is {link.name}, the node's default-route interface: the plugin moves it "
                                   "into the pod and the node loses it", link.name)
    return LinkVerdict("pass", "ok", f"{what} is {link.name}; the plugin moves it into the pod (one pod per node)",
                       link.name)


def _bridge(need: LinkNeed, links: dict[str, Interface]) -> LinkVerdict:
    name = str(need.name)
    link = links.get(name)
    if link is None:
        return LinkVerdict("pass", "ok", f"bridge {name} does not exist yet; the plugin creates it")
    if link.devtype is None:
        return LinkVerdict("warn", "unknown", f"{name} exists, but whether it is a bridge was not collected (its uevent)", name)
    if link.devtype != "bridge":
        return LinkVerdict("fail", "not-bridge", f"{name} exists and is not a bridge (`failed to create bridge \"{name}\": "
                                   f"\"{name}\" already exists but is not a bridge`)", name)
    return LinkVerdict("pass", "ok", f"bridge {name} exists", name)
