"""How the CNI plugins' Go code reads a JSON config, so a check refuses exactly what they refuse.

The plugins decode the config with `encoding/json` into typed structs: a string where an int is
expected, or `1400.0` for an int, fails the whole ADD with `failed to load netconf: json: cannot
unmarshal ...`; `null` is always accepted (the zero value). Addresses go through Go's `net`
parsers (`net.ParseCIDR`, `net.ParseIP`, `net.ParseMAC`). Facts: read from
containernetworking/plugins and checked against Debian's plugins 1.1.1 by the corpus tests
(tests/corpus/). Pure functions, no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Go kinds a config key may be decoded into, and how a JSON value is checked against each.
_GO_KINDS: dict[str, str] = {
    "string": "a string", "int": "an integer", "uint": "a non-negative integer", "bool": "true or false",
    "object": "a JSON object", "list": "a JSON list", "string-list": "a list of strings",
    "bool-map": "an object of true/false values", "string-map": "an object of strings",
}
_MAC_COLON = re.compile(r"^[0-9a-fA-F]{2}([:-])[0-9a-fA-F]{2}(\1[0-9a-fA-F]{2}){4}$")
_MAC_DOT = re.compile(r"^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def fits(value: Any, kind: str) -> bool:
    """True when Go's json.Unmarshal accepts `value` for a field of this kind."""
    if value is None:
        return True
    if kind in ("string", "int", "uint", "bool", "object", "list"):
        return _scalar_fits(value, kind)
    if kind == "string-list":
        return isinstance(value, list) and all(x is None or isinstance(x, str) for x in value)
    inner = bool if kind == "bool-map" else str
    return isinstance(value, dict) and all(x is None or isinstance(x, inner) for x in value.values())


def _scalar_fits(value: Any, kind: str) -> bool:
    if kind == "int":
        return _is_int(value)
    if kind == "uint":
        return _is_int(value) and value >= 0
    expected = {"string": str, "bool": bool, "object": dict, "list": list}[kind]
    return isinstance(value, expected)


def type_errors(obj: Mapping[str, Any], schema: Mapping[str, str], where: str) -> list[str]:
    """A sentence per key whose JSON value Go cannot decode into the plugin's field type."""
    out = []
    for key, kind in schema.items():
        if key in obj and not fits(obj[key], kind):
            out.append(f"{where}\"{key}\" must be {_GO_KINDS[kind]}, not {_json_kind(obj[key])} "
                       "(`failed to load netconf: json: cannot unmarshal ...`)")
    return out


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, int):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return "a list" if isinstance(value, list) else "an object" if isinstance(value, dict) else "null"


def parse_cidr(text: Any) -> tuple[IPAddress, IPNetwork] | None:
    """Go's net.ParseCIDR: an address with a prefix length; None when Go refuses it."""
    if not isinstance(text, str) or not re.fullmatch(r"[0-9a-fA-F.:]+/[0-9]{1,3}", text):
        return None
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        return None
    return iface.ip, iface.network


def parse_ip(text: Any) -> IPAddress | None:
    """Go's net.ParseIP (no prefix length, no zone); None when Go refuses it."""
    if not isinstance(text, str) or "/" in text or "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_mac(text: Any) -> bytes | None:
    """An Ethernet (6-octet) MAC in one of the forms Go's net.ParseMAC reads; None otherwise.
    Longer EUI-64/InfiniBand forms parse in Go but the kernel refuses them on an Ethernet link
    (`failed to create macvlan: invalid argument`), so they count as invalid here."""
    if not isinstance(text, str):
        return None
    if _MAC_COLON.match(text):
        return bytes(int(x, 16) for x in re.split("[:-]", text))
    if _MAC_DOT.match(text):
        digits = text.replace(".", "")
        return bytes(int(digits[i:i + 2], 16) for i in range(0, 12, 2))
    return None


def unicast_mac_problem(text: Any) -> str | None:
    """Why the kernel refuses this MAC for a new link (EADDRNOTAVAIL/EINVAL), or None."""
    mac = parse_mac(text)
    if mac is None:
        return f"{text!r} is not an Ethernet MAC address (`invalid MAC address`)"
    if mac[0] & 1:
        return f"{text} is a multicast MAC (`cannot assign requested address`)"
    if not any(mac):
        return f"{text} is the all-zero MAC (`cannot assign requested address`)"
    return None


def valid_ifname(name: str) -> bool:
    """The kernel's rule for a link name (dev_valid_name): 1-15 bytes, no '/', ':' or space."""
    return (0 < len(name.encode()) <= 15 and name not in (".", "..")
            and not any(c in name for c in "/: \t\n"))
