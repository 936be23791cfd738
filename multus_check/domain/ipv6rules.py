"""What Matter and Thread need from a NAD's chain on net1, and the config that gives it.

Why it exists: a pod's net1 lives in a fresh network namespace, where `accept_ra_rt_info_max_plen`
is 0, so the Route Information Options a Thread border router announces are ignored and Thread
devices stay unreachable while SLAAC works (matter-thread-ipv6.md "What a pod's net1 gets"). Only
the CNI `tuning` plugin, chained after the interface plugin, can set it inside the pod. These
pure functions read the sysctls a chain sets, judge them, and build the conflist that sets what
is missing (nad.ipv6-ready judges with them, the nad-ipv6-ready fix writes with them).

Facts settled by tests/corpus/test_tuning_ipv6_facts.py with Debian's tuning binary and the
kernel: tuning replaces `IFNAME` in a key by the interface name and accepts `/` as separator;
a literal `net1` key sets net1; `net.ipv6.conf.all.accept_ra_rt_info_max_plen` does not reach an
existing net1 (nor does `default`, which only seeds interfaces created later); a RIO of length L
is accepted when L <= max_plen, so any value >= 64 takes a Thread /64; an RA with a router lifetime
installs `default via fe80::... proto ra metric 1024` unless `accept_ra_defrtr` is 0, which leaves
the RIO routes alone; the sysctl file reads a value in C's base 0 ("064" is 52, "0x40" is 64). No I/O.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from multus_check.domain.gotypes import decode, fold, go_get, libcni_order
from multus_check.domain.nadrules import nad_plugins, plugin_view

#: interface plugins whose net1 is on the LAN, where RAs and Thread RIOs arrive
LAN_PLUGINS = ("macvlan", "ipvlan", "vlan", "bridge", "host-device")
THREAD_PREFIX_LEN = 64
ACCEPT_RA = "accept_ra"
MAX_PLEN = "accept_ra_rt_info_max_plen"
MIN_PLEN = "accept_ra_rt_info_min_plen"
DEFRTR = "accept_ra_defrtr"
DISABLE = "disable_ipv6"
FORWARDING = "forwarding"
#: sysctls whose `all` value the kernel pushes to every interface (the others are per interface)
PROPAGATED_BY_ALL = (DISABLE, FORWARDING)
_MULTUS_IFNAME = re.compile(r"net\d+")
#: what the tuning binary decodes of its entry (TuningConf): Go matches keys in any capitalisation
_TUNING_VIEW = {"type": "string", "sysctl": "string-map"}


def key(name: str) -> str:
    """The tuning sysctl key the fix writes for one net.ipv6.conf setting of the attachment."""
    return f"net.ipv6.conf.IFNAME.{name}"


@dataclass(frozen=True)
class Setting:
    """One sysctl a tuning plugin sets for the attachment's interface."""

    name: str  # accept_ra, accept_ra_rt_info_max_plen, ...
    value: str
    written: str  # the key as the NAD writes it
    plugin: int  # index of the tuning plugin in the chain


@dataclass(frozen=True)
class Readiness:
    """The verdict on one NAD config: does not apply (`skip`), or its problems and what it sets."""

    skip: str | None = None
    main: str = ""
    problems: tuple[str, ...] = ()
    settings: dict[str, Setting] = field(default_factory=dict)
    wanted: dict[str, str] = field(default_factory=dict)  # sysctl name -> the value the fix writes

    @property
    def ready(self) -> bool:
        return self.skip is None and not self.problems


def _split(raw: str) -> list[str]:
    return raw.split("/") if "/" in raw else raw.split(".")


def applies_to_attachment(raw: str) -> str | None:
    """The net.ipv6.conf sysctl name this key sets on the attachment's interface, else None.

    `IFNAME` (substituted by tuning) and Multus's own interface names (`net1`, `net2`, ...; the
    pod's interface when it requests no other name) count; `all` counts only for the settings the
    kernel propagates from it; `default` never does (net1 exists before tuning runs)."""
    parts = _split(raw)
    if len(parts) != 5 or parts[:3] != ["net", "ipv6", "conf"]:
        return None
    iface, name = parts[3], parts[4]
    if iface == "IFNAME" or _MULTUS_IFNAME.fullmatch(iface):
        return name
    if iface == "all" and name in PROPAGATED_BY_ALL:
        return name
    return None


def main_index(plugins: list[dict[str, Any]]) -> int | None:
    """The index of the interface plugin (the first plugin, as libcni runs the chain), if it is a LAN one."""
    return 0 if plugins and go_get(plugins[0], "type") in LAN_PLUGINS else None


