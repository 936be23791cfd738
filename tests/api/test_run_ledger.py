"""A run knows exactly what it left: what it created, what may exist (no answer), what is gone.

The text is what a second Ctrl-C or SIGTERM prints, so it must name objects exactly and never
claim that something is gone before the API server said so.
"""

from __future__ import annotations

from typing import Any

import pytest

from multus_check.errors import Forbidden, Unreachable
from multus_check.kube import Gateway
from multus_check.kube.podrun import Run
from multus_check.kube.resources import CONFIGMAPS, PODS
from tests.api.harness import EmulatorHarness

HINT = "; remove with: multus-check cleanup --namespace ns --context emulator"


def _obj(kind: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "ns"}}


def test_a_create_that_got_no_answer_is_named_as_possibly_there_and_a_refused_one_not_at_all(
        cluster: EmulatorHarness, gateway: Gateway) -> None:
    run = Run(gateway, "ns")
    assert run.left_behind() == ""
    cluster.emulator.fail_next("POST", r"/namespaces/ns/pods$", 503)  # a create is not retried after a 5xx
    with pytest.raises(Unreachable):
        run.create(PODS, _obj("Pod", "p0"))
    cluster.emulator.deny("create", "pods", "ns")
    with pytest.raises(Forbidden):
        run.create(PODS, _obj("Pod", "p1"))
    run.create(CONFIGMAPS, _obj("ConfigMap", "code"))
    assert run.left_behind() == "1 pod (p0; possibly: its create got no answer) and 1 ConfigMap (code) in namespace ns" + HINT


def test_after_cleanup_nothing_is_left_and_the_removal_is_summed_up(cluster: EmulatorHarness, gateway: Gateway) -> None:
    run = Run(gateway, "ns")
    run.create_namespace()
    for i in range(7):
        run.create(PODS, _obj("Pod", f"p{i}"))
    run.create(CONFIGMAPS, _obj("ConfigMap", "code"))
    assert run.left_behind() == ("namespace ns (created by this run) with 7 pods (p0, p1, p2, p3, p4 and 2 more) "
                                 "and 1 ConfigMap (code)" + HINT)
    run.cleanup()
    assert run.left_behind() == ""
    assert run.leftovers_text() == "nothing (everything this run created is removed)"
    assert run.removed_text() == "removed what this run had created: namespace ns, 7 pods and 1 ConfigMap"


def test_a_delete_that_got_no_answer_is_named_as_requested_not_done(cluster: EmulatorHarness, gateway: Gateway) -> None:
    run = Run(gateway, "ns")
    run.create(PODS, _obj("Pod", "p0"))
    cluster.emulator.fail_next("DELETE", r"/namespaces/ns/pods$", "reset", "reset", "reset", "reset", "reset")
    with pytest.raises(Unreachable):
        run.cleanup()
    assert run.left_behind() == "1 pod (p0; deletion requested, not confirmed) in namespace ns" + HINT
