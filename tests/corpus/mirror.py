"""The lab tier's differential harness: node mirrors in network namespaces, the real node collector
on them, and Debian's real CNI plugins run the way Multus and libcni run them.

A profile of nodes.yaml becomes one namespace (`mcn-<run>-<profile>`) whose links are veths
(peers in `mcn-<run>-w`), bridges, or macvlans of the lab LAN's lan0 (moved in from the lab's
node namespace, so DHCP reaches the lab's dnsmasq). Each case runs in its own pod namespace
(`mcn-<run>-p<n>`): ADD, then DEL, as the runtime does, also after a failed ADD.

What Multus and libcni do before a plugin runs is reproduced here independently of the product
code (so the comparison is not circular): the confDir lookup of a NAD without spec.config, the
name injection, `type`/`plugins`, name and cniVersion injected into each plugin of a list,
prevResult chaining, runtimeConfig for declared capabilities, CNI_ARGS with the K8S_POD_* keys
and IP/MAC of the pod's request. Go's structs read a key in any capitalisation (`"Type"` is the
type), and libcni re-encodes each plugin's config from a Go map before it runs it (`InjectConf`),
so the plugin gets its keys sorted: that is what goes on stdin here too. Two adjustments keep the test inside its own sandbox: a dhcp
IPAM talks to the lab's daemon socket, a host-local IPAM keeps its leases in a temporary dir.

Nothing is created in the root namespace; every namespace made here is removed by `teardown`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multus_check.snapshot.data import DirEntry, NodeFacts

PREFIX = "mcn-"
CNI_PATH = "/usr/lib/cni"
PLUGIN_TIMEOUT = 90.0
IPV6_SYSCTLS = ("accept_ra", "accept_ra_rt_info_max_plen", "accept_ra_defrtr", "disable_ipv6", "forwarding")
UNSUPPORTED = re.compile(r"failed to create (ipvlan|vlan): operation not supported")


def sh(*argv: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {out.stderr.strip()}")
    return out


def new_run() -> str:
    return f"{PREFIX}{secrets.token_hex(3)}"


def namespaces(run: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.startswith(f"{run}-"))


def teardown(run: str) -> None:
    for ns in namespaces(run):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


def kernel_supports(run: str, kind: str) -> bool:
    """Whether this kernel can create an ipvlan/vlan link (probed on a veth in a scratch namespace)."""
    ns = f"{run}-probe"
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "add", "p0", "type", "veth", "peer", "name", "p1")
        extra = ["id", "5"] if kind == "vlan" else []
        probe = subprocess.run(["ip", "-n", ns, "link", "add", "t0", "link", "p0", "type", kind, *extra],
                               capture_output=True, text=True, check=False)
        return probe.returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


@dataclass
class Lab:
    """What the mirrors need of the lab: its node namespace (lan0), subnet, router and DHCP socket."""

    node_ns: str
    prefix: str
    router: str
    socket: str


class NodeMirror:
    """One profile of nodes.yaml as a network namespace."""

    def __init__(self, run: str, name: str, profile: dict[str, Any], index: int) -> None:
        self.run, self.name, self.profile, self.index = run, name, profile, index
        self.ns = f"{run}-{name}"
        self.wire = f"{run}-w{index}"

    def build(self, lab: Lab | None) -> None:
        sh("ip", "netns", "add", self.ns)
        sh("ip", "netns", "add", self.wire)
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        for i, link in enumerate(self.profile["links"]):
            self._link(i, link, lab)
        self._wait_carrier()

    def _wait_carrier(self, timeout: float = 5.0) -> None:
        """Links set up report operstate UP only after the kernel's link watch ran (up to ~1 s later);
        the collector must not see a passing moment of DOWN. A bridge without ports never gets carrier."""
        wanted = {link["name"] for link in self.profile["links"] if link.get("up", True) and link.get("kind") != "bridge"}
        deadline = time.monotonic() + timeout
        while True:
            links = json.loads(sh("ip", "-n", self.ns, "-j", "link", "show").stdout or "[]")
            waiting = {link["ifname"] for link in links if link.get("operstate") != "UP"} & wanted
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.ns}: {sorted(waiting)} did not come up within {timeout:.0f} s")
            time.sleep(0.05)

    def _link(self, i: int, link: dict[str, Any], lab: Lab | None) -> None:
        name, ns = link["name"], self.ns
        mac = ["address", link["mac"]] if link.get("mac") else []
        if link.get("kind") == "bridge":
            sh("ip", "-n", ns, "link", "add", name, "type", "bridge")
        elif link.get("lan"):
            assert lab is not None, f"profile {self.name} needs the lab LAN"
            tmp = f"mcn{self.index}x{i}"
            sh("ip", "-n", lab.node_ns, "link", "add", tmp, "link", "lan0", *mac, "type", "macvlan", "mode", "bridge")
            sh("ip", "-n", lab.node_ns, "link", "set", tmp, "netns", ns)
            sh("ip", "-n", ns, "link", "set", tmp, "name", name)
        else:
            mtu = str(link.get("mtu", 1500))
            sh("ip", "-n", ns, "link", "add", name, *mac, "mtu", mtu, "type", "veth", "peer", "name", f"p{i}",
               "netns", self.wire, "mtu", mtu)
            sh("ip", "-n", self.wire, "link", "set", f"p{i}", "up")
        if link.get("up", True):
            sh("ip", "-n", ns, "link", "set", name, "up")
        self._address(link, lab)

    def _address(self, link: dict[str, Any], lab: Lab | None) -> None:
        address, gateway = link.get("address"), link.get("gateway")
        if address == "lan" and lab is not None:
            address, gateway = f"{lab.prefix}.250/24", lab.router
        if address:
            sh("ip", "-n", self.ns, "addr", "add", address, "dev", link["name"])
        if gateway and link.get("up", True):
            sh("ip", "-n", self.ns, "route", "add", "default", "via", gateway, "dev", link["name"])

    def collect(self, confdir: dict[str, str], scratch: Path) -> NodeFacts:
        """The node facts of this mirror, from the real collector run inside its namespace."""
        root = scratch / f"root-{uuid.uuid4().hex[:8]}"
        (root / "opt" / "cni").mkdir(parents=True)
        os.symlink("/sys", root / "sys")
        os.symlink(CNI_PATH, root / "opt" / "cni" / "bin")
        if confdir:
            conf_dir = root / "etc" / "cni" / "multus" / "net.d"
            conf_dir.mkdir(parents=True)
            for fname, text in confdir.items():
                (conf_dir / fname).write_text(text)
        out = sh("ip", "netns", "exec", self.ns, sys.executable, "-m", "multus_check.collect.host",
                 "--node", "mirror", "--root", str(root))
        shutil.rmtree(root)
        return facts_from_json(json.loads(out.stdout))


def facts_from_json(doc: dict[str, Any]) -> NodeFacts:
    facts = NodeFacts(str(doc["name"]), files=dict(doc["files"]), unreadable=dict(doc["unreadable"]))
    facts.dirs = {p: None if e is None else [DirEntry.from_dict(x) for x in e] for p, e in doc["dirs"].items()}
    facts.ip_addr, facts.ip_route = doc["ip_addr"], doc["ip_route"]
    return facts


# --- running a NAD the way Multus + libcni do ------------------------------------------------------


class Refused(Exception):
    """Multus or libcni refuses before any plugin runs; the message is theirs."""


@dataclass
class Outcome:
    accepted: bool
    stage: str  # multus | plugin | ipam-only (the kernel cannot create the link)
    message: str
    seconds: float
    del_error: str = ""
    #: net1's net.ipv6.conf values right after a good ADD (what the real chain set), by sysctl name
    sysctls: dict[str, str] = field(default_factory=dict)


def multus_config(text: str, name: str, confdir: dict[str, str]) -> dict[str, Any]:
    """NAD-client GetCNIConfig + Multus LoadDelegateNetConf: the config the delegate runs."""
    if not text:
        return _from_confdir(name, confdir)
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Refused(f"failed to unmarshal Spec.Config: {exc}") from exc
    if not isinstance(conf, dict):
        raise Refused("failed to unmarshal Spec.Config: not an object")
    if not conf.get("name"):
        conf["name"] = name
    return conf


def _from_confdir(name: str, confdir: dict[str, str]) -> dict[str, Any]:
    files = sorted(f for f in confdir if f.endswith((".conf", ".json", ".conflist")))
    if not files:
        raise Refused("No networks found in /etc/cni/multus/net.d")
    for fname in files:
        try:
            conf = json.loads(confdir[fname])
        except json.JSONDecodeError as exc:
            raise Refused(f"Error loading CNI config file {fname}: {exc}") from exc
        if not fname.endswith(".conflist") and not conf.get("type"):
            raise Refused(f"Error loading CNI config file {fname}: missing 'type'")
        if conf.get("name") == name:
            return dict(conf)
    raise Refused(f"no network available in the name {name} in cni dir /etc/cni/multus/net.d")


def struct_field(obj: dict[str, Any], name: str) -> Any:
    """What a Go struct field `name` gets from a JSON object: encoding/json matches keys without regard
    to ASCII case, and the last matching key in the text wins."""
    value = None
    for key, item in obj.items():
        if key.lower() == name.lower():
            value = item
    return value


def plugin_type(entry: Any) -> str:
    value = struct_field(entry, "type") if isinstance(entry, dict) else None
    return value if isinstance(value, str) else ""


def plugin_list(conf: dict[str, Any]) -> list[dict[str, Any]]:
    """Multus's type-or-plugins rule (its NetConf struct reads `type`), then libcni's per-plugin parse,
    with name/cniVersion injected. A single config's cniVersion is read by libcni's struct, a list's
    from a Go map by its exact key."""
    single = bool(plugin_type(conf))
    version = struct_field(conf, "cniVersion") if single else conf.get("cniVersion", "")
    if not isinstance(version, str | None):
        raise Refused("error parsing configuration: cniVersion is not a string")
    entries: list[Any] = [conf] if single else []
    if not entries:
        raw = conf.get("plugins")
        entries = raw if isinstance(raw, list) else []
        if not entries or not plugin_type(entries[0]):
            raise Refused("delegate must have the 'type' or 'plugin' field")
    out = []
    for i, entry in enumerate(entries):
        if not plugin_type(entry):
            raise Refused(f"failed to parse plugin config {i}: error parsing configuration: missing 'type'")
        out.append({**entry, "name": conf.get("name"), "cniVersion": version or ""})
    return out


class CniRunner:
    """Runs one NAD's plugins in a node mirror, into a fresh pod namespace."""

    def __init__(self, node_ns: str, pod_ns: str, lab: Lab | None, datadir: Path, unsupported: set[str]) -> None:
        self.node_ns, self.pod_ns, self.lab, self.datadir = node_ns, pod_ns, lab, datadir
        self.unsupported = unsupported
        self.cid = uuid.uuid4().hex
        self.stage = "plugin"

    def run(self, text: str, nad: dict[str, Any], confdir: dict[str, str], pod: dict[str, Any]) -> Outcome:
        t0 = time.monotonic()
        meta = nad["metadata"]
        try:
            plugins = [self._adjust(p, pod) for p in plugin_list(multus_config(text, meta["name"], confdir))]
        except Refused as exc:
            return Outcome(False, "multus", str(exc), time.monotonic() - t0)
        sh("ip", "netns", "add", self.pod_ns)
        try:
            env = self._env(meta, pod)
            ok, message, prev = self._add_all(plugins, env)
            sysctls = self._ipv6_sysctls() if ok else {}
            del_error = self._del_all(plugins, env, prev)
        finally:
            subprocess.run(["ip", "netns", "del", self.pod_ns], capture_output=True, check=False)
        return Outcome(ok, self.stage, message, time.monotonic() - t0, del_error, sysctls)

    def _ipv6_sysctls(self) -> dict[str, str]:
        out = {}
        for name in IPV6_SYSCTLS:
            read = subprocess.run(["ip", "netns", "exec", self.pod_ns, "cat", f"/proc/sys/net/ipv6/conf/net1/{name}"],
                                  capture_output=True, text=True, check=False)
            if read.returncode == 0:
                out[name] = read.stdout.strip()
        return out

    def _adjust(self, plugin: dict[str, Any], pod: dict[str, Any]) -> dict[str, Any]:
        plugin = json.loads(json.dumps(plugin))
        ipam = plugin.get("ipam")
        if isinstance(ipam, dict) and ipam.get("type") == "dhcp" and self.lab is not None:
            ipam["daemonSocketPath"] = self.lab.socket
        if isinstance(ipam, dict) and ipam.get("type") == "host-local":
            ipam["dataDir"] = str(self.datadir)
        raw_caps = plugin.get("capabilities")
        caps: dict[str, Any] = raw_caps if isinstance(raw_caps, dict) else {}
        runtime = {k: pod[k] for k in ("ips", "mac") if caps.get(k) and pod.get(k)}
        if runtime:
            plugin["runtimeConfig"] = runtime
        return plugin

    def _env(self, meta: dict[str, Any], pod: dict[str, Any]) -> dict[str, str]:
        args = [f"IgnoreUnknown=true;K8S_POD_NAMESPACE={meta.get('namespace', 'default')}", "K8S_POD_NAME=corpus-pod",
                f"K8S_POD_INFRA_CONTAINER_ID={self.cid}", f"K8S_POD_UID={uuid.uuid4()}"]
        if pod.get("ips"):
            args.append("IP=" + ",".join(pod["ips"]))
        if pod.get("mac"):
            args.append(f"MAC={pod['mac']}")
        return {"CNI_CONTAINERID": self.cid, "CNI_NETNS": f"/run/netns/{self.pod_ns}", "CNI_IFNAME": "net1",
                "CNI_PATH": CNI_PATH, "CNI_ARGS": ";".join(args), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}

    def _exec(self, command: str, binary: str, stdin: dict[str, Any], env: dict[str, str]) -> tuple[bool, str, Any]:
        path = os.path.join(CNI_PATH, binary)
        if not binary or not os.access(path, os.X_OK):
            return False, (f'failed to find plugin "{binary}" in path [{CNI_PATH}]' if binary
                           else "no plugin name provided"), None
        out = subprocess.run(["ip", "netns", "exec", self.node_ns, path], input=json.dumps(stdin, sort_keys=True),
                             env={**env, "CNI_COMMAND": command}, capture_output=True, text=True,
                             timeout=PLUGIN_TIMEOUT, check=False)
        try:
            data = json.loads(out.stdout) if out.stdout.strip() else None
        except json.JSONDecodeError:
            data = None
        if out.returncode == 0:
            return True, "", data
        msg = data.get("msg", "") if isinstance(data, dict) else (out.stdout + out.stderr).strip()
        details = data.get("details") if isinstance(data, dict) else None
        return False, f"{msg}: {details}" if details else str(msg), None

    def _add_all(self, plugins: list[dict[str, Any]], env: dict[str, str]) -> tuple[bool, str, Any]:
        prev = None
        for plugin in plugins:
            stdin = {**plugin, **({"prevResult": prev} if prev is not None else {})}
            ok, message, result = self._exec("ADD", plugin_type(plugin), stdin, env)
            found = UNSUPPORTED.search(message)
            if not ok and found and found.group(1) in self.unsupported:
                ok, message, result = self._ipam_only(stdin, env, found.group(1))
            if not ok:
                return False, message, prev
            prev = result
        return True, "", prev

    def _ipam_only(self, stdin: dict[str, Any], env: dict[str, str], kind: str) -> tuple[bool, str, Any]:
        """The kernel cannot create an ipvlan/vlan link here: run the rest of the plugin's ADD, its IPAM."""
        self.stage = f"ipam-only (this kernel has no {kind})"
        raw_ipam = stdin.get("ipam")
        ipam: dict[str, Any] = raw_ipam if isinstance(raw_ipam, dict) else {}
        prev = stdin.get("prevResult")
        if kind == "ipvlan" and not ipam.get("type") and isinstance(prev, dict) and prev.get("ips"):
            return True, "", prev
        ok, message, result = self._exec("ADD", str(ipam.get("type") or ""), stdin, env)
        got = result if isinstance(result, dict) else {}
        if ok and not any(got.get(k) for k in ("ips", "ip4", "ip6")):  # 0.1.0/0.2.0 results: ip4/ip6
            ok, message = False, "IPAM plugin returned missing IP config"
        if ipam.get("type"):
            self._exec("DEL", str(ipam["type"]), stdin, env)
        return ok, message, result

    def _del_all(self, plugins: list[dict[str, Any]], env: dict[str, str], prev: Any) -> str:
        errors = []
        for plugin in reversed(plugins):
            stdin = {**plugin, **({"prevResult": prev} if prev is not None else {})}
            ok, message, _ = self._exec("DEL", plugin_type(plugin), stdin, env)
            if not ok and not UNSUPPORTED.search(message):
                errors.append(f"{plugin_type(plugin)}: {message}")
        return "; ".join(errors)
