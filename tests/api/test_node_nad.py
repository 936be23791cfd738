"""`multus-check node --nad [NS/]NAME`: the NAD's config read from the cluster, and every way that fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from multus_check import cli
from multus_check.errors import Unreachable, UsageError
from multus_check.kube.connect import ClusterTarget
from multus_check.pipeline.node_run import nad_from_cluster
from tests.api.emulator import ClusterEmulator
from tests.api.harness import EmulatorHarness

CONFIG = json.dumps({"cniVersion": "0.3.1", "type": "macvlan", "master": "eth0", "mode": "bridge",
                     "ipam": {"type": "dhcp"}})


def nad(name: str, namespace: str, spec: dict[str, object]) -> dict[str, object]:
    return {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[ClusterEmulator, str]]:
    em = ClusterEmulator()
    em.install_nad_crd()
    em.put(nad("macvlan-lan", "default", {"config": CONFIG}))
    em.put(nad("lan-iot", "home", {"config": CONFIG.replace("eth0", "eno1")}))
    em.put(nad("empty", "default", {}))
    with EmulatorHarness(em, tmp_path / "kubeconfig") as h:
        yield em, str(h.kubeconfig)


def test_name_alone_means_the_default_namespace_and_ns_slash_name_another(cluster: tuple[ClusterEmulator, str]) -> None:
    em, kc = cluster
    got = nad_from_cluster("macvlan-lan", ClusterTarget(kc))
    assert (got.namespace, got.name, got.config, got.label) == ("default", "macvlan-lan", CONFIG, "NAD default/macvlan-lan")
    other = nad_from_cluster("home/lan-iot", ClusterTarget(kc))
    assert other.ref == "home/lan-iot" and json.loads(other.config)["master"] == "eno1"
    # one review, then a list narrowed to the name (authorized by it: readonly.yaml's list covers it)
    assert [(m, p, q) for m, p, q in em.calls if "network-attachment-definitions" in p] == [
        ("GET", f"/apis/k8s.cni.cncf.io/v1/namespaces/{ns}/network-attachment-definitions", f"fieldSelector=metadata.name%3D{n}")
        for ns, n in (("default", "macvlan-lan"), ("home", "lan-iot"))]
    assert em.count_calls("POST", "selfsubjectaccessreviews") == 2


@pytest.mark.parametrize(("ref", "expected"), [
    ("nope", "no such NetworkAttachmentDefinition"),
    ("home/macvlan-lan", "no such NetworkAttachmentDefinition"),
    ("default/empty", "has no spec.config string"),
    ("default/", "expected NAME or NAMESPACE/NAME"),
])
def test_a_missing_or_empty_nad_is_a_usage_error_naming_it(cluster: tuple[ClusterEmulator, str], ref: str,
                                                          expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        nad_from_cluster(ref, ClusterTarget(cluster[1]))


def test_rbac_forbidden_is_found_by_review_first_naming_the_permission_and_the_manifest(
        cluster: tuple[ClusterEmulator, str]) -> None:
    em, kc = cluster
    em.deny("list", "network-attachment-definitions.k8s.cni.cncf.io")
    with pytest.raises(UsageError) as err:
        nad_from_cluster("macvlan-lan", ClusterTarget(kc))
    assert str(err.value) == (
        "--nad default/macvlan-lan: not allowed to read it (RBAC does not grant list "
        "network-attachment-definitions.k8s.cni.cncf.io 'macvlan-lan' in namespace default); it takes list "
        "network-attachment-definitions.k8s.cni.cncf.io 'macvlan-lan' in namespace default: fixtures/rbac/readonly.yaml "
        "grants list on network-attachment-definitions (the least is a Role in namespace default with list and "
        "resourceNames: [macvlan-lan]), or pass --nad-config FILE")
    assert not [c for c in em.calls if "network-attachment-definitions" in c[1]], "nothing sent after the review"


def test_without_the_crd_the_error_says_the_crd_is_missing(tmp_path: Path) -> None:
    with (EmulatorHarness(ClusterEmulator(), tmp_path / "kubeconfig") as h,
          pytest.raises(UsageError, match="CRD is not installed")):
        nad_from_cluster("macvlan-lan", ClusterTarget(str(h.kubeconfig)))


def test_the_command_refuses_both_sources_and_an_unreachable_api_exits_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "nad.json"
    conf.write_text(CONFIG)
    assert cli.main(["node", "--nad", "x", "--nad-config", str(conf)]) == 2
    assert "either --nad" in capsys.readouterr().err
    kubeconfig = tmp_path / "kc"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}], "users": [{"name": "u", "user": {}}]}))
    with pytest.raises(Unreachable, match="cannot reach the API server"):
        nad_from_cluster("macvlan-lan", ClusterTarget(str(kubeconfig)))
    # the NAD is read before anything that needs root happens; as a non-root user only the root gate
    # stands in the way, so the test passes it without being root
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert cli.main(["node", "--nad", "macvlan-lan", "--kubeconfig", str(kubeconfig), "--no-static"]) == 2
    assert "error: cannot reach the API server" in capsys.readouterr().err


SECRET_CONFIG = json.dumps({"cniVersion": "0.4.0", "name": "macvlan-lan", "plugins": [
    {"type": "macvlan", "master": "eth0", "mode": "bridge", "ipam": {"type": "dhcp"},
     "apiKey": "NODE-SECRET-1", "webhook": "https://bot:NODE-SECRET-2@hooks.lan/x"}]}, indent=2)


def test_the_node_commands_snapshot_findings_and_reports_hold_the_nad_config_redacted(
        cluster: tuple[ClusterEmulator, str], tmp_path: Path) -> None:
    """`multus-check node` judges the NAD under test with the cluster's checks (nad.config-valid shows the
    config as evidence) and can save it as a snapshot: the same redaction as every collected object."""
    from multus_check.checks.engine import run_checks
    from multus_check.pipeline.node_run import NODE_STATIC_CHECKS, NadSource, host_snapshot
    from multus_check.report.junit import render_junit
    from multus_check.report.results import Results
    from multus_check.snapshot import write_snapshot
    from multus_check.snapshot.data import NodeFacts

    em, kc = cluster
    em.put(nad("with-secrets", "default", {"config": SECRET_CONFIG}))
    for source in (NadSource(SECRET_CONFIG, "nad.json"), nad_from_cluster("with-secrets", ClusterTarget(kc))):
        assert source.config == SECRET_CONFIG, "the data path probe gets the real config"
        snap = host_snapshot(NodeFacts("labnode"), source)
        findings = run_checks(snap, include=NODE_STATIC_CHECKS)
        results = Results.build(findings, source={"kind": "node"}, checks={})
        write_snapshot(snap, tmp_path / source.name)
        written = "".join(p.read_text() for p in (tmp_path / source.name).rglob("*") if p.is_file())
        outputs = json.dumps(results.to_dict()) + render_junit(results) + written
        assert "NODE-SECRET" not in outputs
        (config,) = [f.evidence["config"] for f in findings if f.check == "nad.config-valid"]
        assert json.loads(config)["plugins"][0]["apiKey"] == "<redacted by multus-check>"
