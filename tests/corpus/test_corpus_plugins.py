"""Differential test (lab tier, root): every corpus NAD runs through Debian's real CNI plugins in a
network namespace that mirrors its node, and nad.config-valid + nad.master + plugins.present must
fail exactly when the plugin refuses it (DISAGREEMENTS lists the two intended exceptions).

The node facts the checks judge are collected from the mirror namespaces by the real collector,
so "the snapshot node mirrors the namespace" holds by construction. dhcp IPAM is served by the
lab (dnsmasq + the CNI dhcp daemon). All plugin runs happen in one module-scoped fixture, grouped
by node so namespaces are shared (cases of one node run one after another, LAN cases in
parallel); the tests then only read its results. The plugin version, the kernel's missing link
types, the agreement and the tier's time are printed in the terminal summary.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from multus_check.domain.known_failures import match
from multus_check.lab import daemons
from multus_check.lab import lifecycle as lab
from multus_check.snapshot.data import NodeFacts
from tests.corpus import mirror
from tests.corpus.cases import (
    CHECKS,
    DISAGREEMENTS,
    Case,
    all_cases,
    ipv6_verdict,
    nodes_doc,
    static_fails,
    thread_ready,
    verdicts,
)
from tests.corpus.conftest import SUMMARY

pytestmark = pytest.mark.lab
LAB_NAME = "tcorpus"  # starts with "t": tests/lab/test_zz_no_leftovers.py watches it too
CASES = all_cases()
RUN = [c for c in CASES if c.plugin != "not-run"]
MISSING = daemons.missing_prerequisites()


@dataclass
class Differential:
    run: str
    unsupported: set[str]
    facts: dict[tuple[str, str], NodeFacts] = field(default_factory=dict)
    static: dict[str, dict[str, tuple[str, list[str]]]] = field(default_factory=dict)
    outcomes: dict[str, mirror.Outcome] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    left: list[str] = field(default_factory=list)
    root_links: tuple[set[str], set[str]] = (set(), set())


def _key(case: Case) -> tuple[str, str]:
    return case.node, repr(sorted(case.confdir.items()))


def _run_node(mirrors: dict[str, mirror.NodeMirror], labinfo: mirror.Lab, result: Differential, scratch: Path,
              items: list[tuple[int, Case]]) -> None:
    for index, case in items:
        node = mirrors[case.node]
        runner = mirror.CniRunner(node.ns, f"{result.run}-p{index}", labinfo, scratch / f"leases-{index}",
                                  result.unsupported)
        result.outcomes[case.name] = runner.run(case.config_text, case.nad, case.confdir, case.pod)


def _groups(cases: list[Case]) -> list[list[tuple[int, Case]]]:
    by_node: dict[str, list[tuple[int, Case]]] = {}
    for index, case in enumerate(cases):
        by_node.setdefault(case.node, []).append((index, case))
    groups: list[list[tuple[int, Case]]] = []
    for node, items in by_node.items():
        parallel = nodes_doc()["profiles"][node].get("parallel")
        groups.extend([[item] for item in items] if parallel else [items])
    return groups


def _run_all(result: Differential, scratch: Path) -> None:
    t0 = time.monotonic()
    state = lab.up(LAB_NAME).state
    labinfo = mirror.Lab(state.node_ns, state.subnet.rsplit(".", 1)[0], state.router_ip, str(state.dhcp_socket))
    result.seconds["lab up"] = time.monotonic() - t0
    t1 = time.monotonic()
    profiles = {c.node for c in RUN}
    mirrors = {name: mirror.NodeMirror(result.run, name, nodes_doc()["profiles"][name], i)
               for i, name in enumerate(sorted(profiles))}
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda node: node.build(labinfo), mirrors.values()))
        keys = {_key(c): c for c in RUN}
        collected = pool.map(lambda c: mirrors[c.node].collect(c.confdir, scratch), keys.values())
        result.facts = dict(zip(keys, collected, strict=True))
        result.seconds["mirrors + collector"] = time.monotonic() - t1
        t2 = time.monotonic()
        list(pool.map(lambda items: _run_node(mirrors, labinfo, result, scratch, items), _groups(RUN)))
        result.seconds["plugins (ADD + DEL)"] = time.monotonic() - t2
    for case in RUN:
        result.static[case.name] = verdicts(case, result.facts[_key(case)])


@pytest.fixture(scope="module")
def differential() -> Iterator[Differential]:
    if MISSING:
        pytest.skip("the differential test needs: " + "; ".join(MISSING))
    run = mirror.new_run()
    result = Differential(run, {k for k in ("ipvlan", "vlan") if not mirror.kernel_supports(run, k)})
    t0 = time.monotonic()
    before = set(os.listdir("/sys/class/net"))
    lab.down(LAB_NAME)
    with tempfile.TemporaryDirectory(prefix="mcn-corpus-") as scratch:
        try:
            _run_all(result, Path(scratch))
        finally:
            mirror.teardown(run)
            lab.down(LAB_NAME)
    result.left = mirror.namespaces(run)
    result.root_links = (before, set(os.listdir("/sys/class/net")))
    result.seconds["total"] = time.monotonic() - t0
    _summarise(result)
    yield result


def _plugin_package() -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "containernetworking-plugins"],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown (not a dpkg install)"


def _summarise(result: Differential) -> None:
    agree = [c for c in RUN if static_fails(result.static[c.name]) != result.outcomes[c.name].accepted]
    disagree = [c for c in RUN if c.disagree]
    macvlan = next(e for e in next(iter(result.facts.values())).dirs["/opt/cni/bin"] or [] if e.name == "macvlan")
    SUMMARY.extend([
        f"plugins: Debian containernetworking-plugins {_plugin_package()} in {mirror.CNI_PATH} (the binaries say: "
        f"version {macvlan.version}, CNI {', '.join(macvlan.cni_versions or ())})",
        f"kernel without link types: {', '.join(sorted(result.unsupported)) or 'none'} (those cases run the real "
        "plugin up to link creation, then its real IPAM plugin)",
        f"{len(RUN)} NADs run: {len(agree)} agree with the static checks, {len(disagree)} differ on purpose; "
        f"{len(CASES) - len(RUN)} judged statically only (node not mirrorable)",
        *[f"  {c.name}: {c.disagree}: {DISAGREEMENTS[str(c.disagree)][1]}" for c in disagree],
        "time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items()),
    ])


def test_the_collector_reads_each_debian_plugins_accepted_cni_versions(differential: Differential) -> None:
    table = nodes_doc()["debian_plugins"]
    for facts in differential.facts.values():
        entries = {e.name: e for e in facts.dirs["/opt/cni/bin"] or []}
        assert sorted(entries) == sorted(table["names"])
        for name, entry in entries.items():
            assert entry.version == table["version"], name
            assert entry.cni_versions == tuple(table.get(name, table["default"])), name


@pytest.mark.parametrize("case", RUN, ids=lambda c: c.name)
def test_the_checks_judge_the_collected_node_as_recorded(differential: Differential, case: Case) -> None:
    found = differential.static[case.name]
    assert {k: v[0] for k, v in found.items()} == case.expect, found


@pytest.mark.parametrize("case", RUN, ids=lambda c: c.name)
def test_the_real_plugin_does_what_was_recorded(differential: Differential, case: Case) -> None:
    outcome = differential.outcomes[case.name]
    assert ("accepts" if outcome.accepted else "refuses") == case.plugin, outcome
    if not outcome.accepted:
        assert str(case.error) in outcome.message, outcome
    else:
        assert outcome.del_error == "", f"DEL after a good ADD must succeed: {outcome.del_error}"


@pytest.mark.parametrize("case", RUN, ids=lambda c: c.name)
def test_the_checks_fail_exactly_when_the_real_plugin_refuses(differential: Differential, case: Case) -> None:
    fails, outcome = static_fails(differential.static[case.name]), differential.outcomes[case.name]
    if case.disagree:
        direction, why = DISAGREEMENTS[case.disagree]
        assert (fails, outcome.accepted) == ((True, True) if direction == "stricter" else (False, False)), why
    else:
        assert fails == (not outcome.accepted), (differential.static[case.name], outcome)


@pytest.mark.parametrize("case", [c for c in RUN if c.ipv6 in ("pass", "warn")], ids=lambda c: c.name)
def test_nad_ipv6_ready_passes_exactly_the_chains_that_really_set_what_thread_needs_on_net1(
        differential: Differential, case: Case) -> None:
    """A `pass` is proven by the real chain: net1 takes RAs and /64 RIOs, IPv6 on. A `warn` about
    accept_ra_rt_info_max_plen or disable_ipv6 is one the real chain shows too (a warn only about an
    unset accept_ra is about the node's defaults, which the namespace here cannot show)."""
    outcome = differential.outcomes[case.name]
    assert outcome.accepted and outcome.sysctls, outcome
    status, messages = ipv6_verdict(case)
    if status == "pass":
        assert thread_ready(outcome.sysctls), outcome.sysctls
    elif any("accept_ra_rt_info_max_plen" in m or "disabled" in m for m in messages):
        assert not thread_ready(outcome.sysctls), (outcome.sysctls, messages)


def test_every_namespace_the_differential_made_is_gone_and_the_root_namespace_is_untouched(
        differential: Differential) -> None:
    assert differential.left == []
    assert mirror.namespaces(differential.run) == []
    assert differential.root_links[1] == differential.root_links[0]


@pytest.mark.parametrize("case", [c for c in RUN if c.plugin == "refuses" and not c.disagree], ids=lambda c: c.name)
def test_the_catalog_entry_for_the_real_refusal_names_a_check_that_fails_that_nad(differential: Differential,
                                                                                  case: Case) -> None:
    outcome = differential.outcomes[case.name]
    known = match(f'failed (add): error adding container to network "lan": {outcome.message}')
    failing = {CHECKS[key] for key, (status, _) in differential.static[case.name].items() if status == "fail"}
    owners = {"nad.config-valid", "plugins.present"} if known and known.id == "F32" else {known.check if known else ""}
    assert known is None or owners & failing, (outcome.message, known.id, known.check, failing)
