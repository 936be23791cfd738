"""One multicast verdict: the same probe_script result gets the same status on `node`/`lab` and in the sample pod."""

from __future__ import annotations

from typing import Any

import pytest

from multus_check.checks import datapath as dp
from multus_check.checks import e2e as ids
from multus_check.checks import multicast
from multus_check.model import Finding, Status
from multus_check.probes.datapath_verdicts import judge as judge_datapath
from tests.e2e.samples import observation, probe_output
from tests.probes.test_judge import _healthy

ANSWERED = {"trials": 1, "sent": 1, "answered": 1, "loss": 0.0, "outcome": "answered", "first_answer_ms": 80.0,
            "errors": [], "responders": ["192.168.1.1"], "service_types": ["_http._tcp.local."], "services": [],
            "devices": [{"usn": "uuid:1::upnp:rootdevice", "from": "192.168.1.1:1900"}], "qu": None,
            "legacy_unicast": None}
LOSSY = {**ANSWERED, "trials": 4, "sent": 4, "answered": 3, "loss": 0.25}
SILENT = {**ANSWERED, "answered": 0, "loss": 1.0, "outcome": "no-answer", "first_answer_ms": None, "responders": [],
          "service_types": [], "devices": [], "legacy_unicast": {"outcome": "no-answer", "answers": []}}
UNICAST_ONLY = {**SILENT, "legacy_unicast": {"outcome": "answered", "answers": [{"from": "192.168.1.1:5353",
                                                                                  "multicast": False}]}}
SEND_ERROR = {**SILENT, "sent": 0, "outcome": "send-error", "errors": ["QM: Network is down"], "loss": None}

CASES = [  # (mdns section, ssdp section, mdns status, ssdp status)
    (ANSWERED, ANSWERED, Status.PASS, Status.PASS),
    (LOSSY, LOSSY, Status.WARN, Status.WARN),
    (UNICAST_ONLY, ANSWERED, Status.FAIL, Status.PASS),
    (SILENT, SILENT, Status.FAIL, Status.FAIL),
    (ANSWERED, SILENT, Status.PASS, Status.WARN),  # multicast works; the LAN may have no UPnP device
    (SEND_ERROR, SEND_ERROR, Status.ERROR, Status.ERROR),
]


def _node(mdns: dict[str, Any], ssdp: dict[str, Any]) -> dict[str, Finding]:
    return {f.check: f for f in judge_datapath(_healthy(probe={"error": None, "mdns": mdns, "ssdp": ssdp}))}


def _pod(mdns: dict[str, Any], ssdp: dict[str, Any]) -> dict[str, Finding]:
    from multus_check.e2e.pod_verdicts import judge_multicast

    output = probe_output()
    output["multicast"] = {"mdns": mdns, "ssdp": ssdp}
    obs = observation(output)
    return {cid: judge_multicast(obs, cid, key) for cid, key in ((ids.MDNS, "mdns"), (ids.SSDP, "ssdp"))}


@pytest.mark.parametrize(("mdns", "ssdp", "mdns_status", "ssdp_status"), CASES)
def test_the_node_path_and_the_sample_pod_give_the_same_status(mdns: dict[str, Any], ssdp: dict[str, Any],
                                                               mdns_status: Status, ssdp_status: Status) -> None:
    node, pod = _node(mdns, ssdp), _pod(mdns, ssdp)
    assert (node[dp.MDNS].status, node[dp.SSDP].status) == (mdns_status, ssdp_status)
    assert (pod[ids.MDNS].status, pod[ids.SSDP].status) == (mdns_status, ssdp_status)


def test_unicast_only_is_named_on_both_paths() -> None:
    node, pod = _node(UNICAST_ONLY, ANSWERED), _pod(UNICAST_ONLY, ANSWERED)
    assert "while unicast works" in node[dp.MDNS].message and node[dp.MDNS].evidence["legacy_unicast"] == "answered"
    assert "legacy-unicast query was answered" in pod[ids.MDNS].message and pod[ids.MDNS].evidence["unicast_answered"]


def test_lossy_answers_say_how_many_queries_were_answered_on_both_paths() -> None:
    assert "3/4" in _node(LOSSY, ANSWERED)[dp.MDNS].message and "3/4" in _pod(LOSSY, ANSWERED)[ids.MDNS].message


def test_the_rule_itself() -> None:
    assert multicast.mdns_verdict(UNICAST_ONLY).reason == multicast.UNICAST_ONLY
    assert multicast.ssdp_verdict(SILENT, mdns_answered=True) == multicast.Verdict(Status.WARN, multicast.QUIET)
    assert multicast.ssdp_verdict(SILENT, mdns_answered=False) == multicast.Verdict(Status.FAIL, multicast.SILENT)
    assert not multicast.answered(None) and multicast.answered(LOSSY)
