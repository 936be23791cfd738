"""Lab tier (root): the kernel and tuning facts nad.ipv6-ready and cidr.service-routing's IPv6 side
rely on, settled with Debian's real `tuning` binary and radvd in namespaces this test makes.

A "pod" namespace gets net1, one end of a veth whose other end (lan0) sits in a "router" namespace;
nothing touches the root namespace. Settled here (domain/ipv6rules.py cites it):
- a fresh namespace starts net1 at accept_ra 1, accept_ra_rt_info_max_plen 0, accept_ra_defrtr 1,
  disable_ipv6 0;
- tuning sets `net.ipv6.conf.IFNAME.*`, `net/ipv6/conf/IFNAME/*` and a literal `net.ipv6.conf.net1.*`
  on net1; `all` and `default` do not reach an existing net1's accept_ra_rt_info_max_plen; `all`
  does reach its disable_ipv6; and domain.ipv6rules.applies_to_attachment says the same for each key;
- with accept_ra_rt_info_max_plen 128 the /64 RIO route arrives (the limit is a maximum, so >= 64
  takes a Thread prefix), with 48 it does not;
- an RA with a router lifetime installs `default via fe80::... proto ra metric 1024`, and
  accept_ra_defrtr 0 set before the first RA prevents it while the RIO route still arrives.
- the kernel reads the value tuning writes in base 0: "064" sets 52, "0x40" sets 64
  (domain.ipv6rules.kernel_int agrees).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from multus_check.domain.ipv6rules import applies_to_attachment, kernel_int
from tests.corpus import mirror

pytestmark = pytest.mark.lab
TUNING = Path(mirror.CNI_PATH) / "tuning"
MISSING = [why for why, bad in (("root", os.geteuid() != 0), ("radvd", shutil.which("radvd") is None),
                                (f"{TUNING}", not TUNING.exists())) if bad]
RADVD = """interface lan0 {
  AdvSendAdvert on; MinRtrAdvInterval 3; MaxRtrAdvInterval 4; AdvDefaultLifetime 1800;
  prefix fd00:aa::/64 { AdvOnLink on; AdvAutonomous on; };
  route fd11:22::/64 { AdvRoutePreference high; AdvRouteLifetime 1800; };
};
"""


class Pair:
    """A pod namespace with net1 and a router namespace with lan0, joined by a veth."""

    def __init__(self, run: str, n: int) -> None:
        self.pod, self.router = f"{run}-p{n}", f"{run}-r{n}"
        mirror.sh("ip", "netns", "add", self.pod)
        mirror.sh("ip", "netns", "add", self.router)
        mirror.sh("ip", "-n", self.router, "link", "add", "lan0", "type", "veth", "peer", "name", "net1", "netns", self.pod)
        mirror.sh("ip", "-n", self.router, "link", "set", "lan0", "up")

    def read(self, name: str, iface: str = "net1") -> str:
        out = mirror.sh("ip", "netns", "exec", self.pod, "cat", f"/proc/sys/net/ipv6/conf/{iface}/{name}")
        return out.stdout.strip()

    def tuning(self, sysctl: dict[str, str]) -> None:
        conf = {"cniVersion": "0.3.1", "name": "facts", "type": "tuning", "sysctl": sysctl,
                "prevResult": {"cniVersion": "0.3.1", "interfaces": [{"name": "net1", "sandbox": f"/run/netns/{self.pod}"}]}}
        env = {"CNI_COMMAND": "ADD", "CNI_CONTAINERID": self.pod, "CNI_NETNS": f"/run/netns/{self.pod}",
               "CNI_IFNAME": "net1", "CNI_PATH": mirror.CNI_PATH, "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        out = subprocess.run([str(TUNING)], input=json.dumps(conf), env=env, capture_output=True, text=True,
                             timeout=30, check=False)
        assert out.returncode == 0, out.stdout + out.stderr

    def routes(self) -> str:
        return mirror.sh("ip", "-n", self.pod, "-6", "route").stdout


@pytest.fixture
def run() -> Iterator[str]:
    if MISSING:
        pytest.skip("needs " + ", ".join(MISSING))
    name = mirror.new_run()
    try:
        yield name
    finally:
        mirror.teardown(name)
        assert mirror.namespaces(name) == []


def test_a_fresh_namespace_ignores_thread_routes_and_takes_ra_default_routes(run: str) -> None:
    pair = Pair(run, 0)
    assert {k: pair.read(k) for k in ("accept_ra", "accept_ra_rt_info_max_plen", "accept_ra_defrtr", "disable_ipv6")} \
        == {"accept_ra": "1", "accept_ra_rt_info_max_plen": "0", "accept_ra_defrtr": "1", "disable_ipv6": "0"}


@pytest.mark.parametrize(("key", "reaches"), [
    ("net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen", True),
    ("net/ipv6/conf/IFNAME/accept_ra_rt_info_max_plen", True),
    ("net.ipv6.conf.net1.accept_ra_rt_info_max_plen", True),
    ("net.ipv6.conf.all.accept_ra_rt_info_max_plen", False),
    ("net.ipv6.conf.default.accept_ra_rt_info_max_plen", False),
])
def test_which_tuning_keys_reach_net1_and_the_rule_agrees(run: str, key: str, reaches: bool) -> None:
    pair = Pair(run, 1)
    pair.tuning({key: "64"})
    assert (pair.read("accept_ra_rt_info_max_plen") == "64") is reaches
    assert (applies_to_attachment(key) == "accept_ra_rt_info_max_plen") is reaches


def test_all_disable_ipv6_reaches_net1_and_the_rule_counts_it(run: str) -> None:
    pair = Pair(run, 2)
    pair.tuning({"net.ipv6.conf.all.disable_ipv6": "1"})
    assert pair.read("disable_ipv6") == "1"
    assert applies_to_attachment("net.ipv6.conf.all.disable_ipv6") == "disable_ipv6"


def _radvd(pair: Pair, tmp: Path) -> subprocess.Popen[str]:
    mirror.sh("ip", "netns", "exec", pair.router, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
    (tmp / "radvd.conf").write_text(RADVD)
    return subprocess.Popen(["ip", "netns", "exec", pair.router, "radvd", "-C", str(tmp / "radvd.conf"), "-p",
                             str(tmp / "radvd.pid"), "-n", "-m", "stderr"], stderr=subprocess.PIPE, text=True)


def _wait_for(pair: Pair, text: str, seconds: float = 12.0) -> str:
    deadline = time.monotonic() + seconds
    routes = pair.routes()
    while text not in routes and time.monotonic() < deadline:
        time.sleep(0.5)
        routes = pair.routes()
    return routes


@pytest.mark.parametrize(("plen", "defrtr"), [("128", "1"), ("64", "0"), ("48", "1")])
def test_ras_install_the_rio_route_up_to_max_plen_and_a_default_route_unless_defrtr_is_0(
        run: str, tmp_path: Path, plen: str, defrtr: str) -> None:
    pair = Pair(run, 3)
    pair.tuning({"net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": plen, "net.ipv6.conf.IFNAME.accept_ra_defrtr": defrtr,
                 "net.ipv6.conf.IFNAME.accept_ra": "1"})
    mirror.sh("ip", "-n", pair.pod, "link", "set", "net1", "up")
    radvd = _radvd(pair, tmp_path)
    try:
        routes = _wait_for(pair, "fd00:aa::/64")  # SLAAC's prefix route: an RA arrived
        routes = _wait_for(pair, "fd11:22::/64", 3.0) if int(plen) >= 64 else routes
    finally:
        radvd.send_signal(signal.SIGTERM)
        radvd.wait(timeout=10)
    assert "fd00:aa::/64" in routes, routes
    assert ("fd11:22::/64 via fe80::" in routes) is (int(plen) >= 64), routes
    default = [line for line in routes.splitlines() if line.startswith("default")]
    if defrtr == "1":
        assert default and "proto ra metric 1024" in default[0], routes
    else:
        assert default == [], routes


@pytest.mark.parametrize(("value", "kernel"), [("064", "52"), ("0x40", "64"), (" 64", "64")])
def test_the_kernel_reads_a_tuning_value_as_c_does_and_the_rule_agrees(run: str, value: str, kernel: str) -> None:
    """The sysctl file parses an integer in base 0 (strtoul): a leading 0 is octal, 0x hexadecimal.
    So "064" sets 52, below what a Thread /64 needs."""
    pair = Pair(run, 4)
    pair.tuning({"net.ipv6.conf.IFNAME.accept_ra_rt_info_max_plen": value})
    assert pair.read("accept_ra_rt_info_max_plen") == kernel
    assert kernel_int(value) == int(kernel)