def _tuning_table(plugin: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """A tuning entry's sysctl map as the binary decodes it (every spelling of `sysctl`, merged in libcni's
    order), and why the binary refuses the entry; (None, []) when the entry is not tuning."""
    view, errors = decode(plugin, _TUNING_VIEW)
    if view.get("type") != "tuning":
        return None, []
    table = view.get("sysctl")
    return (table if isinstance(table, dict) else {}), errors


def sysctls(plugins: list[dict[str, Any]], main: int) -> dict[str, Setting]:
    """The net.ipv6.conf settings of the attachment that tuning plugins after the main plugin make (last wins)."""
    out: dict[str, Setting] = {}
    for index, plugin in enumerate(plugins[main + 1:], start=main + 1):
        table, errors = _tuning_table(plugin)
        if table is None or errors:
            continue
        for raw, value in table.items():
            name = applies_to_attachment(str(raw))
            if name is not None:
                out[name] = Setting(name, str(value).strip(), str(raw), index)
    return out


_KERNEL_INT = re.compile(r"\s*(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\s*")


def kernel_int(value: str) -> int | None:
    """The integer the kernel's sysctl file makes of a value tuning writes (proc_dointvec: base 0 as C's
    strtoul, so "064" is octal 52 and "0x40" is 64; an optional "-", no "+"); None when it refuses it."""
    found = _KERNEL_INT.fullmatch(value)
    if found is None:
        return None
    digits = found.group(2)
    base = 16 if digits[:2].lower() == "0x" else 8 if len(digits) > 1 and digits[0] == "0" else 10
    number = int(digits, base)
    return -number if found.group(1) else number


def readiness(conf: dict[str, Any], ipv6_services: bool = False) -> Readiness:
    """Whether the chain gives net1 what Thread needs; `ipv6_services`: the cluster has IPv6 Services, so
    a default route from the LAN's RAs competes with eth0's and `accept_ra_defrtr` must be 0 as well."""
    plugins = nad_plugins(conf)
    if plugins is None:
        return Readiness(skip="its config names no plugin (see nad.config-valid)")
    main = main_index(plugins)
    view, _ = plugin_view(plugins[0])
    if main is None:
        return Readiness(skip=f"its interface plugin {view.get('type')!r} is not one that puts net1 on the LAN "
                              f"({', '.join(LAN_PLUGINS)})")
    ptype = str(view.get("type"))
    if ptype == "ipvlan" and str(view.get("mode") or "l2") != "l2":
        return Readiness(skip=f"ipvlan mode {view.get('mode')} passes no multicast, so neither RAs nor "
                              "Matter's mDNS reach net1")
    refused = [f"its tuning plugin {i} is refused by the tuning binary: {errors[0]} (see nad.config-valid)"
               for i, plugin in enumerate(plugins[main + 1:], start=main + 1) if (errors := _tuning_table(plugin)[1])]
    if refused:
        return Readiness(skip=refused[0])
    found = sysctls(plugins, main)
    problems, wanted = _judge(found, ipv6_services)
    return Readiness(None, ptype, tuple(problems), found, wanted)


def _judge(found: dict[str, Setting], ipv6_services: bool) -> tuple[list[str], dict[str, str]]:
    problems: list[str] = []
    wanted: dict[str, str] = {}
    disable = found.get(DISABLE)
    if disable is not None and kernel_int(disable.value) != 0:
        problems.append(f"IPv6 is disabled on net1 ({disable.written}={disable.value})")
        wanted[DISABLE] = "0"
    forwarding = found.get(FORWARDING)
    needed_ra = 2 if forwarding is not None and (kernel_int(forwarding.value) or 0) >= 1 else 1
    ra = found.get(ACCEPT_RA)
    ra_value = kernel_int(ra.value) if ra is not None else None
    if ra is None:
        problems.append(f"{ACCEPT_RA} is not set (a fresh namespace starts at 1, but a node with "
                        "net.core.devconf_inherit_init_net=1 hands its own default to the pod)")
    elif ra_value is None or ra_value < needed_ra:
        why = " because forwarding is on" if needed_ra == 2 else ""
        problems.append(f"{ra.written}={ra.value}: Router Advertisements are ignored (needs {needed_ra}{why})")
    if ra is None or ra_value is None or ra_value < needed_ra:
        wanted[ACCEPT_RA] = str(needed_ra)
    problems += _plen_problems(found, wanted)
    defrtr = found.get(DEFRTR)
    if ipv6_services and (defrtr is None or kernel_int(defrtr.value) != 0):
        problems.append(f"{DEFRTR} is {'not set (the kernel default 1)' if defrtr is None else defrtr.value}: the "
                        "LAN router's RAs add an IPv6 default route on net1 that competes with eth0's for IPv6 "
                        "Service traffic")
        wanted[DEFRTR] = "0"
    return problems, wanted


def _plen_problems(found: dict[str, Setting], wanted: dict[str, str]) -> list[str]:
    out: list[str] = []
    plen = found.get(MAX_PLEN)
    plen_value = kernel_int(plen.value) if plen is not None else None
    if plen is None:
        out.append(f"{MAX_PLEN} is not set (a fresh namespace starts at 0, so the Thread border router's "
                   f"/{THREAD_PREFIX_LEN} route is ignored)")
    elif plen_value is None:
        out.append(f"{plen.written}={plen.value!r} is no integer the kernel takes, so tuning fails to set it")
    elif plen_value < THREAD_PREFIX_LEN:
        shown = f" (the kernel reads {plen.value!r} as {plen_value})" if str(plen_value) != plen.value else ""
        out.append(f"{plen.written}={plen.value}{shown} is below {THREAD_PREFIX_LEN}, so the Thread border router's "
                   f"/{THREAD_PREFIX_LEN} route is ignored")
    if plen is None or plen_value is None or plen_value < THREAD_PREFIX_LEN:
        wanted[MAX_PLEN] = str(THREAD_PREFIX_LEN)
    low = found.get(MIN_PLEN)
    if low is not None and (kernel_int(low.value) or 0) > THREAD_PREFIX_LEN:
        out.append(f"{low.written}={low.value} is above {THREAD_PREFIX_LEN}, so a /{THREAD_PREFIX_LEN} route is "
                   "ignored")
        wanted[MIN_PLEN] = "0"
    return out


def ready_config(conf: dict[str, Any], verdict: Readiness) -> tuple[dict[str, Any], list[str]]:
    """The config with `verdict.wanted` set by a tuning plugin after the main one, and what was changed.

    A single-plugin config becomes a conflist (`cniVersion` and `name` move to the top, every other key
    stays in the plugin, in its order); a tuning plugin already after the main one keeps its other
    sysctls and gets the wanted ones (a key it already has for that setting keeps its spelling)."""
    out = copy.deepcopy(conf)
    what: list[str] = []
    if not isinstance(out.get("plugins"), list):
        out, note = _as_conflist(out)
        what.append(note)
    plugins: list[dict[str, Any]] = out["plugins"]
    index = _last_tuning(plugins)
    if index is None:
        plugins.append({"type": "tuning", "sysctl": {}})
        index = len(plugins) - 1
        what.append("a tuning plugin after the " + str(go_get(plugins[0], "type")) + " plugin")
    table = _writable_table(plugins[index])
    for name, value in verdict.wanted.items():
        have = verdict.settings.get(name)
        spelled = have.written if have is not None and have.plugin == index else key(name)
        what.append(f"{spelled}={value}")
        table[spelled] = value
    return out, what


def _as_conflist(conf: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A single config as a list; libcni reads a list's cniVersion and name by their exact keys, while the
    single config's struct took them in any capitalisation, so every spelling moves up as the value Go read."""
    version, name = go_get(conf, "cniVersion"), go_get(conf, "name")
    for raw in [k for k in conf if fold(k) in (fold("cniVersion"), fold("name"))]:
        del conf[raw]
    top: dict[str, Any] = {}
    note = "turned into a conflist (a single-plugin config cannot chain tuning)"
    if isinstance(version, str) and version and version not in ("0.1.0", "0.2.0"):
        top["cniVersion"] = version
    else:
        top["cniVersion"] = "0.3.1"
        note += f"; cniVersion {version or '(none, read as 0.1.0)'} -> 0.3.1 (chaining needs 0.3.0 or later)"
    if name is not None:
        top["name"] = name
    top["plugins"] = [conf]
    return top, note


def _last_tuning(plugins: list[dict[str, Any]]) -> int | None:
    """The index of the last tuning plugin after the main one (its `type` in any capitalisation)."""
    return next((i for i in range(len(plugins) - 1, 0, -1) if go_get(plugins[i], "type") == "tuning"), None)


def _writable_table(plugin: dict[str, Any]) -> dict[str, Any]:
    """The sysctl object the binary reads last (Go merges every spelling of `sysctl` in libcni's order), so a
    key written there wins; a plugin without one gets `sysctl`."""
    spellings = [k for k in libcni_order(plugin) if fold(k) == fold("sysctl") and isinstance(plugin[k], dict)]
    if not spellings:
        plugin["sysctl"] = {}
        spellings = ["sysctl"]
    table: dict[str, Any] = plugin[spellings[-1]]
    return table


def ra_default_route(conf: dict[str, Any]) -> str | None:
    """How the chain lets the LAN router's RAs install an IPv6 default route on net1, or None when it cannot
    (not a LAN attachment, IPv6 disabled, RAs ignored, or accept_ra_defrtr 0)."""
    verdict = readiness(conf)
    if verdict.skip:
        return None
    s = verdict.settings
    off = [name for name, value in ((DISABLE, 1), (DEFRTR, 0)) if name in s and kernel_int(s[name].value) == value]
    forwarding = FORWARDING in s and (kernel_int(s[FORWARDING].value) or 0) >= 1
    ra = kernel_int(s[ACCEPT_RA].value) if ACCEPT_RA in s else 1
    if off or ra is None or ra < (2 if forwarding else 1):
        return None
    how = f"{s[ACCEPT_RA].written}={s[ACCEPT_RA].value}" if ACCEPT_RA in s else "accept_ra at the kernel default 1"
    return f"accepts Router Advertisements ({how}) and does not set {key(DEFRTR)}=0"
