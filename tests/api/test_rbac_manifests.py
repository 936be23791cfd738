"""The shipped RBAC manifests are enough, and the preflight check names what is missing.

Whole collections run under exactly the permissions the manifests grant (the emulator
authorizes every request, SelfSubjectAccessReviews included, from the manifests' rules).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from multus_check.collect.live.preflight import READS
from multus_check.errors import Forbidden
from multus_check.kube.podrun import pod_permissions
from multus_check.kube.resources import Resource
from multus_check.snapshot import SectionState
from tests.api.rbac import Rbac
from tests.api.scenario import FIXTURES, scenario
from tests.api.test_collect_roundtrip import managed_objects

HEALTHY = FIXTURES / "healthy-k3s"


def _authorizer(files: tuple[str, ...]) -> Any:
    return Rbac(files).allows


def _grants(files: tuple[str, ...], verb: str, resource: Resource | str, ns: str | None, name: str = "") -> bool:
    if isinstance(resource, Resource):
        group, res = resource.group, resource.plural
    else:
        group, res = "", resource
    return Rbac(files).allows(verb, group, res, ns, name or None)


def test_readonly_manifest_grants_every_read_the_preflight_checks() -> None:
    missing = [str(p) for p in READS if not _grants(("readonly.yaml",), p.verb, p.resource, p.namespace, p.name)]
    assert missing == []


def test_node_facts_manifest_grants_what_node_facts_need_in_its_namespace_only() -> None:
    files = ("readonly.yaml", "node-facts.yaml")
    needed = pod_permissions("multus-check", create_namespace=False)
    assert [str(p) for p in needed if not _grants(files, p.verb, p.resource, p.namespace, p.name)] == []
    assert not _grants(files, "create", "pods", "default")
    assert not _grants(files, "create", "namespaces", None)


def test_readonly_rbac_suffices_for_an_api_only_diagnosis(tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path) as sc:
        sc.emulator.authorizer = _authorizer(("readonly.yaml",))
        snap = sc.collect(node_facts=False)
    bad = {k: s for k, s in snap.sections.items() if s.state in (SectionState.FORBIDDEN, SectionState.FAILED)}
    assert bad == {}


def test_node_facts_rbac_with_its_namespace_suffices_for_a_full_diagnosis(tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path) as sc:
        sc.emulator.authorizer = _authorizer(("readonly.yaml", "node-facts.yaml"))
        sc.emulator.namespaces["multus-check"] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multus-check"}}
        snap = sc.collect()
        assert managed_objects(sc) == ["namespace/multus-check"]  # it existed: kept, emptied
    assert {s.state for s in snap.sections.values()} <= {SectionState.OK, SectionState.UNSUPPORTED}
    assert len(snap.nodes) == 3
    assert snap.facts["serviceCIDR"]["source"] == "server-side dry-run Service probe"


def test_readonly_rbac_without_no_node_facts_fails_up_front_naming_the_manifest(tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path) as sc:
        sc.emulator.authorizer = _authorizer(("readonly.yaml",))
        with pytest.raises(Forbidden) as err:
            sc.collect()
        assert managed_objects(sc) == []
    assert "create pods in namespace multus-check" in str(err.value)
    assert "fixtures/rbac/node-facts.yaml" in str(err.value)


def test_without_create_services_the_cidr_probe_is_skipped_not_refused(tmp_path: Path) -> None:
    with scenario(HEALTHY, tmp_path) as sc:
        rbac = Rbac(("readonly.yaml", "node-facts.yaml"))
        sc.emulator.authorizer = lambda verb, group, res, ns, name: (verb, res) != ("create", "services") and rbac.allows(
            verb, group, res, ns, name)
        sc.emulator.namespaces["multus-check"] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "multus-check"}}
        snap = sc.collect()
        probes = sc.emulator.count_calls("POST", r"/services$")
    assert probes == 0
    tried = {t["method"]: t["result"] for t in snap.facts["serviceCIDR"]["tried"]}
    assert tried["server-side dry-run Service probe"] == (
        "skipped: RBAC does not grant create services in namespace multus-check (SelfSubjectAccessReview)")
    assert len(snap.nodes) == 3, "node facts do not depend on the probe"
