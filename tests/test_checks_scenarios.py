"""Every check passes on the healthy seed setup and fails, naming the cause, on its scenario."""

from __future__ import annotations

import pytest

from multus_check.checks import registry
from multus_check.checks.engine import run_checks
from multus_check.model import Status
from tests.conftest import SNAPSHOTS, fixture_snapshot

# scenario -> (check that must fail, subject of a failing finding, words its message must contain)
EXPECTED = {
    "flannel-missing": ("flannel.installed", "cluster", "No flannel DaemonSet"),
    "flannel-k3s-embedded": ("flannel.k3s-embedded", "cluster", "embedded flannel"),
    "flannel-conf-not-surfaced": ("flannel.conf-surfaced", "node/k3s-agent-2", "no flannel CNI config"),
    "flannel-podcidr-outside-network": ("flannel.network-contains-pod-cidrs", "node/k3s-agent-2",
                                        "doesn't contain \"10.44.3.0/24\" PodCIDR of the \"k3s-agent-2\" node"),
    "flannel-per-arch-uncovered": ("flannel.installed", "node/k3s-agent-2", "selected by none of the flannel DaemonSets"),
    "flannel-ipv6-podcidr-outside": ("flannel.network-contains-pod-cidrs", "node/k3s-agent-2",
                                     "doesn't contain \"fd00:42:0:4::/64\" IPv6 PodCIDR of the \"k3s-agent-2\" node"),
    "cidr-service-routing": ("cidr.service-routing", "cluster", "cluster DNS 10.43.0.10 leaves via net1"),
    "cidr-supernet-unsafe": ("cidr.supernet-safety", "cluster", "overlaps the LAN"),
    "plugins-missing": ("plugins.present", "node/k3s-agent-1", 'failed to find plugin "dhcp"'),
    "dhcp-daemon-broken": ("dhcp.daemon", "node/k3s-agent-1", "connect: no such file or directory"),
    "multus-missing": ("multus.installed", "cluster", "No Multus DaemonSet"),
    "multus-conf-not-first": ("multus.conf-first", "node/k3s-agent-1", "00-cilium.conflist sorts before"),
    "multus-nested-delegates": ("multus.nested-delegates", "node/k3s-server", "interface name net1 already exists"),
    "multus-kubeconfig-missing": ("multus.kubeconfig", "node/k3s-agent-1", "does not exist"),
    "nad-crd-missing": ("nad.crd", "cluster", "CRD is missing"),
    "nad-config-invalid": ("nad.config-valid", "nad/default/macvlan-lan", "not valid JSON"),
    "nad-master-broken": ("nad.master", "node/k3s-agent-1 nad/default/macvlan-lan", "is DOWN"),
    "events-known-failures": ("events.known-failures", "pod/default/plex-0", "catalog F1"),
    "nad-ipv6-not-ready": ("nad.ipv6-ready", "nad/default/macvlan-lan", "accept_ra_rt_info_max_plen is not set"),
}
#: checks that only warn by design (a setup that does not need what they look at still works)
WARN_ONLY = {"nad.ipv6-ready"}


def test_every_static_check_has_a_broken_scenario() -> None:
    static = {s.id for s in registry.all_checks() if s.kind == "static"}
    missing = sorted(static - {check for check, _, _ in EXPECTED.values()})
    assert not missing, (f"{missing}: add a broken scenario to fixtures/snapshots/generate.py, run it, and add it to "
                         "EXPECTED here (scenario -> check, failing subject, words of its message)")
    assert static == {check for check, _, _ in EXPECTED.values()}
    on_disk = {p.name for p in SNAPSHOTS.iterdir() if p.is_dir()}
    assert set(EXPECTED) | {"healthy-k3s"} == on_disk


def test_healthy_seed_setup_passes_every_check() -> None:
    findings = run_checks(fixture_snapshot("healthy-k3s"))
    assert findings
    bad = [f"{f.check} {f.subject}: {f.message}" for f in findings if f.status is not Status.PASS]
    assert bad == []
    assert {f.check for f in findings} == {s.id for s in registry.all_checks() if s.kind == "static"}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_each_scenario_fails_its_check_naming_the_cause(scenario: str) -> None:
    check_id, subject, words = EXPECTED[scenario]
    findings = run_checks(fixture_snapshot(scenario), include=[check_id])
    worst = Status.WARN if check_id in WARN_ONLY else Status.FAIL
    failed = [f for f in findings if f.status is worst]
    assert failed, [f.message for f in findings]
    hit = [f for f in failed if f.subject == subject]
    assert hit, [f.subject for f in failed]
    assert words in hit[0].message
    assert hit[0].remediation, "a failure must say how to fix it"
    assert not any(f.status is Status.ERROR for f in findings)


