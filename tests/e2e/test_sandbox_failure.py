"""A sample pod whose sandbox fails: the e2e phase stops at the first FailedCreatePodSandBox event
and shows its cause whole, also when the known-failures catalog does not know the message.

API tier (no root): the runner talks to the emulator over real HTTP; the fake kubelet of
`tests/e2e/sandbox.py` plays a Multus v4.2.3 whose ServiceAccount may not update `pods/status`,
as seen in issue 11: the ADD fails within about a second, and the kubelet retries the sandbox for
as long as the pod exists. A runner that waited for the pod would wait the whole --e2e-timeout:
the tests measure how long after the event the finding arrives, and that a decoy event of another
pod in the namespace (a message the catalog knows) is not attributed to the sample pod.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multus_check.checks import e2e as ids
from multus_check.model import Status
from tests.e2e.sandbox import TIMEOUT, failing_run, multus_forbidden, not_catalogued


def test_multus_forbidden_to_write_pod_status_is_reported_within_seconds_naming_the_rbac_cause(tmp_path: Path) -> None:
    run = failing_run(tmp_path, multus_forbidden)
    attach = run.findings[ids.ATTACH]
    (pod,) = run.kubelet.posted
    assert run.lag() < 3.0, f"the finding came {run.lag():.1f} s after the event (--e2e-timeout {TIMEOUT:.0f} s)"
    assert attach.status is Status.FAIL and "catalog F38" in attach.message
    assert attach.message.endswith(f'pods "{pod}" is forbidden: User "system:serviceaccount:kube-system:multus" '
                                   'cannot update resource "pods/status" in API group "" in the namespace '
                                   '"multus-check"')
    assert attach.evidence["event_message"] == run.kubelet.messages[pod]
    assert attach.evidence["catalog"] == "F38" and "dhcp" not in attach.message.lower(), \
        "the other pod's event was attributed to the sample pod"
    assert run.findings[ids.LEASE].status is Status.SKIP
    assert run.pods_left == []


def test_a_sandbox_error_the_catalog_does_not_know_is_still_shown_whole_and_at_once(tmp_path: Path) -> None:
    run = failing_run(tmp_path, not_catalogued)
    attach = run.findings[ids.ATTACH]
    (pod,) = run.kubelet.posted
    assert run.lag() < 3.0 and run.returned - run.started < TIMEOUT / 4
    assert attach.status is Status.FAIL and "catalog" in attach.message and "does not know" in attach.message
    assert attach.message.endswith('error adding container to network "macvlan-lan": netplugin v9 says: the switch '
                                   "port refused a second MAC (port-security violation)")
    assert attach.evidence["event_message"] == run.kubelet.messages[pod]
    assert run.pods_left == []


def _plugin_with_a_token(namespace: str, pod: str, uid: str) -> str:
    return (f'[{namespace}/{pod}/{uid}:macvlan-lan]: error adding container to network "macvlan-lan": ipam-plugin '
            'exec "/opt/cni/bin/ipam-helper --url https://ipam.lan --token=E2ESECRET1" failed: header Authorization: '
            "Bearer E2ESECRET2 rejected (401)")


def test_a_credential_in_the_sample_pods_own_event_is_redacted_like_every_collected_event(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The sample pod's events are read by the e2e runner, not the collector: they get the same redaction
    before they reach a finding (message, evidence) or the progress lines on stderr."""
    run = failing_run(tmp_path, _plugin_with_a_token, notify=None)
    attach = run.findings[ids.ATTACH]
    shown = json.dumps({"message": attach.message, "evidence": attach.evidence, "remediation": attach.remediation},
                       default=str) + capsys.readouterr().err
    assert attach.status is Status.FAIL and "--token=<redacted by multus-check>" in attach.message
    assert "E2ESECRET" not in shown and "rejected (401)" in attach.message
