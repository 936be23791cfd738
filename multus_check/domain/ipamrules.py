"""The IPAM sections the reference IPAM plugins (static, host-local, dhcp) accept, judged as they
judge them, so nad.config-valid fails exactly the IPAM configs that make a pod's ADD fail.

Facts (containernetworking/plugins `plugins/ipam/{static,host-local,dhcp}`, checked against
Debian's 1.1.1 binaries by tests/corpus/): static needs CIDR addresses and refuses two of one
family for cniVersion 0.1.0/0.2.0; host-local needs a range set, refuses subnets with host bits
or too small to allocate from, rangeStart/rangeEnd outside the subnet or reversed, mixed
families in a set and overlapping ranges; it accepts a gateway outside the subnet (the check
was removed on purpose, plugins PR #236). Pure functions, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from multus_check.domain.gotypes import IPAddress, IPNetwork, ListOf, Struct, parse_cidr, parse_ip

DNS_STRUCT: Struct = {"nameservers": "string-list", "domain": "string", "search": "string-list",
                      "options": "string-list"}
ROUTE_STRUCT: Struct = {"dst": "string", "gw": "string"}  # types.Route: net.IPNet and net.IP, read from strings
RANGE_STRUCT: Struct = {"rangeStart": "string", "rangeEnd": "string", "subnet": "string", "gateway": "string"}
#: each IPAM plugin's `ipam` struct (Go field names; `Name` and static's `Address` have no json tag)
IPAM_STRUCTS: dict[str, Struct] = {
    "static": {"Name": "string", "type": "string", "routes": ListOf(ROUTE_STRUCT),
               "addresses": ListOf({"address": "string", "gateway": "string", "Address": "object",
                                    "Version": "string"}),
               "dns": DNS_STRUCT},
    "host-local": {**RANGE_STRUCT, "Name": "string", "type": "string", "routes": ListOf(ROUTE_STRUCT),
                   "dataDir": "string", "resolvConf": "string", "ranges": ListOf(ListOf(RANGE_STRUCT))},
    "dhcp": {"type": "string", "daemonSocketPath": "string", "request": "list", "provide": "list"},
}
OLD_VERSIONS = ("0.1.0", "0.2.0")  # CNI results of these versions hold one address per family
#: a resolvConf every Linux node has; any other file multus-check cannot see on the node
SYSTEM_RESOLV_CONF = "/etc/resolv.conf"


@dataclass(frozen=True)
class Problem:
    """One reason a plugin would refuse (`fail`) or a doubt worth showing (`warn`)."""

    level: str  # "fail" | "warn"
    message: str


def ipam_struct(kind: Any) -> Struct:
    """The `ipam` struct the IPAM plugin of this type decodes (an unknown type: only its `type`)."""
    return IPAM_STRUCTS.get(kind, {"type": "string"}) if isinstance(kind, str) else {"type": "string"}


def ipam_problems(ipam: dict[str, Any], cni_version: str) -> list[Problem]:
    """Problems of one plugin's `ipam` section, decoded with ipam_struct (so free of type errors;
    the IPAM plugin also sees the top-level cniVersion)."""
    kind = ipam.get("type")
    if kind == "static":
        return _static(ipam, cni_version)
    if kind == "host-local":
        return _host_local(ipam, cni_version)
    return []


def _static(ipam: dict[str, Any], cni_version: str) -> list[Problem]:
    out = [Problem("fail", m) for m in _routes(ipam.get("routes") or [])]
    out += [Problem("fail", m) for m in _duplicates(ipam.get("addresses") or [])]
    families: list[int] = []
    for entry in ipam.get("addresses") or []:
        address = entry.get("address") if isinstance(entry, dict) else None
        parsed = parse_cidr(address)
        if parsed is None:
            out.append(Problem("fail", f"static address {address!r} has no prefix length (`the 'address' field is "
                                       f"expected to be in CIDR notation, got: '{address}'`)"))
            continue
        families.append(parsed[0].version)
        gateway = entry.get("gateway")
        if gateway is not None and parse_ip(gateway) is None:
            out.append(Problem("fail", f"static gateway {gateway!r} is not an IP address (`invalid IP address`)"))
    if not ipam.get("addresses"):
        out.append(Problem("warn", "static IPAM lists no addresses: each pod must request them (annotation "
                                   "`ips`), or ADD fails with `IPAM plugin returned missing IP config`"))
    nets = [parsed[1] for parsed in (parse_cidr(e.get("address")) for e in ipam.get("addresses") or []
                                      if isinstance(e, dict)) if parsed]
    gateways = [parse_ip(e.get("gateway")) for e in ipam.get("addresses") or [] if isinstance(e, dict)]
    if nets and not any(p.level == "fail" for p in out):
        out.extend(Problem("fail", m) for m in unreachable_routes(ipam.get("routes") or [], nets, gateways))
    if cni_version in OLD_VERSIONS and max(families.count(4), families.count(6)) > 1:
        out.append(Problem("fail", f"cniVersion {cni_version} allows one static address per family (`CNI version "
                                   f"{cni_version} does not support more than 1 address per family`)"))
    return out


def _duplicates(entries: list[Any]) -> list[str]:
    """Addresses the kernel refuses to add twice: IPv4 the same address and prefix, IPv6 the same address."""
    seen: set[tuple[Any, ...]] = set()
    out = []
    for entry in entries:
        parsed = parse_cidr(entry.get("address") if isinstance(entry, dict) else None)
        if parsed is None:
            continue
        key = (parsed[0],) if parsed[0].version == 6 else (parsed[0], parsed[1].prefixlen)
        if key in seen:
            out.append(f"static address {entry['address']} is listed twice (`failed to add IP addr ... file exists`)")
        seen.add(key)
    return out


def _routes(routes: Any) -> list[str]:
    if not isinstance(routes, list):
        return ["ipam \"routes\" must be a list"]
    out = []
    for route in routes:
        if not isinstance(route, dict):
            out.append("an ipam route is not an object")
            continue
        if parse_cidr(route.get("dst")) is None:
            out.append(f"route dst {route.get('dst')!r} needs a prefix length (`invalid CIDR address`)")
        if route.get("gw") is not None and parse_ip(route.get("gw")) is None:
            out.append(f"route gw {route.get('gw')!r} is not an IP address (`invalid IP address`)")
    return out


def unreachable_routes(routes: list[Any], nets: list[IPNetwork], gateways: list[IPAddress | None]) -> list[str]:
    """Routes the plugin cannot add in the pod (ipam.ConfigureIface): a gateway (the route's own, else
    the first address gateway of its family) must be on-link, inside one of the pod's subnets."""
    default: dict[int, IPAddress] = {}
    for gw in gateways:
        if gw is not None:
            default.setdefault(gw.version, gw)
    out = []
    for route in routes:
        dst = parse_cidr(route.get("dst"))
        if dst is None:
            continue
        gw = parse_ip(route.get("gw")) or default.get(dst[1].version)
        if dst[1].version == 4 and dst[0] != dst[1].network_address:
            out.append(f"route dst {route['dst']} has host bits set (the kernel refuses it: `invalid argument`)")
        elif gw is not None and not gw.is_link_local and not any(gw in n for n in nets if n.version == gw.version):
            out.append(f"route {route['dst']} goes via {gw}, which is outside the pod's subnets "
                       f"{', '.join(str(n) for n in nets)} (`failed to add route ... network is unreachable`)")
    return out


