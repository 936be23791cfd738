"""Derived facts about the whole cluster, computed once per snapshot.

Every function takes a Snapshot and returns plain data with the evidence of where it came
from, so checks can say "which source was used". Results are cached on `snapshot.cache`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from multus_check.domain import k3s, k8s
from multus_check.domain.cniconf import ConfigError, parse_json_object
from multus_check.domain.ipnet import parse_net, try_net
from multus_check.snapshot.data import Snapshot

T = TypeVar("T")


def cached(snap: Snapshot, key: str, compute: Callable[[Snapshot], T]) -> T:
    if key not in snap.cache:
        snap.cache[key] = compute(snap)
    value: T = snap.cache[key]
    return value


# --- k3s --------------------------------------------------------------------------------


@dataclass(frozen=True)
class K3sInfo:
    is_k3s: bool
    server_flags: dict[str, str]  # from control-plane nodes' k3s.io/node-args
    server_args_seen: bool
    flannel_backend: str  # "vxlan" (default), "none", ...

    @property
    def embedded_flannel_disabled(self) -> bool:
        return self.flannel_backend == "none"


def k3s_info(snap: Snapshot) -> K3sInfo:
    return cached(snap, "k3s", _k3s_info)


def _k3s_info(snap: Snapshot) -> K3sInfo:
    nodes = snap.kind("Node")
    is_k3s = any(k3s.is_k3s_node(n) for n in nodes)
    flags: dict[str, str] = {}
    seen = False
    for node in nodes:
        raw = k8s.annotations_of(node).get(k3s.NODE_ARGS_ANNOTATION)
        if raw is None:
            continue
        role, node_flags = k3s.parse_node_args(raw)
        if k3s.is_server(node, role):
            seen = True
            flags.update(node_flags)
    return K3sInfo(is_k3s, flags, seen, flags.get("--flannel-backend", "vxlan"))


# --- DaemonSets ---------------------------------------------------------------------------


def _first_ds(snap: Snapshot, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    found = [ds for ds in snap.kind("DaemonSet") if match(ds)]
    return found[0] if found else None


def _is_flannel_ds(ds: dict[str, Any]) -> bool:
    lab = k8s.labels(ds)
    return lab.get("app") == "flannel" or lab.get("k8s-app") == "flannel" or k8s.name(ds).startswith("kube-flannel")


def flannel_daemonset(snap: Snapshot) -> dict[str, Any] | None:
    return _first_ds(snap, _is_flannel_ds)


def flannel_daemonsets(snap: Snapshot) -> list[dict[str, Any]]:
    """Every flannel DaemonSet: older manifests have one per architecture (kube-flannel-ds-amd64, ...)."""
    return [ds for ds in snap.kind("DaemonSet") if _is_flannel_ds(ds)]


def multus_daemonset(snap: Snapshot) -> dict[str, Any] | None:
    def is_multus(ds: dict[str, Any]) -> bool:
        lab = k8s.labels(ds)
        if lab.get("app") == "multus" or lab.get("name") == "multus":
            return True
        return "multus" in k8s.name(ds) and "dhcp" not in k8s.name(ds)

    return _first_ds(snap, is_multus)


_VERSION_RE = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class MultusDeployment:
    daemonset: dict[str, Any]
    image: str
    tag: str
    version: tuple[int, int, int] | None
    mode: str  # thin | thick | v3
    args: list[str]
    host_paths: dict[str, str]  # container mount path -> host path

    def flag(self, name: str) -> str | None:
        for arg in self.args:
            if arg == name:
                return "true"
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
        return None

    @property
    def version_text(self) -> str:
        return "v" + ".".join(map(str, self.version)) if self.version else self.tag or "unknown"


def multus_deployment(snap: Snapshot) -> MultusDeployment | None:
    return cached(snap, "multus-deployment", _multus_deployment)


def _multus_deployment(snap: Snapshot) -> MultusDeployment | None:
    ds = multus_daemonset(snap)
    if ds is None:
        return None
    conts = k8s.containers(ds)
    main = next((c for c in conts if "multus" in str(c.get("image", ""))), conts[0] if conts else {})
    image = str(main.get("image", ""))
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    m = _VERSION_RE.search(tag)
    version = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    command = [str(x) for x in main.get("command") or []]
    args = [str(x) for x in main.get("args") or []]
    joined = " ".join(command + args)
    if "multus-daemon" in joined or tag.endswith("-thick"):
        mode = "thick"
    elif "/entrypoint.sh" in joined or (version is not None and version[0] < 4):
        mode = "v3"
    else:
        mode = "thin"
    return MultusDeployment(ds, image, tag, version, mode, command + args, _host_paths(ds, main))


def _host_paths(ds: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    volumes = {
        v.get("name"): (v.get("hostPath") or {}).get("path")
        for v in k8s.pod_spec(ds).get("volumes") or [] if isinstance(v, dict)
    }
    out: dict[str, str] = {}
    for mount in container.get("volumeMounts") or []:
        host = volumes.get(mount.get("name")) if isinstance(mount, dict) else None
        if host:
            out[str(mount.get("mountPath", "")).rstrip("/")] = str(host).rstrip("/") or "/"
    return out


def daemonset_ready(ds: dict[str, Any]) -> tuple[int, int]:
    """(ready, desired) from DaemonSet status."""
    st = k8s.status(ds)
    return int(st.get("numberReady") or 0), int(st.get("desiredNumberScheduled") or 0)


# --- CIDRs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sourced:
    """A value together with where it came from; `problem` is set when it could not be read."""

    value: Any
    source: str
    problem: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def service_cidrs(snap: Snapshot) -> Sourced:
    """Service CIDRs: ServiceCIDR objects, then live discovery, then k3s node-args, then defaults."""
    return cached(snap, "service-cidrs", _service_cidrs)


def _service_cidrs(snap: Snapshot) -> Sourced:
    objs = snap.kind("ServiceCIDR")
    cidrs = [c for o in objs for c in (k8s.spec(o).get("cidrs") or [])]
    nets = [n for n in (try_net(c) for c in cidrs) if n is not None]
    if nets:
        return Sourced(nets, "ServiceCIDR objects (" + ", ".join(k8s.name(o) for o in objs) + ")")
    discovered = snap.facts.get("serviceCIDR")
    if isinstance(discovered, dict) and discovered.get("cidrs"):
        nets = [n for n in (try_net(c) for c in discovered["cidrs"]) if n is not None]
        if nets:
            return Sourced(nets, str(discovered.get("source", "live discovery")))
    info = k3s_info(snap)
    if info.is_k3s and "--service-cidr" in info.server_flags:
        nets = [n for n in (try_net(c) for c in info.server_flags["--service-cidr"].split(",")) if n]
        if nets:
            return Sourced(nets, "k3s server node-args --service-cidr")
    kubeadm = _kubeadm_networking(snap).get("serviceSubnet")
    if kubeadm:
        nets = [n for n in (try_net(c) for c in str(kubeadm).split(",")) if n]
        if nets:
            return Sourced(nets, "kubeadm-config ConfigMap networking.serviceSubnet")
    if info.is_k3s:
        return Sourced([parse_net(k3s.DEFAULT_SERVICE_CIDR)], "k3s default (no --service-cidr in node-args)")
    return Sourced([parse_net("10.96.0.0/12")], "kubeadm default (assumed: no ServiceCIDR, node-args or kubeadm-config)")


def ipv6_services(snap: Snapshot) -> Sourced:
    """The cluster's IPv6 Service CIDRs and every sign that it serves IPv6 (dual stack): IPv6 entries of
    the Service CIDRs, k3s --service-cidr, kube-apiserver --service-cluster-ip-range, Services with an
    IPv6 clusterIP, flannel's IPv6Network. `value`: the IPv6 Service CIDRs found (may be empty while
    `extra["evidence"]` is not); `source`: "" when nothing shows IPv6."""
    return cached(snap, "ipv6-services", _ipv6_services)


def _ipv6_services(snap: Snapshot) -> Sourced:
    nets: list[Any] = []
    evidence: list[str] = []

    def add(found: list[Any], where: str) -> None:
        new = [n for n in found if n is not None and n.version == 6]
        if new:
            nets.extend(n for n in new if n not in nets)
            evidence.append(f"{where}: {', '.join(map(str, new))}")

    svc = service_cidrs(snap)
    add(list(svc.value), svc.source)
    info = k3s_info(snap)
    add([try_net(c) for c in info.server_flags.get("--service-cidr", "").split(",") if c],
        "k3s server node-args --service-cidr")
    for pod in snap.kind("Pod"):
        for container in k8s.containers(pod):
            args = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
            ranges = [a.split("=", 1)[1] for a in args if a.startswith("--service-cluster-ip-range=")]
            add([try_net(c) for r in ranges for c in r.split(",")], f"pod {k8s.ref(pod)} --service-cluster-ip-range")
    ips = [ip for o in snap.kind("Service") for ip in (k8s.spec(o).get("clusterIPs") or []) if ":" in str(ip)]
    if ips:
        evidence.append(f"Services with an IPv6 clusterIP: {', '.join(map(str, ips[:3]))}")
    flannel6 = flannel_network(snap).extra.get("ipv6_network")
    if flannel6 is not None and flannel_network(snap).extra.get("enable_ipv6"):
        evidence.append(f"flannel IPv6Network {flannel6} (EnableIPv6)")
    return Sourced(nets, "; ".join(dict.fromkeys(evidence)), extra={"evidence": list(dict.fromkeys(evidence))})


def _kubeadm_networking(snap: Snapshot) -> dict[str, Any]:
    cm = snap.get("ConfigMap", "kube-system", "kubeadm-config")
    text = str((cm or {}).get("data", {}).get("ClusterConfiguration", ""))
    out: dict[str, Any] = {}
    for key in ("serviceSubnet", "podSubnet"):
        m = re.search(rf"^\s*{key}:\s*\"?([0-9a-fA-F.:/,]+)", text, re.MULTILINE)
        if m:
            out[key] = m.group(1)
    return out


def cluster_dns_ip(snap: Snapshot) -> Sourced:
    for svc in snap.kind("Service"):
        if k8s.name(svc) == "kube-dns" or k8s.labels(svc).get("k8s-app") == "kube-dns":
            ip = k8s.spec(svc).get("clusterIP")
            if ip and ip != "None":
                return Sourced(str(ip), f"Service {k8s.ref(svc)}")
    info = k3s_info(snap)
    if info.is_k3s and "--cluster-dns" in info.server_flags:
        return Sourced(info.server_flags["--cluster-dns"], "k3s server node-args --cluster-dns")
    nets = service_cidrs(snap).value
    return Sourced(str(nets[0].network_address + 10), "Service CIDR + 10 (default rule)")


def kubernetes_service_ip(snap: Snapshot) -> str | None:
    svc = snap.get("Service", "default", "kubernetes")
    ip = k8s.spec(svc).get("clusterIP") if svc else None
    return str(ip) if ip else None


# --- flannel --------------------------------------------------------------------------------


def flannel_configmap(snap: Snapshot) -> dict[str, Any] | None:
    for ns in ("kube-flannel", "kube-system"):
        cm = snap.get("ConfigMap", ns, "kube-flannel-cfg")
        if cm is not None:
            return cm
    return None


def flannel_network(snap: Snapshot) -> Sourced:
    """flannel's `Network`: kube-flannel-cfg net-conf.json, else the nodes' files (k3s embedded).
    `extra` holds the IPv6 side: `ipv6_network` (a Net or None), `ipv6_raw` and `enable_ipv6`; an
    IPv6-only flannel has no Network and no problem (`ipv6_only`)."""
    return cached(snap, "flannel-network", _flannel_network)


def _flannel_network(snap: Snapshot) -> Sourced:
    cm = flannel_configmap(snap)
    if cm is not None:
        where = f"ConfigMap {k8s.ref(cm)} net-conf.json"
        text = (cm.get("data") or {}).get("net-conf.json")
        if text is None:
            return Sourced(None, where, f"{where} is missing (flanneld exits with `failed to read net conf`)")
        return _parse_net_conf(str(text), where)
    for name, facts in sorted(snap.nodes.items()):
        if facts is None:
            continue
        text = facts.file(k3s.FLANNEL_NET_CONF)
        if text is not None:
            return _parse_net_conf(text, f"node {name}: {k3s.FLANNEL_NET_CONF}")
        env = facts.file("/run/flannel/subnet.env")
        if env is not None:
            m = re.search(r"^FLANNEL_NETWORK=(\S+)", env, re.MULTILINE)
            net = try_net(m.group(1)) if m else None
            m6 = re.search(r"^FLANNEL_IPV6_NETWORK=(\S+)", env, re.MULTILINE)
            if net is not None:
                return Sourced(net, f"node {name}: /run/flannel/subnet.env FLANNEL_NETWORK",
                               extra=_ipv6_side(m6.group(1) if m6 else None, m6 is not None))
            if m is None and m6 is not None and try_net(m6.group(1)) is not None:  # flannel writes no FLANNEL_NETWORK
                return Sourced(None, f"node {name}: /run/flannel/subnet.env FLANNEL_IPV6_NETWORK",
                               extra={"ipv4": False, **_ipv6_side(m6.group(1), True)})
    return Sourced(None, "", "no kube-flannel-cfg ConfigMap and no flannel net-conf.json or subnet.env on any node")


def _parse_net_conf(text: str, where: str) -> Sourced:
    try:
        conf = parse_json_object(text, where)
    except ConfigError as exc:
        return Sourced(None, where, f"{exc} (flanneld exits with `error parsing subnet config`)")
    value = next((v for k, v in conf.items() if k.lower() == "network"), None)
    if next((v for k, v in conf.items() if k.lower() == "enableipv4"), True) is False:
        return _ipv6_only(conf, where)
    if value is None:
        return Sourced(None, where, f"{where} has no Network (flanneld: `ipv4 mode requested but no ipv4 network provided`)")
    net = try_net(value)
    if net is None or net.version != 4:
        return Sourced(None, where, f"{where} Network {value!r} is not an IPv4 CIDR (`invalid CIDR address`)")
    raw6 = next((v for k, v in conf.items() if k.lower() == "ipv6network"), None)
    net6 = try_net(raw6) if isinstance(raw6, str) and raw6 else None
    if raw6 not in (None, "") and (net6 is None or net6.version != 6):
        return Sourced(None, where, f"{where} IPv6Network {raw6!r} is not an IPv6 CIDR (flanneld exits with "
                       "`error parsing subnet config`)")
    enable6 = next((v for k, v in conf.items() if k.lower() == "enableipv6"), False) is True
    return Sourced(net, where, extra={"raw": value, **_ipv6_side(raw6, enable6)})


def _ipv6_only(conf: dict[str, Any], where: str) -> Sourced:
    """net-conf.json with "EnableIPv4": false: flannel runs IPv6 only, from IPv6Network, and needs no
    Network (flannel-k3s.md §1.1, ParseConfig). The value is None and `extra["ipv4"]` False."""
    raw6 = next((v for k, v in conf.items() if k.lower() == "ipv6network"), None)
    side = _ipv6_side(raw6, next((v for k, v in conf.items() if k.lower() == "enableipv6"), False) is True)
    if not side["enable_ipv6"]:
        return Sourced(None, where, f"{where} sets EnableIPv4 false without EnableIPv6: flannel has no network to run")
    if side["ipv6_network"] is None:
        return Sourced(None, where, f"{where} runs IPv6 only (EnableIPv4 false), but its IPv6Network {raw6!r} is not an "
                                    "IPv6 CIDR")
    return Sourced(None, where, extra={"ipv4": False, **side})


def ipv6_only(net: Sourced) -> bool:
    """flannel runs IPv6 only: no IPv4 Network, and that is no problem (see _ipv6_only)."""
    return net.value is None and net.problem is None and net.extra.get("ipv4") is False


def _ipv6_side(raw: object, enabled: bool) -> dict[str, Any]:
    """flannel's IPv6Network (Go's encoding/json matches keys case-insensitively, flannel-k3s.md §1.1)."""
    net = try_net(raw) if isinstance(raw, str) and raw else None
    return {"ipv6_network": net if net is not None and net.version == 6 else None,
            "ipv6_raw": raw, "enable_ipv6": enabled}


def flannel_cni_conf(snap: Snapshot) -> Sourced:
    """The flannel CNI conflist as the cluster defines it (kube-flannel-cfg cni-conf.json)."""
    cm = flannel_configmap(snap)
    if cm is None:
        return Sourced(None, "", "no kube-flannel-cfg ConfigMap")
    where = f"ConfigMap {k8s.ref(cm)} cni-conf.json"
    text = (cm.get("data") or {}).get("cni-conf.json")
    if text is None:
        return Sourced(None, where, f"{where} is missing")
    try:
        return Sourced(parse_json_object(str(text), where), where)
    except ConfigError as exc:
        return Sourced(None, where, str(exc))


# --- NADs and Multus pods -------------------------------------------------------------------------


@dataclass(frozen=True)
class Nad:
    obj: dict[str, Any]
    config: dict[str, Any] | None
    problem: str | None

    @property
    def ref(self) -> str:
        return k8s.ref(self.obj)


def nads(snap: Snapshot) -> list[Nad]:
    return cached(snap, "nads", _nads)


def _nads(snap: Snapshot) -> list[Nad]:
    return [nad_of(obj) for obj in snap.kind("NetworkAttachmentDefinition")]


def nad_of(obj: dict[str, Any]) -> Nad:
    """One NetworkAttachmentDefinition object with its parsed `spec.config`, or why it cannot be used."""
    text = k8s.spec(obj).get("config")
    if not text:
        return Nad(obj, None, "spec.config is empty (Multus: `GetCNIConfigFromFile: No networks found in /etc/cni/multus/net.d`)")
    try:
        return Nad(obj, parse_json_object(str(text), "spec.config"), None)
    except ConfigError as exc:
        return Nad(obj, None, f"{exc} (Multus: `failed to unmarshal Spec.Config`)")


def macvlan_masters(nad: Nad) -> list[str | None]:
    """The `master` of each macvlan plugin in the NAD (None = default-route interface)."""
    if nad.config is None:
        return []
    from multus_check.domain.cniconf import plugins_of

    return [
        p.get("master") if isinstance(p.get("master"), str) and p.get("master") else None
        for p in plugins_of(nad.config) if p.get("type") == "macvlan"
    ]


def multus_pods(snap: Snapshot) -> list[dict[str, Any]]:
    return [p for p in snap.kind("Pod") if k8s.NETWORKS_ANNOTATION in k8s.annotations_of(p)]


def pods_using(snap: Snapshot, nad: Nad) -> list[str]:
    """The pods (namespace/name) whose networks annotation names the NAD: the JSON form
    (`[{"name": ..., "namespace": ...}]`) or the short one (`ns/name@ifname, name`)."""
    ns, name = k8s.namespace(nad.obj), k8s.name(nad.obj)
    out = []
    for pod in multus_pods(snap):
        raw = k8s.annotations_of(pod).get(k8s.NETWORKS_ANNOTATION, "")
        data = json_or_none(raw) if raw.strip().startswith("[") else None
        if isinstance(data, list):
            refs = [(str(e.get("namespace") or k8s.namespace(pod)), str(e.get("name"))) for e in data if isinstance(e, dict)]
        else:
            refs = [(p[0] if len(p) == 2 else k8s.namespace(pod), p[-1].split("@")[0])
                    for p in (item.strip().split("/", 1) for item in raw.split(",") if item.strip())]
        if (ns, name) in refs:
            out.append(k8s.ref(pod))
    return out


def json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None
