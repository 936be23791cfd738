"""What Multus and the reference CNI plugins accept in a NetworkAttachmentDefinition's config.

Why it exists: a NAD passes only if the real plugin accepts it. The rules here are the
plugins' own (containernetworking/plugins `plugins/main/{macvlan,ipvlan,vlan,bridge,host-device}`,
read at the versions Debian and upstream ship), plus what Multus and libcni require before a
plugin runs (`type` or `plugins`, NAD-client's name injection). Debian's 1.1.1 binaries run
every corpus config in tests/corpus/ to prove the two agree. Node-dependent facts (does the
master exist, its MTU) are returned as `LinkNeed`s for nad.master to judge per node.

Pure functions of the parsed config; no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from multus_check.domain.gotypes import (
    Struct,
    decode,
    fold,
    go_get,
    parse_mac,
    type_errors,
    unicast_mac_problem,
    valid_ifname,
)
from multus_check.domain.ipamrules import DNS_STRUCT, Problem, ipam_problems, ipam_struct

#: every cniVersion some reference-plugin release accepts; anything else is refused by all
KNOWN_CNI_VERSIONS = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
#: what the interface and IPAM plugins of every release since v1.0.1 accept (issue #668 output,
#: Debian 1.1.1 `CNI protocol versions supported`); newer versions depend on the node's plugins
BASELINE_CNI_VERSIONS = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0")
MACVLAN_MODES = ("", "bridge", "private", "vepa", "passthru")
IPVLAN_MODES = ("", "l2", "l3", "l3s")
L2_CAPABLE = ("macvlan", "bridge", "host-device")  # ipam optional: an L2-only attachment
#: the kernel's smallest MTU for an Ethernet-type link (ETH_MIN_MTU); below it rtnetlink refuses the link
MIN_MTU = 68
#: containernetworking/cni types.NetConf, plus what the plugins add to every config they read
COMMON_STRUCT: Struct = {"cniVersion": "string", "name": "string", "type": "string", "capabilities": "bool-map",
                         "ipam": "object", "dns": DNS_STRUCT, "args": "object", "runtimeConfig": "object"}
PLUGIN_STRUCTS: dict[str, Struct] = {
    "macvlan": {"master": "string", "mode": "string", "mtu": "int", "mac": "string"},
    "ipvlan": {"master": "string", "mode": "string", "mtu": "int"},
    "vlan": {"master": "string", "vlanId": "int", "mtu": "int"},
    "bridge": {"bridge": "string", "isGateway": "bool", "isDefaultGateway": "bool", "forceAddress": "bool",
               "ipMasq": "bool", "mtu": "int", "hairpinMode": "bool", "promiscMode": "bool", "vlan": "int"},
    "host-device": {"device": "string", "hwaddr": "string", "kernelpath": "string", "pciBusID": "string"},
    # a chained plugin: its TuningConf refuses the whole entry when a sysctl value is not a string
    "tuning": {"dataDir": "string", "sysctl": "string-map", "mac": "string", "promisc": "bool", "mtu": "int",
               "allmulti": "bool"},
}


@dataclass(frozen=True)
class LinkNeed:
    """A host link one plugin of the NAD needs on every node where the pod may run."""

    plugin: str  # macvlan | ipvlan | vlan | host-device | bridge
    role: str  # master | device | hwaddr | kernelpath | pciBusID | bridge
    name: str | None  # None: the node's default-route interface
    mtu: int | None = None  # the attachment's MTU, when set
    own_mac: bool = False  # every attachment has its own MAC (macvlan): Wi-Fi drops those frames


def _single(conf: dict[str, Any]) -> bool:
    """Multus runs a config as one plugin when its `type` (any spelling Go matches) is set, else as a list."""
    value = go_get(conf, "type")
    return isinstance(value, str) and bool(value)


def nad_plugins(conf: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The plugin entries Multus runs for a config, in order, as written; None when Multus cannot tell
    (no type/plugins). libcni reads a list's `plugins`, `name` and `cniVersion` from a Go map, so
    only by those exact names."""
    if _single(conf):
        return [conf]
    plugins = conf.get("plugins")
    if isinstance(plugins, list) and plugins and all(isinstance(p, dict) for p in plugins):
        return list(plugins)
    return None


