"""The one model of CNI network configs: conf vs conflist, plugin types, Multus configs and nesting,
and a NAD's config as a runtime hands it to the plugins (`NetConf`, for `multus-check node`).

Facts: multus-cni.md §2 (generated config, the nested-delegate rule) and §6 (macvlan keys). Pure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from multus_check.domain.gotypes import go_get

MULTUS_TYPES = ("multus", "multus-shim")
CNI_CONF_SUFFIXES = (".conf", ".conflist", ".json")
KNOWN_PLUGIN_TYPES = frozenset({
    "macvlan", "ipvlan", "bridge", "host-device", "vlan", "ptp", "tap", "dummy",
    "sbr", "tuning", "portmap", "bandwidth", "firewall", "vrf", "route-override", "sriov",
    "loopback", "flannel", "ovs", "static", "dhcp", "host-local", "whereabouts",
})
KNOWN_IPAM_TYPES = frozenset({"dhcp", "host-local", "static", "whereabouts"})
MACVLAN_MODES = frozenset({"", "bridge", "private", "vepa", "passthru"})


class ConfigError(ValueError):
    """A CNI config could not be parsed; the message is the cause."""


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    data = _json(text, what)
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must be a JSON object, not {type(data).__name__}")
    return data


def plugins_of(conf: dict[str, Any]) -> list[dict[str, Any]]:
    """The plugin entries of a conf (one) or conflist (its `plugins`)."""
    if isinstance(conf.get("plugins"), list):
        return [p for p in conf["plugins"] if isinstance(p, dict)]
    return [conf]


def plugin_types(conf: dict[str, Any]) -> list[str]:
    """Every plugin binary a config needs: each plugin `type` plus its `ipam.type`."""
    out: list[str] = []
    for plugin in plugins_of(conf):
        t = plugin.get("type")
        if isinstance(t, str) and t:
            out.append(t)
        ipam = plugin.get("ipam")
        if isinstance(ipam, dict) and isinstance(ipam.get("type"), str) and ipam["type"]:
            out.append(ipam["type"])
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class NetConf:
    """A network config as Multus hands it to a plugin: one plugin or a conflist."""

    raw: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.raw.get("name") or "multus-check-probe")

    @property
    def cni_version(self) -> str:
        return str(self.raw.get("cniVersion") or "0.3.1")

    @property
    def plugins(self) -> list[dict[str, Any]]:
        """Each plugin's config as it goes on stdin (name and cniVersion inherited from a list).

        A config with a `type` (in any capitalisation, as Go's structs read it) is one plugin even when
        it also carries a `plugins` list, as libcni decides."""
        entries = [self.raw] if plugin_type(self.raw) or not isinstance(self.raw.get("plugins"), list) else \
            self.raw["plugins"]
        return [{**p, "name": self.name, "cniVersion": self.cni_version} for p in entries if isinstance(p, dict)]

    @property
    def main(self) -> dict[str, Any]:
        """The first plugin, its `type` under that name however it was spelled."""
        return {**self.plugins[0], "type": plugin_type(self.plugins[0])} if self.plugins else {}

    @property
    def ipam(self) -> dict[str, Any]:
        ipam = go_get(self.main, "ipam")
        if not isinstance(ipam, dict):
            return {}
        return {**ipam, **{k: go_get(ipam, k) for k in ("type", "daemonSocketPath") if go_get(ipam, k) is not None}}

    @property
    def master(self) -> str | None:
        value = go_get(self.main, "master")
        return str(value) if value else None

    def binaries(self) -> list[str]:
        """Every plugin type this config makes the runtime exec: main plugins and their IPAM."""
        names: list[str] = []
        for p in self.plugins:
            ipam = go_get(p, "ipam")
            for t in (plugin_type(p), plugin_type(ipam) if isinstance(ipam, dict) else None):
                if t and t not in names:
                    names.append(t)
        return names


def plugin_type(plugin: dict[str, Any]) -> str:
    """The plugin's `type` as Go's struct reads it (`"Type"` too); "" when it has none."""
    value = go_get(plugin, "type")
    return value if isinstance(value, str) else ""


def parse_netconf(text: str, where: str) -> NetConf:
    """The NAD's `spec.config` (or a file with it); ConfigError (a ValueError) with a reason when unusable."""
    data = _json(text, where)
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must hold a JSON object (a CNI network config)")
    conf = NetConf(data)
    if not conf.plugins or not all(plugin_type(p) for p in conf.plugins):
        raise ConfigError(f"{where} has no plugin \"type\"; it is not a CNI network config")
    return conf


def is_flannel(conf: dict[str, Any]) -> bool:
    return any(p.get("type") == "flannel" for p in plugins_of(conf))


@dataclass(frozen=True)
class MultusConfig:
    """The parts of a 00-multus.conf(list) the checks need."""

    mode: str  # thin | thick
    cni_version: str
    kubeconfig: str | None
    bin_dir: str | None
    delegates: list[dict[str, Any]] = field(default_factory=list)
    cluster_network: str | None = None  # thick: path of the master file inside the daemon
    nesting_depth: int = 0
    conf_dir: str | None = None  # `confDir`: where NADs without spec.config are looked up

    @property
    def default_delegate(self) -> dict[str, Any] | None:
        return self.delegates[0] if self.delegates else None


def parse_multus_config(text: str, what: str) -> MultusConfig:
    conf = parse_json_object(text, what)
    entry = next((p for p in plugins_of(conf) if p.get("type") in MULTUS_TYPES), None)
    if entry is None:
        raise ConfigError(f"{what} has no plugin of type multus or multus-shim")
    delegates = [d for d in entry.get("delegates") or [] if isinstance(d, dict)]
    return MultusConfig(
        mode="thick" if entry.get("type") == "multus-shim" else "thin",
        cni_version=str(conf.get("cniVersion", "")),
        kubeconfig=entry.get("kubeconfig") if isinstance(entry.get("kubeconfig"), str) else None,
        bin_dir=entry.get("binDir") if isinstance(entry.get("binDir"), str) else None,
        delegates=delegates,
        cluster_network=entry.get("clusterNetwork") if isinstance(entry.get("clusterNetwork"), str) else None,
        nesting_depth=nesting_depth(entry),
        conf_dir=entry.get("confDir") if isinstance(entry.get("confDir"), str) else None,
    )


def _is_multus_like(obj: dict[str, Any]) -> bool:
    if obj.get("type") in MULTUS_TYPES or obj.get("name") == "multus-cni-network" or "delegates" in obj:
        return True
    return any(p.get("type") in MULTUS_TYPES or "delegates" in p for p in plugins_of(obj) if p is not obj)


def nesting_depth(entry: dict[str, Any]) -> int:
    """How many Multus configs are nested inside this Multus entry's delegates (0 = healthy)."""
    depth = 0
    level: dict[str, Any] | None = entry
    while level is not None:
        inner = next(
            (d for d in level.get("delegates") or [] if isinstance(d, dict) and _is_multus_like(d)), None
        )
        if inner is None:
            break
        depth += 1
        level = next((p for p in plugins_of(inner) if "delegates" in p), inner)
    return depth
