"""The write-aware emulator behaves like the API server where the fixers depend on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multus_check.errors import ClusterAccessError, Conflict
from multus_check.kube import Gateway, load_target
from multus_check.kube.resources import CONFIGMAPS
from multus_check.kube.writes import Writer
from tests.api.harness import EmulatorHarness
from tests.api.scenario import FAST_RETRIES
from tests.fixes.emulator_writes import WriteEmulator


def _cm(data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "ns"}, "data": {"k": data}}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[WriteEmulator, Writer]]:
    em = WriteEmulator()
    em.put(_cm("one"))
    with EmulatorHarness(em, tmp_path / "kubeconfig") as harness:
        gw = Gateway(load_target(str(harness.kubeconfig)), FAST_RETRIES, timeout=5)
        yield em, Writer(gw)
        gw.close()


def test_replace_with_a_stale_resource_version_is_a_conflict_and_changes_nothing(env: tuple[WriteEmulator, Writer]) -> None:
    _, writer = env
    current = writer.get("ConfigMap", "ns", "cfg")
    rv = current["metadata"]["resourceVersion"]
    writer.replace({**current, "data": {"k": "two"}}, rv)
    with pytest.raises(Conflict, match="the object has been modified"):
        writer.replace({**current, "data": {"k": "three"}}, rv)
    assert writer.get("ConfigMap", "ns", "cfg")["data"] == {"k": "two"}


def test_replace_bumps_the_resource_version_and_keeps_uid(env: tuple[WriteEmulator, Writer]) -> None:
    _, writer = env
    before = writer.get("ConfigMap", "ns", "cfg")
    after = writer.replace({**before, "data": {"k": "two"}}, before["metadata"]["resourceVersion"])
    assert after["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]
    assert after["metadata"]["uid"] == before["metadata"]["uid"]


def test_dry_run_replace_and_delete_store_nothing(env: tuple[WriteEmulator, Writer]) -> None:
    _, writer = env
    before = writer.get("ConfigMap", "ns", "cfg")
    rv, uid = before["metadata"]["resourceVersion"], before["metadata"]["uid"]
    writer.replace({**before, "data": {"k": "dry"}}, rv, dry_run=True)
    writer.delete("ConfigMap", "ns", "cfg", uid=uid, resource_version=rv, dry_run=True)
    assert writer.get("ConfigMap", "ns", "cfg") == before


def test_delete_with_a_wrong_uid_or_version_precondition_is_a_conflict(env: tuple[WriteEmulator, Writer]) -> None:
    _, writer = env
    before = writer.get("ConfigMap", "ns", "cfg")
    rv, uid = before["metadata"]["resourceVersion"], before["metadata"]["uid"]
    with pytest.raises(Conflict, match="UID in precondition"):
        writer.delete("ConfigMap", "ns", "cfg", uid="other", resource_version=rv)
    with pytest.raises(Conflict, match="ResourceVersion in precondition"):
        writer.delete("ConfigMap", "ns", "cfg", uid=uid, resource_version="1")
    writer.delete("ConfigMap", "ns", "cfg", uid=uid, resource_version=rv)
    with pytest.raises(ClusterAccessError, match="not found"):
        writer.get("ConfigMap", "ns", "cfg")


def test_dry_run_create_of_an_existing_object_is_refused(env: tuple[WriteEmulator, Writer]) -> None:
    _, writer = env
    with pytest.raises(Conflict, match="already exists"):
        writer.create(_cm("x"), dry_run=True)


def test_patch_is_refused_so_no_test_relies_on_naive_merge(env: tuple[WriteEmulator, Writer]) -> None:
    em, writer = env
    with pytest.raises(ClusterAccessError, match="415"):
        writer.gateway.request("PATCH", CONFIGMAPS.path("ns", "cfg"), body={"data": {"k": "p"}})
    assert writer.get("ConfigMap", "ns", "cfg")["data"] == {"k": "one"}
    assert [c[0] for c in em.writes()] == ["PATCH"]


def test_injected_write_failure_hits_only_the_next_real_write(env: tuple[WriteEmulator, Writer]) -> None:
    em, writer = env
    em.fail_write("PUT", "configmaps/cfg$")
    before = writer.get("ConfigMap", "ns", "cfg")
    rv = before["metadata"]["resourceVersion"]
    writer.replace({**before, "data": {"k": "dry"}}, rv, dry_run=True)  # dry runs are not hit
    with pytest.raises(ClusterAccessError, match="injected write failure 422"):
        writer.replace({**before, "data": {"k": "two"}}, rv)
    writer.replace({**before, "data": {"k": "two"}}, rv)
    assert writer.get("ConfigMap", "ns", "cfg")["data"] == {"k": "two"}


def _deployment(image: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ha", "namespace": "ns",
                                                                         "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {"selector": {"matchLabels": {"app": "ha"}}, "template": {
                "metadata": {"labels": {"app": "ha"}}, "spec": {"containers": [{"name": "ha", "image": image}]}}}}


def test_a_template_change_gets_what_the_api_server_and_the_deployment_controller_write(
        env: tuple[WriteEmulator, Writer]) -> None:
    """generation + 1 in the answer; then, as its own write, the controller's revision + 1 and observedGeneration."""
    em, writer = env
    em.put(_deployment("ha:1"))
    live = writer.get("Deployment", "ns", "ha")
    edited = {**live, "spec": _deployment("ha:2")["spec"]}
    answer = writer.replace(edited, live["metadata"]["resourceVersion"])
    now = writer.get("Deployment", "ns", "ha")
    assert answer["metadata"]["generation"] == 2 and answer["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}
    assert now["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "2"}
    assert now["status"] == {"observedGeneration": 2}
    assert int(now["metadata"]["resourceVersion"]) > int(answer["metadata"]["resourceVersion"])
    same = writer.replace({**now, "metadata": {**now["metadata"], "labels": {"a": "b"}}}, now["metadata"]["resourceVersion"])
    assert same["metadata"]["generation"] == 2 and writer.get("Deployment", "ns", "ha")["metadata"]["annotations"] == {
        "deployment.kubernetes.io/revision": "2"}, "no template change: no new revision"


def test_a_daemonset_template_change_bumps_its_template_generation_in_the_same_write(env: tuple[WriteEmulator, Writer]) -> None:
    em, writer = env
    ds = {**_deployment("d:1"), "kind": "DaemonSet"}
    ds["metadata"] = {"name": "d", "namespace": "ns", "annotations": {"deprecated.daemonset.template.generation": "3"}}
    em.put(ds)
    live = writer.get("DaemonSet", "ns", "d")
    answer = writer.replace({**live, "spec": _deployment("d:2")["spec"]}, live["metadata"]["resourceVersion"])
    assert answer["metadata"]["annotations"] == {"deprecated.daemonset.template.generation": "4"}
    assert writer.get("DaemonSet", "ns", "d")["metadata"]["resourceVersion"] == answer["metadata"]["resourceVersion"]