def plugin_view(plugin: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """One plugin entry as the plugin binary and its IPAM plugin decode it (domain/gotypes.decode): keys
    under their field names, the spelling Go reads winning; and a sentence per value Go cannot decode."""
    light, _ = decode(plugin, {"type": "string", "ipam": {"type": "string"}})
    ptype, ipam = light.get("type"), light.get("ipam")
    ipam_type = ipam.get("type") if isinstance(ipam, dict) else None
    struct = {**COMMON_STRUCT, **PLUGIN_STRUCTS.get(str(ptype), {}), "ipam": ipam_struct(ipam_type)}
    view, errors = decode(plugin, struct)
    return view, errors


def cni_version(conf: dict[str, Any]) -> str:
    """The cniVersion the plugins get ("" when missing; a plugin reads "" as 0.1.0): a list's exact
    `cniVersion` (libcni), a single plugin's as its struct decodes it."""
    value = go_get(conf, "cniVersion") if _single(conf) else conf.get("cniVersion")
    return value if isinstance(value, str) else ""


def binaries(conf: dict[str, Any]) -> list[str]:
    """Every plugin binary the config makes the runtime exec: each `type` and its `ipam.type`."""
    out: list[str] = []
    for plugin in nad_plugins(conf) or []:
        view, _ = plugin_view(plugin)
        for value in (view.get("type"), _ipam(view).get("type")):
            if isinstance(value, str) and value and value not in out:
                out.append(value)
    return out


def _ipam(plugin: dict[str, Any]) -> dict[str, Any]:
    ipam = plugin.get("ipam")
    return ipam if isinstance(ipam, dict) else {}


def config_problems(conf: dict[str, Any]) -> list[Problem]:
    """Everything in the config itself that makes Multus or a plugin refuse it, and doubts worth a warning."""
    structure = _structure(conf)
    if structure:
        return structure
    version = cni_version(conf)
    out: list[Problem] = []
    for index, plugin in enumerate(nad_plugins(conf) or []):
        out.extend(plugin_problems(plugin, index, version))
    return out


def _structure(conf: dict[str, Any]) -> list[Problem]:
    plugins = nad_plugins(conf)
    if plugins is None:
        return [Problem("fail", f"Multus cannot load it: {_why_no_plugins(conf)} (`delegate must have the 'type' or "
                                "'plugin' field`)")]
    out = [Problem("fail", m) for m in type_errors(conf, {"cniVersion": "string", "name": "string"}, "")]
    for i, plugin in enumerate(plugins):
        if not _single(plugin):
            out.append(Problem("fail", f"plugin {i} of \"plugins\" has no \"type\" (`missing 'type'`)"))
    version = conf.get("cniVersion")
    if isinstance(version, str) and version and version not in KNOWN_CNI_VERSIONS:
        out.append(Problem("fail", f"cniVersion {version!r} is not a CNI spec version any plugin accepts "
                                   f"(`incompatible CNI versions`; use one of {', '.join(BASELINE_CNI_VERSIONS)})"))
    return out


def _why_no_plugins(conf: dict[str, Any]) -> str:
    if isinstance(conf.get("plugins"), list):
        return "\"plugins\" is empty or holds a non-object"
    spelled = next((k for k in conf if k != "plugins" and fold(k) == fold("plugins")), None)
    if spelled is not None:
        return (f"it has no \"type\", and libcni reads a list's \"plugins\" by that exact name, not {spelled!r} "
                "(`no 'plugins' key`)")
    return "it has neither \"type\" nor \"plugins\""


def plugin_problems(plugin: dict[str, Any], index: int, version: str) -> list[Problem]:
    """Problems of one plugin entry (its keys' types, its own rules, its IPAM), judged on the entry as
    the plugin decodes it: `"MTU"` is its mtu, `"Type"` its type (plugin_view)."""
    # cniVersion and name were checked on the whole config; libcni overwrites them in list entries
    view, errors = plugin_view({k: v for k, v in plugin.items() if fold(k) not in (fold("cniVersion"), fold("name"))})
    if errors:
        return [Problem("fail", m) for m in errors]
    ptype = str(view.get("type"))
    rules = {"macvlan": _macvlan, "ipvlan": _ipvlan, "vlan": _vlan, "bridge": _bridge, "host-device": _host_device}
    out = rules[ptype](view, index) if ptype in rules else []
    out += _mtu(view, ptype)
    ipam_type = _ipam(view).get("type")
    if ptype in L2_CAPABLE and not ipam_type and (version or "0.1.0") in ("0.1.0", "0.2.0"):
        out.append(Problem("fail", f"an L2-only {ptype} (no ipam type) needs cniVersion 0.3.0 or later; with "
                                   f"{version or 'no cniVersion (read as 0.1.0)'} the result cannot be written "
                                   "(`cannot convert: no valid IP addresses`)"))
    if ipam_type:
        out.extend(ipam_problems(_ipam(view), version))
    return out


def _mtu(plugin: dict[str, Any], ptype: str) -> list[Problem]:
    """An MTU the kernel refuses for the new link; 0 (or none) keeps the default, and a negative value is
    never sent to the kernel (macvlan and vlan refuse it themselves, see their rules)."""
    mtu = plugin.get("mtu") or 0
    if ptype not in ("macvlan", "ipvlan", "vlan", "bridge") or not 0 < mtu < MIN_MTU:
        return []
    what = "make veth pair" if ptype == "bridge" else f"create {ptype}"
    return [Problem("fail", f"mtu {mtu} is below {MIN_MTU}, the smallest the kernel takes for an Ethernet link "
                            f"(`failed to {what}: invalid argument`)")]


def _macvlan(plugin: dict[str, Any], _index: int) -> list[Problem]:
    out = []
    if (plugin.get("mode") or "") not in MACVLAN_MODES:
        out.append(Problem("fail", f"macvlan mode {plugin['mode']!r} is not one of bridge, private, vepa, passthru "
                                   f"(lower case) (`unknown macvlan mode: \"{plugin['mode']}\"`)"))
    if (plugin.get("mtu") or 0) < 0:
        out.append(Problem("fail", f"mtu {plugin['mtu']} is negative (`invalid MTU`)"))
    if plugin.get("mac"):
        why = unicast_mac_problem(plugin["mac"])
        if why:
            out.append(Problem("fail", f"macvlan mac {why}"))
    return out


def _ipvlan(plugin: dict[str, Any], index: int) -> list[Problem]:
    out = []
    if (plugin.get("mode") or "") not in IPVLAN_MODES:
        out.append(Problem("fail", f"ipvlan mode {plugin['mode']!r} is not one of l2, l3, l3s (lower case) "
                                   f"(`unknown ipvlan mode: \"{plugin['mode']}\"`)"))
    if index == 0 and not _ipam(plugin).get("type"):
        out.append(Problem("fail", "ipvlan needs an \"ipam\" section with a \"type\" (unlike macvlan it has no "
                                   "L2-only mode; ADD fails with `no plugin name provided`)"))
    return out


def _vlan(plugin: dict[str, Any], _index: int) -> list[Problem]:
    out = []
    if not plugin.get("master"):
        out.append(Problem("fail", "vlan has no \"master\" (`\"master\" field is required. It specifies the host "
                                   "interface name to create the VLAN for`)"))
    vlan_id = plugin.get("vlanId") or 0
    if not 0 <= vlan_id <= 4094:
        out.append(Problem("fail", f"vlanId {vlan_id} is outside 0-4094 (`invalid VLAN ID`)"))
    elif vlan_id == 0:
        out.append(Problem("warn", "vlan has no \"vlanId\" (or 0): the plugin accepts it, but the link only "
                                   "priority-tags frames and joins no VLAN"))
    if (plugin.get("mtu") or 0) < 0:
        out.append(Problem("fail", f"mtu {plugin['mtu']} is negative (`invalid MTU`)"))
    if not _ipam(plugin).get("type"):
        out.append(Problem("fail", "vlan needs an \"ipam\" section with a \"type\" (`failed to execute IPAM "
                                   "delegate: no plugin name provided`)"))
    return out


def _bridge(plugin: dict[str, Any], _index: int) -> list[Problem]:
    out = []
    name = plugin.get("bridge")
    if name is not None and not valid_ifname(name):
        out.append(Problem("fail", f"bridge name {name!r} is not a valid link name (1-15 characters, no '/', ':' or "
                                   "space) (`failed to create bridge`)"))
    if not 0 <= (plugin.get("vlan") or 0) <= 4094:
        out.append(Problem("fail", f"bridge vlan {plugin['vlan']} is outside 0-4094 (`invalid VLAN ID`)"))
    if plugin.get("hairpinMode") and plugin.get("promiscMode"):
        out.append(Problem("fail", "bridge sets both hairpinMode and promiscMode (`cannot set hairpin mode and "
                                   "promiscuous mode at the same time`)"))
    return out


def _host_device(plugin: dict[str, Any], _index: int) -> list[Problem]:
    runtime = plugin.get("runtimeConfig") or {}
    keys = ("device", "hwaddr", "kernelpath", "pciBusID")
    if not any(plugin.get(k) for k in keys) and not runtime.get("deviceID"):
        return [Problem("fail", "host-device names none of device, hwaddr, kernelpath, pciBusID (`specify either "
                                "\"device\", \"hwaddr\", \"kernelpath\" or \"pciBusID\"`)")]
    if plugin.get("device"):
        return []
    if plugin.get("hwaddr") and parse_mac(plugin["hwaddr"]) is None:
        return [Problem("fail", f"host-device hwaddr {plugin['hwaddr']!r} is not a MAC address (`failed to parse MAC "
                                "address`)")]
    path = plugin.get("kernelpath")
    if path and not plugin.get("hwaddr") and not str(path).startswith("/sys/devices/"):
        return [Problem("fail", f"host-device kernelpath {path!r} must be absolute and begin with /sys/devices/")]
    return []


def link_needs(conf: dict[str, Any]) -> list[LinkNeed]:
    """The host links the NAD's plugins use (for configs without config_problems failures)."""
    out: list[LinkNeed] = []
    for index, entry in enumerate(nad_plugins(conf) or []):
        plugin, _ = plugin_view(entry)
        ptype = plugin.get("type")
        mtu = plugin.get("mtu") if isinstance(plugin.get("mtu"), int) and plugin.get("mtu") else None
        master = plugin.get("master") if isinstance(plugin.get("master"), str) and plugin.get("master") else None
        if ptype == "macvlan":
            out.append(LinkNeed("macvlan", "master", master, mtu, own_mac=True))
        elif ptype == "ipvlan" and (master or index == 0):
            out.append(LinkNeed("ipvlan", "master", master, mtu))
        elif ptype == "vlan" and master:
            out.append(LinkNeed("vlan", "master", master, mtu))
        elif ptype == "bridge":
            name = plugin.get("bridge")
            out.append(LinkNeed("bridge", "bridge", name if isinstance(name, str) else "cni0"))
        elif ptype == "host-device":
            out.extend(_device_need(plugin))
    return out


def _device_need(plugin: dict[str, Any]) -> list[LinkNeed]:
    for key in ("device", "hwaddr", "kernelpath", "pciBusID"):
        value = plugin.get(key)
        if isinstance(value, str) and value:
            return [LinkNeed("host-device", key, value)]
    return []
