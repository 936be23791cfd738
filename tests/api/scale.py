"""A cluster of any size for request-count tests and the collection benchmark.

It is the healthy example cluster with its worker multiplied: N Node objects made from
`k3s-agent-1` (each with its own podCIDR inside flannel's 10.42.0.0/15), all sharing that
node's fake host tree, and a fake kubelet that runs the real collector once per host tree
and replays its output for the other nodes (with each node's name), after `job_seconds`.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from multus_check.collect.live.bundle import build_bundle
from multus_check.collect.live.collector_manifest import collector_pod, configmap_manifest
from tests.api.emulator import ClusterEmulator
from tests.api.harness import EmulatorHarness
from tests.api.hosttree import build_host_tree
from tests.api.kubelet import FakeKubelet
from tests.api.scenario import FIXTURES, Scenario, seed, snapshot_objects

TEMPLATE = FIXTURES / "healthy-k3s"
TEMPLATE_NODE = "k3s-agent-1"


def node_objects(count: int) -> list[dict[str, object]]:
    template = next(o for o in snapshot_objects(TEMPLATE) if o["kind"] == "Node" and o["metadata"]["name"] == TEMPLATE_NODE)
    nodes = []
    base = ipaddress.ip_network("10.42.0.0/24")
    for i in range(count):
        node = copy.deepcopy(template)
        name = "k3s-server" if i == 0 else f"node-{i:04d}"
        node["metadata"]["name"] = name
        cidr = str(ipaddress.ip_network((int(base.network_address) + (i << 8), 24)))
        node["spec"]["podCIDR"], node["spec"]["podCIDRs"] = cidr, [cidr]
        nodes.append(node)
    return nodes


@contextmanager
def sized_cluster(count: int, workdir: Path, job_seconds: float = 0.0) -> Iterator[Scenario]:
    workdir.mkdir(parents=True, exist_ok=True)
    em = ClusterEmulator()
    seed(em, TEMPLATE)
    for (res, _ns, _name), obj in list(em.objects.items()):
        if res.plural == "nodes":
            obj.delete()
    for node in node_objects(count):
        em.put(node)
    tree = build_host_tree(TEMPLATE / "nodes" / TEMPLATE_NODE)
    hosts = {str(n["metadata"]["name"]): tree for n in node_objects(count)}  # type: ignore[index]
    kubelet = FakeKubelet(em, hosts, workdir, job_seconds=job_seconds, cache_output=True)
    bundle = build_bundle()
    template = node_objects(1)[0]
    kubelet.prime(collector_pod("prime", "prime", 0, template, "python", 60, bundle),
                  configmap_manifest("prime", "prime", bundle))
    harness = EmulatorHarness(em, workdir / "kubeconfig")
    harness.background.append(kubelet.run)
    try:
        with harness:
            yield Scenario(harness, kubelet, hosts)
    finally:
        tree.close()
