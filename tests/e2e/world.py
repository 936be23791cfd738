"""The e2e test world: emulated API server + a netns lab + the lab kubelet + the matching snapshot.

Shared by the lab-tier tests and bench/bench_e2e.py. The snapshot is what live collection
would have produced for this world: the nodes, the NAD (the lab's real CNI config), the
cluster DNS and `kubernetes` Services, and node facts whose master NIC `lan0` has an address
in the lab's LAN (a real node's LAN NIC has one; the lab's own lan0 carries none).
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multus_check.commands.arguments import add_cluster_arguments, add_e2e_arguments, e2e_options
from multus_check.e2e.options import E2EOptions
from multus_check.e2e.phase import run_e2e
from multus_check.kube import Gateway, load_target
from multus_check.lab.config import LabState
from multus_check.model import Finding
from multus_check.snapshot.data import NodeFacts, Section, SectionState, Snapshot
from tests.api.emulator import ClusterEmulator
from tests.api.harness import EmulatorHarness
from tests.api.scenario import FAST_RETRIES
from tests.e2e.labkubelet import API_IP, DNS_IP, LabKubelet

NAD_NAME, NAD_NS = "macvlan-lan", "default"


def node(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {}},
            "spec": {}, "status": {"conditions": [{"type": "Ready", "status": "True"}],
                                   "nodeInfo": {"kubeletVersion": "v1.31.4+k3s1"}}}


def objects(lab: LabState, nodes: list[str]) -> list[dict[str, Any]]:
    nad = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
           "metadata": {"name": NAD_NAME, "namespace": NAD_NS}, "spec": {"config": lab.nad_config.read_text()}}
    dns = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": "kube-system",
                                                               "labels": {"k8s-app": "kube-dns"}},
           "spec": {"clusterIP": DNS_IP}}
    api = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"},
           "spec": {"clusterIP": API_IP}}
    return [*(node(n) for n in nodes), nad, dns, api]


def snapshot(lab: LabState, nodes: list[str]) -> Snapshot:
    host_ip = str(lab.network.network_address + 2)
    snap = Snapshot(collected_at="now", source={"kind": "live", "description": "emulator + netns lab"})
    snap.sections["cluster"] = Section(SectionState.OK)
    snap.objects.extend(objects(lab, nodes))
    for name in nodes:
        snap.nodes[name] = NodeFacts(name, ip_addr=[{"ifname": "lan0", "flags": ["BROADCAST", "UP"], "operstate": "UP",
                                                      "addr_info": [{"family": "inet", "local": host_ip,
                                                                     "prefixlen": lab.network.prefixlen}]}],
                                     ip_route=[{"dst": "default", "gateway": lab.router_ip, "dev": "lan0"}])
        snap.sections[f"node/{name}"] = Section(SectionState.OK)
    return snap


def e2e_args(*argv: str) -> E2EOptions:
    """The e2e options of a main-command run with these arguments (built by the command line's own builder)."""
    p = argparse.ArgumentParser()
    add_e2e_arguments(p)
    add_cluster_arguments(p)
    p.add_argument("--namespace", default="multus-check")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--snapshot")
    p.add_argument("--check", action="append", default=[])
    p.add_argument("--skip", action="append", default=[])
    return e2e_options(p.parse_args(list(argv)))


@dataclass
class World:
    lab: LabState
    harness: EmulatorHarness
    kubelet: LabKubelet
    gateway: Gateway
    snapshot: Snapshot
    notes: list[str] = field(default_factory=list)

    @property
    def emulator(self) -> ClusterEmulator:
        return self.harness.emulator

    def run(self, *argv: str, static: list[Finding] | None = None) -> list[Finding]:
        return run_e2e(e2e_args("--e2e-timeout", "40", *argv), self.snapshot, static or [], gateway=self.gateway,
                       notify=self.notes.append, poll_interval=0.05)


@contextmanager
def e2e_world(lab: LabState, workdir: Path, nodes: list[str] | None = None, service_route: bool = True,
              masters: dict[str, str] | None = None) -> Iterator[World]:
    names = nodes or ["lab-node-1"]
    em = ClusterEmulator()
    em.install_nad_crd()
    for obj in objects(lab, names):
        em.put(obj)
    kubelet = LabKubelet(em, lab, service_route=service_route, masters=dict(masters or {}))
    kubelet.start()
    try:
        harness = EmulatorHarness(em, workdir / "kubeconfig")
        harness.background.append(kubelet.run)
        with harness:
            gw = Gateway(load_target(str(harness.kubeconfig)), FAST_RETRIES, timeout=5)
            try:
                yield World(lab, harness, kubelet, gw, snapshot(lab, names))
            finally:
                gw.close()
    finally:
        kubelet.stop()


def lan_net(lab: LabState) -> ipaddress.IPv4Network:
    return lab.network