def test_per_node_checks_judge_each_node_separately() -> None:
    findings = run_checks(fixture_snapshot("dhcp-daemon-broken"), include=["dhcp.daemon"])
    by_subject = {f.subject: f.status for f in findings}
    assert by_subject == {"node/k3s-server": Status.PASS, "node/k3s-agent-1": Status.FAIL, "node/k3s-agent-2": Status.FAIL}
    stale = next(f for f in findings if f.subject == "node/k3s-agent-2")
    assert "connection refused" in stale.message


def test_nad_master_names_missing_down_and_wireless_masters() -> None:
    findings = {f.subject.split()[0]: f for f in run_checks(fixture_snapshot("nad-master-broken"), include=["nad.master"])}
    assert findings["node/k3s-server"].status is Status.PASS
    assert "DOWN" in findings["node/k3s-agent-1"].message
    assert "wireless" in findings["node/k3s-agent-2"].message


def test_service_routing_reports_which_condition_holds() -> None:
    ok = run_checks(fixture_snapshot("healthy-k3s"), include=["cidr.service-routing"])[0]
    assert ok.evidence["conditions"] == {"S1": True, "S2": False, "S3": False}
    assert "10.43.0.0/16" in ok.evidence["service_cidrs"]
    assert ok.evidence["service_cidr_source"] == "server-side dry-run Service probe"
    bad = run_checks(fixture_snapshot("cidr-service-routing"), include=["cidr.service-routing"])[0]
    assert bad.evidence["conditions"] == {"S1": False, "S2": False, "S3": False}
    assert "10.42.0.0/15" in bad.remediation, "siblings 10.42/16 + 10.43/16 may be widened safely"
    assert registry.get("cidr.service-routing").fix == "flannel-service-routes"


def test_service_routing_accepts_flannel_ipam_routes_as_s2() -> None:
    snap = fixture_snapshot("cidr-service-routing")
    cm = snap.get("ConfigMap", "kube-flannel", "kube-flannel-cfg")
    assert cm is not None
    cm["data"]["cni-conf.json"] = cm["data"]["cni-conf.json"].replace(
        '"type": "flannel",', '"type": "flannel", "ipam": {"routes": [{"dst": "10.43.0.0/16"}]},')
    f = run_checks(snap, include=["cidr.service-routing"])[0]
    assert f.status is Status.PASS and f.evidence["conditions"]["S2"] is True


def test_service_routing_accepts_dhcp_priority_as_s3() -> None:
    snap = fixture_snapshot("cidr-service-routing")
    nad = snap.get("NetworkAttachmentDefinition", "default", "macvlan-lan")
    assert nad is not None
    nad["spec"]["config"] = nad["spec"]["config"].replace('"type": "dhcp"', '"type": "dhcp", "priority": 100')
    snap.objects = [o for o in snap.objects if o["kind"] != "Pod"]  # no running pod shows a net1 gateway
    snap.invalidate()
    f = run_checks(snap, include=["cidr.service-routing"])[0]
    assert f.status is Status.PASS and f.evidence["conditions"]["S3"] is True


def test_service_cidr_source_falls_back_to_k3s_node_args_then_default() -> None:
    snap = fixture_snapshot("healthy-k3s")
    snap.facts.clear()
    f = run_checks(snap, include=["cidr.service-routing"])[0]
    assert f.evidence["service_cidr_source"] == "k3s default (no --service-cidr in node-args)"
    node = snap.get("Node", None, "k3s-server")
    assert node is not None
    node["metadata"]["annotations"]["k3s.io/node-args"] = '["server","--flannel-backend","none","--service-cidr","10.45.0.0/16"]'
    snap.invalidate()
    f = run_checks(snap, include=["cidr.service-routing"])[0]
    assert f.evidence["service_cidr_source"] == "k3s server node-args --service-cidr"
    assert f.evidence["service_cidrs"] == ["10.45.0.0/16"] and f.status is Status.FAIL


def test_thin_v402_is_flagged_even_before_it_nests() -> None:
    snap = fixture_snapshot("healthy-k3s")
    ds = snap.get("DaemonSet", "kube-system", "kube-multus-ds")
    assert ds is not None
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/k8snetworkplumbingwg/multus-cni:v4.0.2"
    f = run_checks(snap, include=["multus.installed"])[0]
    assert f.status is Status.WARN and "nests its own config" in f.message


def test_malformed_net_conf_json_fails_flannel_and_blocks_the_cidr_checks() -> None:
    snap = fixture_snapshot("healthy-k3s")
    cm = snap.get("ConfigMap", "kube-flannel", "kube-flannel-cfg")
    assert cm is not None
    cm["data"]["net-conf.json"] = '{"Network": "10.42.0.0/15", "Backend": {"Type": "vxlan"'
    findings = {f.check: f for f in run_checks(snap, include=["flannel.network-contains-pod-cidrs", "cidr.*"])}
    flannel = findings["flannel.network-contains-pod-cidrs"]
    assert flannel.status is Status.FAIL and "is not valid JSON" in flannel.message
    assert "error parsing subnet config" in flannel.message
    assert findings["cidr.service-routing"].status is Status.ERROR
    assert findings["cidr.supernet-safety"].status is Status.ERROR
