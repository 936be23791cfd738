"""Fast-tier twin of the differential test: every corpus NAD through the static checks only, on node
facts built from nodes.yaml, against the verdicts recorded with Debian's real plugins (the lab tier,
test_corpus_plugins.py, runs the plugins and shows both still hold). No root needed."""

from __future__ import annotations

import pytest

from multus_check.domain.known_failures import KnownFailure, match
from tests.corpus.cases import (
    CHECKS,
    DISAGREEMENTS,
    Case,
    all_cases,
    ipv6_verdict,
    nodes_doc,
    profile,
    static_fails,
    synthetic_facts,
    verdicts,
)

CASES = all_cases()
RUN = [c for c in CASES if c.plugin != "not-run"]
#: refused corpus NADs whose recorded error the event catalog knows, as a sandbox event would carry it
KNOWN = [(c, k) for c in RUN if c.plugin == "refuses" and not c.disagree
         and (k := match(f'failed (add): error adding container to network "lan": {c.error}')) is not None]


def test_the_corpus_holds_at_least_60_nads_each_naming_its_source_and_node() -> None:
    assert len(CASES) >= 60
    for case in CASES:
        assert case.source.strip(), case.name
        assert case.node in nodes_doc()["profiles"], case.name
        assert case.plugin in ("accepts", "refuses", "not-run"), case.name
        assert set(case.expect) == {"config", "master", "plugins"}, case.name
        assert case.disagree is None or case.disagree in DISAGREEMENTS, case.name
        assert case.plugin != "refuses" or case.error, f"{case.name}: record the plugin's error"
    upstream = [c for c in CASES if not c.source.startswith("mutation of")]
    assert len(upstream) >= 25, "keep the corpus anchored in real-world configs"


def test_every_case_that_is_not_run_says_why_its_node_cannot_be_mirrored() -> None:
    for case in CASES:
        if case.plugin == "not-run":
            assert profile(case.node).get("mirror") is False, case.name


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_static_checks_give_the_recorded_verdicts(case: Case) -> None:
    found = verdicts(case, synthetic_facts(profile(case.node), case.confdir))
    assert {k: v[0] for k, v in found.items()} == case.expect, found


@pytest.mark.parametrize("case", RUN, ids=lambda c: c.name)
def test_the_checks_fail_exactly_the_nads_the_real_plugin_refuses(case: Case) -> None:
    fails = static_fails(verdicts(case, synthetic_facts(profile(case.node), case.confdir)))
    if case.disagree:
        direction, why = DISAGREEMENTS[case.disagree]
        expected = (True, "accepts") if direction == "stricter" else (False, "refuses")
        assert (fails, case.plugin) == expected, f"intended disagreement {case.disagree}: {why}"
    else:
        assert fails == (case.plugin == "refuses")


@pytest.mark.parametrize("case", [c for c in CASES if c.disagree], ids=lambda c: c.name)
def test_an_intended_disagreement_is_a_failure_that_names_the_real_risk(case: Case) -> None:
    found = verdicts(case, synthetic_facts(profile(case.node), case.confdir))
    text = " ".join(m for status, messages in found.values() if status in ("fail", "warn") for m in messages)
    assert {"master-down": "no frame passes", "pod-request": "`ips`", "node-file": "resolvConf"}[str(case.disagree)] in text


@pytest.mark.parametrize(("case", "known"), KNOWN, ids=lambda x: x.name if isinstance(x, Case) else x.id)
def test_the_catalog_entry_for_a_plugins_refusal_names_a_check_that_fails_that_nad(case: Case, known: KnownFailure) -> None:
    found = verdicts(case, synthetic_facts(profile(case.node), case.confdir))
    failing = {CHECKS[key] for key, (status, _) in found.items() if status == "fail"}
    owners = {"nad.config-valid", "plugins.present"} if known.id == "F32" else {known.check}  # a version no plugin / this node's
    assert owners & failing, (known.id, known.check, failing)


IPV6 = [c for c in CASES if c.ipv6 is not None]


def test_the_corpus_records_nad_ipv6_ready_for_tuning_chains_and_plain_macvlans() -> None:
    assert {c.ipv6 for c in IPV6} >= {"pass", "warn"} and len(IPV6) >= 6
    assert all(c.ipv6 in ("pass", "warn", "skip") for c in IPV6)


@pytest.mark.parametrize("case", IPV6, ids=lambda c: c.name)
def test_nad_ipv6_ready_gives_the_recorded_verdict(case: Case) -> None:
    status, messages = ipv6_verdict(case)
    assert status == case.ipv6, messages