@dataclass(frozen=True)
class _Range:
    subnet: IPNetwork
    start: IPAddress
    end: IPAddress
    gateway: IPAddress | None = None  # host-local's: the range's own, else the subnet's first address

    @property
    def free(self) -> int:
        """How many addresses host-local can hand out: the range less the gateway, which it skips."""
        size = int(self.end) - int(self.start) + 1
        inside = self.gateway is not None and int(self.start) <= int(self.gateway) <= int(self.end)
        return size - (1 if inside else 0)


def _host_local(ipam: dict[str, Any], cni_version: str) -> list[Problem]:
    out = [Problem("fail", m) for m in _routes(ipam.get("routes") or [])] + _resolv_conf(ipam.get("resolvConf"))
    raw_sets: list[Any] = list(ipam.get("ranges") or [])
    if ipam.get("subnet") is not None:
        raw_sets.insert(0, [{k: ipam.get(k) for k in ("subnet", "rangeStart", "rangeEnd", "gateway")}])
    if not raw_sets:
        return [*out, Problem("fail", "host-local IPAM has neither \"ranges\" nor \"subnet\" (`no IP ranges specified`)")]
    sets: list[list[_Range]] = []
    for i, raw in enumerate(raw_sets):
        ranges, problems = _range_set(raw, i)
        out.extend(problems)
        sets.append(ranges)
    if any(p.level == "fail" for p in out):
        return out
    firsts = [rs[0] for rs in sets if rs]
    gateways = [_gateway(raw) for raw in raw_sets]
    routes = [Problem("fail", m) for m in unreachable_routes(ipam.get("routes") or [], [r.subnet for r in firsts],
                                                             [g for g in gateways if g is not None])]
    return out + routes + _across_sets(sets, cni_version)


def _resolv_conf(path: Any) -> list[Problem]:
    """host-local reads resolvConf on the node at every ADD and fails when it is missing; snapshots
    do not hold that file, so anything but the system resolver's file is a doubt, not a verdict."""
    if not path or path == SYSTEM_RESOLV_CONF:
        return []
    where = "" if str(path).startswith("/") else " (a relative path: relative to the container runtime's directory)"
    return [Problem("warn", f"host-local reads resolvConf {path}{where} on the node at every ADD, and fails when it "
                            f"is missing (`open {path}: no such file or directory`); multus-check cannot see it: make "
                            "sure it exists on every node")]


