"""The emulator subclass closes kmock 0.8's gaps; each test shows the gap is real and closed.

A collector test that passed only because the emulator returns everything would prove
nothing, so these tests pin the behaviour the collectors rely on.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from kmock import KubernetesEmulator, Server

from multus_check.errors import Forbidden, Invalid, NotFound
from multus_check.kube import Gateway
from multus_check.kube.resources import CONFIGMAPS, NAMESPACES, NODES, PODS, SERVICES
from tests.api.harness import EmulatorHarness
from tests.api.selectors import field_matcher, label_matcher


def _node(name: str, **labels: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}


def test_plain_kmock_ignores_label_selectors_which_is_why_the_subclass_exists() -> None:
    async def main() -> int:
        async with KubernetesEmulator() as em, Server(em):
            em.objects["v1/nodes", None, "a"] = _node("a", role="x")
            em.objects["v1/nodes", None, "b"] = _node("b")
            resp = await em.get("/api/v1/nodes?labelSelector=role%3Dx")
            return len((await resp.json())["items"])

    assert asyncio.run(main()) == 2


def test_list_honours_label_selector(cluster: EmulatorHarness, gateway: Gateway) -> None:
    cluster.emulator.put(_node("a", role="x"))
    cluster.emulator.put(_node("b", role="y"))
    assert [n["metadata"]["name"] for n in gateway.list(NODES, label_selector="role=x")] == ["a"]
    assert {n["metadata"]["name"] for n in gateway.list(NODES, label_selector="role in (x,y)")} == {"a", "b"}
    assert gateway.list(NODES, label_selector="role=z") == []


def test_list_honours_field_selector(cluster: EmulatorHarness, gateway: Gateway) -> None:
    for name in ("kubernetes", "other"):
        cluster.emulator.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"}})
    found = gateway.list(SERVICES, namespace="default", field_selector="metadata.name=kubernetes")
    assert [s["metadata"]["name"] for s in found] == ["kubernetes"]


def test_log_subresource_serves_the_kubelet_log_not_the_pod(cluster: EmulatorHarness, gateway: Gateway) -> None:
    gateway.create(PODS, "ns", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})
    with pytest.raises(Invalid, match="waiting to start"):
        gateway.pod_log("ns", "p", "collector", 100)
    cluster.emulator.logs[("ns", "p")] = "line one\nline two\n"
    assert gateway.pod_log("ns", "p", "collector", 100) == "line one\nline two\n"
    assert gateway.pod_log("ns", "p", "collector", 4) == "line"


def test_new_pod_is_pending_with_identity(gateway: Gateway) -> None:
    pod = gateway.create(PODS, "ns", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})
    assert pod["status"]["phase"] == "Pending"
    assert pod["metadata"]["uid"] and pod["metadata"]["namespace"] == "ns"


def test_namespaces_work_and_deleting_one_removes_its_objects(cluster: EmulatorHarness, gateway: Gateway) -> None:
    gateway.create(NAMESPACES, None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "t", "labels": {"a": "1"}}})
    gateway.create(PODS, "t", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})
    assert [n["metadata"]["name"] for n in gateway.list(NAMESPACES, label_selector="a=1")] == ["t"]
    gateway.delete(NAMESPACES, None, "t")
    with pytest.raises(NotFound):
        gateway.get(NAMESPACES, None, "t")
    assert cluster.emulator.live("v1/pods") == []


def test_delete_collection_honours_its_selector(cluster: EmulatorHarness, gateway: Gateway) -> None:
    for name, run in (("a", "1"), ("b", "2")):
        gateway.create(CONFIGMAPS, "ns", {"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": name, "labels": {"run": run}}})
    gateway.request("DELETE", CONFIGMAPS.path("ns"), query={"labelSelector": "run=1"})
    assert [c["metadata"]["name"] for c in cluster.emulator.live("v1/configmaps")] == ["b"]


def test_dry_run_service_is_refused_with_the_api_servers_exact_message(cluster: EmulatorHarness, gateway: Gateway) -> None:
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "probe"},
           "spec": {"clusterIP": "1.1.1.1", "clusterIPs": ["1.1.1.1"]}}
    with pytest.raises(Invalid) as err:
        gateway.create(SERVICES, "default", svc, dry_run=True)
    assert err.value.server_message == (
        'Service "probe" is invalid: spec.clusterIPs: Invalid value: []string{"1.1.1.1"}: failed to allocate IP '
        "1.1.1.1: the provided IP (1.1.1.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16")
    assert cluster.emulator.live("v1/services") == []


def test_denied_verb_answers_403_and_access_review_agrees(cluster: EmulatorHarness, gateway: Gateway) -> None:
    cluster.emulator.deny("list", "events")
    with pytest.raises(Forbidden, match='cannot list resource "events"'):
        gateway.request("GET", "/api/v1/events", verb="list", resource="events")
    from multus_check.kube.resources import EVENTS

    assert gateway.can_i("list", EVENTS) is False
    assert gateway.can_i("list", NODES) is True


def test_injected_faults_are_served_once_each_then_normal_answers(cluster: EmulatorHarness, gateway: Gateway) -> None:
    cluster.emulator.fail_next("GET", r"^/api/v1/nodes$", 503, 503)
    gateway.list(NODES)
    assert cluster.emulator.count_calls("GET", r"^/api/v1/nodes$") == 3


@pytest.mark.parametrize(("selector", "labels", "expected"), [
    ("a=1", {"a": "1"}, True), ("a==1", {"a": "2"}, False), ("a!=1", {}, True), ("a", {"a": ""}, True),
    ("!a", {"a": "x"}, False), ("a in (1, 2),b", {"a": "2", "b": "x"}, True), ("a notin (1,2)", {"a": "1"}, False),
])
def test_label_matcher_follows_the_selector_grammar(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert label_matcher(selector)({"metadata": {"labels": labels}}) is expected


def test_field_matcher_reads_nested_fields() -> None:
    event = {"type": "Warning", "involvedObject": {"kind": "Pod"}}
    assert field_matcher("type=Warning,involvedObject.kind=Pod")(event)
    assert not field_matcher("type!=Warning")(event)


def test_harness_writes_a_usable_kubeconfig(cluster: EmulatorHarness, tmp_path: Path) -> None:
    assert cluster.url.startswith("http://127.0.0.1:")
    assert "emulator" in cluster.kubeconfig.read_text()


def test_a_list_pinned_to_one_name_by_field_selector_is_authorized_as_that_name(cluster: EmulatorHarness, gateway: Gateway) -> None:
    """As the API server does (requestinfo: fieldSelector metadata.name=X sets the request's name), so that a
    Role with `resourceNames: [kubernetes]` grants the read of the `kubernetes` Service and nothing else."""
    cluster.emulator.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"}})
    cluster.emulator.authorizer = lambda verb, group, res, ns, name: (verb, res, name) == ("list", "services", "kubernetes")
    assert len(gateway.list(SERVICES, namespace="default", field_selector="metadata.name=kubernetes")) == 1
    with pytest.raises(Forbidden):
        gateway.list(SERVICES, namespace="default")
    with pytest.raises(Forbidden):
        gateway.list(SERVICES, namespace="default", field_selector="metadata.name!=kubernetes")
