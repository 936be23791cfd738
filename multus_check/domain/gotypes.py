"""How the CNI plugins' Go code reads a JSON config, so a check refuses exactly what they refuse.

The plugins decode the config with `encoding/json` into typed structs: a string where an int is
expected, or `1400.0` for an int, fails the whole ADD with `failed to load netconf: json: cannot
unmarshal ...`; `null` is always accepted (the zero value). Addresses go through Go's `net`
parsers (`net.ParseCIDR`, `net.ParseIP`, `net.ParseMAC`). Facts: read from
containernetworking/plugins and checked against Debian's plugins 1.1.1 by the corpus tests
(tests/corpus/). Pure functions, no I/O.

Keys are matched as `encoding/json` matches them: a struct field takes a key with its exact name,
else the first field whose name folds alike (`"Master"`, `"MTU"` and `"maſter"` all set `master`).
Before a plugin runs, libcni re-encodes its config from a Go map (`InjectConf` adds name and
cniVersion), and Go writes map keys in byte order, so among spellings of one field the plugin
decodes them in sorted order and the last wins (`"master"` over `"Master"`); a value of the wrong
type in any spelling fails the ADD. `decode` gives the config as the plugin's structs see it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

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


_INT64 = (-(1 << 63), (1 << 63) - 1)
_UINT64 = (0, (1 << 64) - 1)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and _INT64[0] <= value <= _INT64[1]


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
        return isinstance(value, int) and not isinstance(value, bool) and _UINT64[0] <= value <= _UINT64[1]
    expected = {"string": str, "bool": bool, "object": dict, "list": list}[kind]
    return isinstance(value, expected)


def type_errors(obj: Mapping[str, Any], schema: Mapping[str, str], where: str) -> list[str]:
    """A sentence per key (in any spelling Go matches to a field) whose JSON value Go cannot decode
    into the plugin's field type."""
    out = []
    for key in obj:
        field = go_field(schema, key)
        if field is not None and not fits(obj[key], schema[field]):
            out.append(_type_error(where, key, field, schema[field], obj[key]))
    return out


def _type_error(where: str, key: str, field: str, kind: str, value: Any) -> str:
    read = f" (Go reads it as \"{field}\")" if key != field else ""
    got = _json_kind(value)
    bad = [(k, v) for k, v in value.items() if v is not None and not isinstance(v, str)] \
        if kind == "string-map" and isinstance(value, dict) else []
    if bad:  # name the value Go trips on
        got = f"an object whose {bad[0][0]!r} is {_json_kind(bad[0][1])}"
    return (f"{where}\"{key}\"{read} must be {_GO_KINDS[kind]}, not {got} "
            "(`failed to load netconf: json: cannot unmarshal ...`)")


# --- how a plugin's structs see the config -------------------------------------------------------


@dataclass(frozen=True)
class ListOf:
    """A Go slice of `item`."""

    item: Kind


#: a Go struct: its JSON field names (declaration order) and their kinds
Struct = Mapping[str, "Kind"]
#: what a field decodes into: a scalar kind of _GO_KINDS, a nested struct, or a slice
Kind = Union[str, Struct, ListOf]  # noqa: UP007  (a runtime alias with a forward reference)


def fold(key: str) -> str:
    """Go's folded form of a JSON key (encoding/json foldName): two keys match the same struct field
    when their folded forms are equal. ASCII folds to upper case; other runes to the smallest of
    their case orbit (so the long s `ſ` matches `s` and the Kelvin sign matches `k`)."""
    return "".join(c.upper() if c < "\x80" else _fold_rune(c) for c in key)


def _fold_rune(c: str) -> str:
    orbit = {c, c.upper(), c.lower(), c.upper().lower(), c.lower().upper()}
    return min(x for x in orbit if len(x) == 1)


def go_field(struct: Mapping[str, Any], key: str) -> str | None:
    """The struct field a JSON key sets: the field of exactly that name, else the first that folds alike."""
    if key in struct:
        return key
    folded = fold(key)
    return next((name for name in struct if fold(name) == folded), None)


def go_get(obj: Mapping[str, Any], field: str) -> Any:
    """The value a scalar struct field named `field` gets from `obj`: its last spelling in libcni's
    order, None when absent."""
    value = None
    for key in libcni_order(obj):
        if fold(key) == fold(field):
            value = obj[key]
    return value


def libcni_order(obj: Mapping[str, Any]) -> list[str]:
    """The keys in the order the plugin reads them: libcni re-encodes the config from a Go map,
    whose keys Go writes sorted by their UTF-8 bytes (the same order as by code point)."""
    return sorted(obj)


def decode(value: Any, kind: Kind, where: str = "") -> tuple[Any, list[str]]:
    """`value` as the plugin's Go types see it, and a sentence per value Go cannot decode.

    A struct becomes a dict keyed by its field names (keys Go ignores are kept as written);
    spellings of one field are applied in libcni's order, the last winning, nested structs merging
    into what an earlier spelling set, as Go decodes into an existing value."""
    if isinstance(kind, str):
        return value, [] if fits(value, kind) else [_type_error(_parent(where), _leaf(where), _leaf(where), kind, value)]
    if value is None:
        return None, []
    if isinstance(kind, ListOf):
        if not isinstance(value, list):
            return None, [f"\"{where}\" must be a JSON list, not {_json_kind(value)} (`cannot unmarshal ...`)"]
        items = [decode(item, kind.item, f"{where}[{i}]") for i, item in enumerate(value)]
        return [v for v, _ in items], [e for _, errors in items for e in errors]
    if not isinstance(value, dict):
        return None, [f"\"{where}\" must be a JSON object, not {_json_kind(value)} (`cannot unmarshal ...`)"]
    return _struct(value, kind, where)


def _struct(obj: Mapping[str, Any], struct: Struct, where: str) -> tuple[dict[str, Any], list[str]]:
    out: dict[str, Any] = {}
    errors: list[str] = []
    for key in libcni_order(obj):
        field = go_field(struct, key)
        if field is None:
            out.setdefault(key, obj[key])  # Go ignores it; kept for whoever reads the view
            continue
        path = f"{where}.{key}" if where else key
        if obj[key] is None and _null_keeps(struct[field]):
            out.setdefault(field, None)
            continue
        kind = struct[field]
        if isinstance(kind, str) and not fits(obj[key], kind):
            errors.append(_type_error(f"{where}." if where else "", key, field, kind, obj[key]))
            continue
        value, found = decode(obj[key], kind, path)
        errors += found
        out[field] = _merge(out.get(field), value, kind)
    return out, errors


def _null_keeps(kind: Kind) -> bool:
    """JSON null sets a Go map, slice or pointer to nil, and leaves a string, number, bool or struct as it was."""
    return kind in ("string", "int", "uint", "bool") or not isinstance(kind, str | ListOf)


def _merge(old: Any, new: Any, kind: Kind) -> Any:
    """Decoding a second spelling into the same field: structs and maps keep what it does not set."""
    if isinstance(old, dict) and isinstance(new, dict) and not isinstance(kind, ListOf):
        if isinstance(kind, str):
            return {**old, **new}
        return {k: _merge(old.get(k), v, kind.get(k, "object")) for k, v in new.items()} | \
            {k: v for k, v in old.items() if k not in new}
    return new


def _parent(where: str) -> str:
    return where.rpartition(".")[0] + "." if "." in where else ""


def _leaf(where: str) -> str:
    return where.rpartition(".")[2]


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