def _gateway(raw: Any) -> IPAddress | None:
    """The gateway host-local reports for a range set: its first range's `gateway`, else the subnet's .1."""
    first = raw[0] if isinstance(raw, list) and raw and isinstance(raw[0], dict) else {}
    parsed = parse_cidr(first.get("subnet"))
    if parsed is None:
        return None
    return parse_ip(first.get("gateway")) or parsed[1].network_address + 1


def _range_set(raw: Any, index: int) -> tuple[list[_Range], list[Problem]]:
    if not isinstance(raw, list) or not raw:
        return [], [Problem("fail", f"host-local range set {index} is empty or not a list (`empty range set`)")]
    ranges, out = [], []
    for item in raw:
        rng, problems = _one_range(item if isinstance(item, dict) else {}, index)
        out.extend(problems)
        if rng is not None:
            ranges.append(rng)
    if len({r.subnet.version for r in ranges}) > 1:
        out.append(Problem("fail", f"host-local range set {index} mixes IPv4 and IPv6 (`mixed address families`)"))
    elif _overlap(ranges):
        out.append(Problem("fail", f"host-local range set {index} has overlapping subnets (`subnets ... overlap`)"))
    elif ranges and len(ranges) == len(raw) and all(r.free <= 0 for r in ranges):
        out.append(Problem("fail", f"host-local range set {index} holds no address to hand out: its only address is "
                                   "the gateway, which host-local never gives a pod (`no IP addresses available in "
                                   "range set`)"))
    return ranges, out


def _one_range(item: dict[str, Any], index: int) -> tuple[_Range | None, list[Problem]]:
    parsed = parse_cidr(item.get("subnet"))
    where = f"host-local range set {index}"
    if parsed is None:
        return None, [Problem("fail", f"{where}: subnet {item.get('subnet')!r} is not a CIDR (`invalid CIDR address`)")]
    address, net = parsed
    if address != net.network_address:
        return None, [Problem("fail", f"{where}: subnet {item['subnet']} has host bits set (`Network has host bits "
                                      f"set. ... the network address is {net.network_address}`)")]
    if net.prefixlen > net.max_prefixlen - 2:
        return None, [Problem("fail", f"{where}: {net} is too small to allocate from (`too small to allocate from`)")]
    start = _bound(item.get("rangeStart"), net, net.network_address + 1)
    end = _bound(item.get("rangeEnd"), net, net.broadcast_address - (1 if net.version == 4 else 0))
    out = [Problem("fail", f"{where}: {key} {item.get(key)} is not inside {net} (`{key} ... not in network`)")
           for key, value in (("rangeStart", start), ("rangeEnd", end)) if value is None]
    if start is not None and end is not None and int(start) > int(end):
        out.append(Problem("fail", f"{where}: rangeStart {start} comes after rangeEnd {end}"))
    gateway = item.get("gateway")
    if gateway is not None:
        gw = parse_ip(gateway)
        if gw is None:
            out.append(Problem("fail", f"{where}: gateway {gateway!r} is not an IP address"))
        elif gw not in net:
            out.append(Problem("warn", f"{where}: gateway {gw} is outside {net}; the plugin accepts it, but the pod "
                                       "reaches it only with an on-link route"))
    if out or start is None or end is None:
        return None, out
    return _Range(net, start, end, parse_ip(gateway) or net.network_address + 1), out


def _bound(value: Any, net: IPNetwork, default: IPAddress) -> IPAddress | None:
    if value is None:
        return default
    ip = parse_ip(value)
    return ip if ip is not None and ip.version == net.version and ip in net else None


def _overlap(ranges: list[_Range]) -> bool:
    return any(a.subnet.version == b.subnet.version and int(a.start) <= int(b.end) and int(b.start) <= int(a.end)
               for i, a in enumerate(ranges) for b in ranges[i + 1:])


def _across_sets(sets: list[list[_Range]], cni_version: str) -> list[Problem]:
    out = []
    firsts = [s[0] for s in sets if s]
    for i, a in enumerate(sets):
        for j in range(i + 1, len(sets)):
            if any(_overlap([ra, rb]) for ra in a for rb in sets[j]):
                out.append(Problem("fail", f"host-local range set {i} overlaps with {j}"))
    per_family = max(sum(1 for r in firsts if r.subnet.version == v) for v in (4, 6))
    if per_family > 1 and not _at_least(cni_version, "0.3.0"):
        out.append(Problem("fail", f"cniVersion {cni_version or '(none)'} allows one address per family, but "
                                   "host-local has several range sets of one family (`does not support more than 1 "
                                   "address per family`)"))
    return out


def _at_least(version: str, minimum: str) -> bool:
    try:
        return tuple(int(x) for x in version.split(".")) >= tuple(int(x) for x in minimum.split("."))
    except ValueError:
        return False

