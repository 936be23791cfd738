"""Lab fixtures: one simulated LAN per test module, always taken down, and a leak check.

Everything runs inside namespaces the fixtures create (mcl-<name>-*); the tests skip with the
reason when this machine cannot run a lab (not root, missing dnsmasq/avahi/CNI plugins). The leak
check is the session fixture `lab_leak_check` (tests/conftest.py), which every lab test requests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from multus_check.domain.cniconf import parse_netconf
from multus_check.lab import config, daemons
from multus_check.lab import lifecycle as lab
from multus_check.lab.config import LabState
from multus_check.probes import datapath_probe as datapath
from multus_check.probes import netns
from multus_check.probes.datapath_probe import DatapathObservation

MISSING = daemons.missing_prerequisites()
pytestmark = pytest.mark.lab
needs_lab = pytest.mark.skipif(bool(MISSING), reason="lab needs: " + "; ".join(MISSING))
#: every lab the tests make is named with this prefix, so the leak check finds all of them
TEST_PREFIX = "t"


def root_links() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def lab_fixture(name: str) -> Callable[..., Iterator[LabState]]:
    """A module-scoped fixture that brings lab `name` up and always takes it down; the session's leak
    check (`lab_leak_check` in tests/conftest.py) is requested only once the lab will really run."""

    @pytest.fixture(scope="module")
    def _lab(request: pytest.FixtureRequest) -> Iterator[LabState]:
        if MISSING:
            pytest.skip("lab needs: " + "; ".join(MISSING))
        request.getfixturevalue("lab_leak_check")
        lab.down(name)  # leftovers of an interrupted earlier run
        report = lab.up(name)
        try:
            yield report.state
        finally:
            lab.down(name)

    return _lab


def probe(state: LabState, conf_text: str | None = None, cni_path: list[str] | None = None,
          lan_subnet: str | None = None, probes: tuple[str, ...] = ("mdns", "ssdp")) -> DatapathObservation:
    """Run the data-path probe against a lab node, as `multus-check node` does."""
    conf = parse_netconf(conf_text or state.nad_config.read_text(), "nad.json")
    opts = datapath.DatapathOptions(conf=conf, cni_path=cni_path or [str(state.cni_bin)], node=f"lab-{state.name}",
                                    node_netns=state.node_ns, pod_netns_prefix=state.pod_ns_prefix,
                                    lan_subnet=lan_subnet or state.subnet, probes=probes)
    return datapath.run(opts)


def leftovers() -> dict[str, object]:
    """Namespaces, state dirs and processes of test labs that still exist."""
    spaces = netns.listed(f"{config.NS_PREFIX}{TEST_PREFIX}")
    dirs = [p.name for p in config.STATE_ROOT.glob(f"{TEST_PREFIX}*")] if config.STATE_ROOT.is_dir() else []
    procs = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"{config.STATE_ROOT}/{TEST_PREFIX}" in cmdline or f"{config.NS_PREFIX}{TEST_PREFIX}" in cmdline:
            procs.append(f"{entry.name}: {cmdline[:120]}")
    return {"namespaces": spaces, "state_dirs": dirs, "processes": procs}
