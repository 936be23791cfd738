"""The NAD corpus: loading the cases, describing their nodes, and judging them with the static checks.

Each file in nads/ holds one NetworkAttachmentDefinition (`nad`) and what is known about it:
`source` (where the config comes from, or which case it mutates and how), `node` (the profile in
nodes.yaml it runs on), `expect` (the recorded verdicts of nad.config-valid, nad.master and
plugins.present), `plugin` (what Debian's plugins 1.1.1 do with it: accepts | refuses) and, when
they refuse, `error` (a substring of their message). Optional: `pod` (what the pod requests:
`ips`, `mac`), `confdir` (files in Multus's confDir), `disagree` (a key of DISAGREEMENTS: the
static verdict is stricter than the plugin on purpose), `ipv6` (the nad.ipv6-ready verdict; the lab
tier then reads net1's IPv6 sysctls after the real ADD: a `pass` must have set what Thread needs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from multus_check.checks import registry
from multus_check.collect.host import LISTED_DIRS
from multus_check.model import Status
from multus_check.snapshot.data import DirEntry, NodeFacts, Section, SectionState, Snapshot

HERE = Path(__file__).resolve().parent
NADS = HERE / "nads"
CHECKS = {"config": "nad.config-valid", "master": "nad.master", "plugins": "plugins.present"}
NODE = "mirror"
MULTUS_CONF_DIR = "/etc/cni/multus/net.d"
#: where the static verdict and the plugin differ on purpose: (direction, why). `stricter`: the checks fail a
#: NAD the plugin accepts; `warns`: the checks only warn about a NAD whose fate depends on the pod
DISAGREEMENTS = {
    "master-down": ("stricter", "the plugin creates the link on a DOWN master, but no frame passes: the pod starts "
                                "with a dead net1 (with dhcp, ADD fails after ~35 s with `no more tries`), so "
                                "nad.master fails it"),
    "node-file": ("warns", "host-local reads its resolvConf from the node at every ADD and fails when the file is "
                           "missing; no snapshot holds that file, so nad.config-valid warns instead of failing"),
    "pod-request": ("warns", "static IPAM without addresses takes them from the pod's `ips` request; this pod asks "
                             "for none, so ADD fails, while nad.config-valid (which cannot know every pod) warns"),
}


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    node: str
    nad: dict[str, Any]
    expect: dict[str, str]
    plugin: str
    error: str | None = None
    pod: dict[str, Any] = field(default_factory=dict)
    confdir: dict[str, str] = field(default_factory=dict)
    disagree: str | None = None
    ipv6: str | None = None  # the recorded nad.ipv6-ready verdict (pass | warn | skip), for the cases that record it

    @property
    def ref(self) -> str:
        meta = self.nad["metadata"]
        return f"{meta.get('namespace', 'default')}/{meta['name']}"

    @property
    def config_text(self) -> str:
        return str((self.nad.get("spec") or {}).get("config") or "")


def load_case(path: Path) -> Case:
    doc = yaml.safe_load(path.read_text())
    nad = doc["nad"]
    nad.setdefault("metadata", {}).setdefault("namespace", "default")
    return Case(path.stem, doc["source"], doc["node"], nad, doc["expect"], doc["plugin"], doc.get("error"),
                doc.get("pod") or {}, doc.get("confdir") or {}, doc.get("disagree"), doc.get("ipv6"))


def all_cases() -> list[Case]:
    return [load_case(p) for p in sorted(NADS.glob("*.yaml"))]


@cache
def nodes_doc() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((HERE / "nodes.yaml").read_text())
    return doc


def profile(name: str) -> dict[str, Any]:
    prof: dict[str, Any] = nodes_doc()["profiles"][name]
    return prof


def debian_versions(name: str) -> tuple[str, ...]:
    table = nodes_doc()["debian_plugins"]
    return tuple(table.get(name, table["default"]))


# --- the fast tier's node facts: what the collector would record for a profile ---------------------


def synthetic_facts(prof: dict[str, Any], confdir: dict[str, str]) -> NodeFacts:
    facts = NodeFacts(NODE)
    facts.dirs = dict.fromkeys(LISTED_DIRS)  # looked at and absent, unless set below
    facts.ip_addr = [{"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP", "LOWER_UP"], "mtu": 65536,
                      "operstate": "UNKNOWN", "link_type": "loopback", "address": "00:00:00:00:00:00", "addr_info": []}]
    facts.ip_route = []
    facts.dirs["/sys/class/net"] = [DirEntry("lo", "symlink", target="../../devices/virtual/net/lo")]
    for index, link in enumerate(prof["links"], start=2):
        _add_link(facts, index, link)
    table = nodes_doc()["debian_plugins"]
    facts.dirs["/opt/cni/bin"] = [DirEntry(n, "file", version=table["version"], cni_versions=debian_versions(n))
                                  for n in table["names"]]
    facts.dirs[MULTUS_CONF_DIR] = [DirEntry(n, "file") for n in sorted(confdir)] if confdir else None
    for fname, text in confdir.items():
        facts.files[f"{MULTUS_CONF_DIR}/{fname}"] = text
    return facts


def _add_link(facts: NodeFacts, index: int, link: dict[str, Any]) -> None:
    name, up = link["name"], link.get("up", True)
    addr = link.get("address")
    address = "192.168.77.250/24" if addr == "lan" else addr
    assert facts.ip_addr is not None and facts.ip_route is not None
    facts.ip_addr.append({
        "ifindex": index, "ifname": name, "mtu": link.get("mtu", 1500), "link_type": "ether",
        "flags": ["BROADCAST", "MULTICAST", *(["UP", "LOWER_UP"] if up else [])],
        "operstate": "UP" if up else "DOWN", "address": link.get("mac", f"52:54:00:ff:00:{index:02x}"),
        "addr_info": [{"family": "inet", "local": address.split("/")[0], "prefixlen": int(address.split("/")[1])}]
        if address else [],
    })
    if link.get("gateway") and up:
        gateway = "192.168.77.1" if link["gateway"] == "lan" else link["gateway"]
        facts.ip_route.append({"dst": "default", "gateway": gateway, "dev": name})
    devtype = "bridge" if link.get("kind") == "bridge" else "wlan" if link.get("wireless") else None
    facts.dirs["/sys/class/net"] = [*(facts.dirs["/sys/class/net"] or []),
                                    DirEntry(name, "symlink", target=f"../../devices/virtual/net/{name}")]
    facts.dirs[f"/sys/class/net/{name}"] = [DirEntry("uevent", "file"), DirEntry("mtu", "file"),
                                            *([DirEntry("bridge", "dir")] if devtype == "bridge" else []),
                                            *([DirEntry("wireless", "dir")] if devtype == "wlan" else [])]
    facts.files[f"/sys/class/net/{name}/uevent"] = (f"DEVTYPE={devtype}\n" if devtype else "") + \
        f"INTERFACE={name}\nIFINDEX={index}\n"


# --- the static verdicts -----------------------------------------------------------------------


def snapshot_for(case: Case, facts: NodeFacts) -> Snapshot:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.31.2"}}}
    nad = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition", **case.nad}
    return Snapshot(objects=[node, nad], sections={"cluster": Section(SectionState.OK),
                                                   f"node/{NODE}": Section(SectionState.OK)}, nodes={NODE: facts})


def verdicts(case: Case, facts: NodeFacts) -> dict[str, tuple[str, list[str]]]:
    """check key -> (worst status, the messages) of the three checks on a one-node, one-NAD snapshot."""
    snap = snapshot_for(case, facts)
    out = {}
    for key, cid in CHECKS.items():
        spec = registry.get(cid)
        assert spec.fn is not None
        findings = spec.fn(snap)
        worst = max(findings, key=lambda f: f.status.rank)
        out[key] = (worst.status.value, [f.message for f in findings])
    return out


def static_fails(found: dict[str, tuple[str, list[str]]]) -> bool:
    return any(status == Status.FAIL.value for status, _ in found.values())


def ipv6_verdict(case: Case) -> tuple[str, list[str]]:
    """nad.ipv6-ready's worst status and messages on the case's one-NAD snapshot (it needs no node facts)."""
    spec = registry.get("nad.ipv6-ready")
    assert spec.fn is not None
    findings = spec.fn(snapshot_for(case, NodeFacts(NODE)))
    worst = max(findings, key=lambda f: f.status.rank)
    return worst.status.value, [f.message for f in findings]


def thread_ready(sysctls: dict[str, str]) -> bool:
    """What Thread needs, read from net1 after the real ADD: RAs accepted, /64 RIOs taken, IPv6 on."""
    need_ra = 2 if sysctls.get("forwarding") == "1" else 1
    return (int(sysctls.get("accept_ra", "0")) >= need_ra and int(sysctls.get("accept_ra_rt_info_max_plen", "0")) >= 64
            and sysctls.get("disable_ipv6") == "0")
