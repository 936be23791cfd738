"""Lab tier (root): the config the nad-ipv6-ready fix writes (domain/ipv6rules.ready_config) runs through
Debian's real plugins, the way Multus and libcni run a NAD (tests/corpus/mirror.py), and really sets what
Thread needs on net1; judged again, it is ready.

The shapes are the odd but valid ones real NADs have: single configs at cniVersion 0.2.0/0.3.0/0.4.0/1.0.0
(or none), `"ipam": {}`, capitalised keys, a conflist with sbr and portmap, an existing tuning with other
sysctls and a mac. The node is a namespace whose eth0 is one end of a veth; the pod is a fresh namespace.
Nothing touches the root namespace; every namespace is removed, also when a case fails.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multus_check.domain.ipv6rules import readiness, ready_config
from tests.corpus import mirror
from tests.corpus.cases import thread_ready

pytestmark = pytest.mark.lab
HOST_LOCAL = {"type": "host-local", "subnet": "10.78.0.0/24"}
MAC = {"type": "macvlan", "master": "eth0", "mode": "bridge"}
SHAPES: dict[str, dict[str, Any]] = {
    "single-0.2.0-host-local": {"cniVersion": "0.2.0", "name": "lan", **MAC, "ipam": HOST_LOCAL},
    "single-0.3.0-host-local": {"cniVersion": "0.3.0", "name": "lan", **MAC, "ipam": HOST_LOCAL},
    "single-0.4.0-empty-ipam": {"cniVersion": "0.4.0", "name": "lan", **MAC, "ipam": {}},
    "single-1.0.0-static": {"cniVersion": "1.0.0", "name": "lan", **MAC,
                            "ipam": {"type": "static", "addresses": [{"address": "10.78.0.7/24"}]}},
    "single-without-cni-version": {"name": "lan", **MAC, "ipam": HOST_LOCAL},
    "single-capitalised-keys": {"CNIVersion": "0.4.0", "Name": "lan", "Type": "macvlan", "Master": "eth0", "IPAM": {}},
    "conflist-sbr-portmap": {"cniVersion": "1.0.0", "name": "lan", "plugins": [
        {**MAC, "ipam": HOST_LOCAL}, {"type": "sbr"}, {"type": "portmap", "capabilities": {"portMappings": True}}]},
    "conflist-tuning-mac-other-sysctls": {"cniVersion": "0.4.0", "name": "lan", "plugins": [
        {**MAC, "ipam": HOST_LOCAL},
        {"type": "tuning", "mac": "c2:11:22:33:44:55",
         "sysctl": {"net.ipv4.conf.IFNAME.arp_ignore": "1", "net.ipv6.conf.net1.accept_ra_rt_info_max_plen": "0"}}]},
    "conflist-capitalised-tuning": {"cniVersion": "0.3.1", "name": "lan", "plugins": [
        {**MAC, "ipam": {}}, {"Type": "tuning", "Sysctl": {"net.ipv4.conf.IFNAME.arp_ignore": "1"}}]},
}


@pytest.fixture(scope="module")
def node() -> Iterator[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    if not (Path(mirror.CNI_PATH) / "tuning").exists():
        pytest.skip(f"needs {mirror.CNI_PATH}/tuning")
    run = mirror.new_run()
    try:
        ns = f"{run}-node"
        mirror.sh("ip", "netns", "add", ns)
        mirror.sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "w0")
        for link in ("eth0", "w0"):
            mirror.sh("ip", "-n", ns, "link", "set", link, "up")
        yield ns
    finally:
        mirror.teardown(run)
        assert mirror.namespaces(run) == []


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_the_fixed_config_is_accepted_by_the_real_chain_and_sets_what_thread_needs(node: str, name: str,
                                                                                   tmp_path: Path) -> None:
    conf = SHAPES[name]
    verdict = readiness(conf)
    assert verdict.skip is None and not verdict.ready, verdict
    fixed, _ = ready_config(conf, verdict)
    runner = mirror.CniRunner(node, node.replace("-node", f"-p{sorted(SHAPES).index(name)}"), None, tmp_path, set())
    outcome = runner.run(json.dumps(fixed), {"metadata": {"name": "lan", "namespace": "default"}}, {}, {})
    assert outcome.accepted and outcome.del_error == "", (outcome, fixed)
    assert thread_ready(outcome.sysctls), (outcome.sysctls, fixed)
    assert readiness(fixed).ready
