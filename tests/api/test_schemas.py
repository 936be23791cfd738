"""Every object multus-check sends, and every manifest in fixtures/, is valid for the real API server.

Strict validation (unknown fields are errors) against the Kubernetes OpenAPI schemas bundled with
`kubernetes-validate`, for Kubernetes 1.28 (the oldest supported) and the newest release the
installed kubernetes-validate bundles, offline. The bodies are the ones recorded from every
documented mode (tests/api/modes.py): collector and sample pods, namespaces, ConfigMaps, the
dry-run Service, DaemonSets, NADs, the CRD, RBAC objects, ServiceAccounts, workload replacements,
access reviews and delete options.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils

from tests.api import schemas
from tests.api.modes import StepRecord

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = sorted([*(ROOT / "fixtures" / "manifests").glob("*.yaml"), *(ROOT / "fixtures" / "rbac").glob("*.yaml")])
SENT_KINDS = {"Pod", "ConfigMap", "Namespace", "Service", "DaemonSet", "CustomResourceDefinition", "ClusterRole",
              "ClusterRoleBinding", "ServiceAccount", "NetworkAttachmentDefinition", "Deployment", "StatefulSet",
              "SelfSubjectAccessReview", "DeleteOptions"}


def _bodies(recorded_modes: dict[str, StepRecord]) -> list[tuple[str, str, dict[str, Any]]]:
    """(where, schema kind, body) of every request that carried an object."""
    out = []
    for name, record in recorded_modes.items():
        for r in record.requests:
            if isinstance(r.body, dict) and r.body:
                kind = "DeleteOptions" if r.method == "DELETE" else str(r.body.get("kind"))
                out.append((f"{name}: {r.method} {r.path}", kind, r.body))
    return out


def _errors(kind: str, body: dict[str, Any], version: str) -> list[str]:
    return schemas.errors(body, version, "deleteoptions-meta-v1" if kind == "DeleteOptions" else None)


def test_kubernetes_validate_bundles_1_28_and_a_newer_release() -> None:
    bundled = set(utils.all_versions())
    assert {"1.28.0", schemas.VERSIONS[1]} <= bundled
    assert tuple(int(x) for x in schemas.VERSIONS[1].split(".")[:2]) >= (1, 33), "the newest bundled release is older than 1.33"


def test_validation_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("schema validation tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    schemas._validator.cache_clear()
    schemas._definitions.cache_clear()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    for version in schemas.VERSIONS:
        assert schemas.errors(pod, version) == []
        kubernetes_validate.validate(pod, version, strict=True)


def test_a_strict_schema_violation_is_caught() -> None:
    typo = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "i", "imagePulPolicy": "Always"}]}}
    no_selector = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "d"}, "spec": {"template": {}}}
    bad_nad = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition", "metadata": {"name": "n", "labelz": {}},
               "spec": {"config": {"type": "macvlan"}}}
    for version in schemas.VERSIONS:
        assert any("imagePulPolicy" in e for e in schemas.errors(typo, version))
        assert any("selector" in e for e in schemas.errors(no_selector, version))
        assert len(schemas.errors(bad_nad, version)) == 2  # metadata.labelz, spec.config not a string


def test_the_cached_validation_agrees_with_kubernetes_validate(recorded_modes: dict[str, StepRecord]) -> None:
    sample = [b for b in _bodies(recorded_modes) if b[1] not in ("DeleteOptions", "NetworkAttachmentDefinition")]
    by_kind = {kind: body for _, kind, body in sample}
    broken = dict(by_kind["Pod"], spec={**by_kind["Pod"]["spec"], "hostNetwrk": True})
    for version in schemas.VERSIONS:
        for body in [*by_kind.values(), broken]:
            try:
                kubernetes_validate.validate(body, version, strict=True)
                library_ok = True
            except kubernetes_validate.ValidationError:
                library_ok = False
            assert library_ok == (schemas.errors(body, version) == []), body.get("kind")


@pytest.mark.parametrize("version", schemas.VERSIONS)
def test_every_object_the_tool_sent_in_every_mode_is_valid(version: str, recorded_modes: dict[str, StepRecord]) -> None:
    bodies = _bodies(recorded_modes)
    assert {kind for _, kind, _ in bodies} == SENT_KINDS
    invalid = [f"{where}: {kind}: {e}" for where, kind, body in bodies for e in _errors(kind, body, version)]
    assert invalid == []


@pytest.mark.parametrize("version", schemas.VERSIONS)
@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_manifest_in_fixtures_is_valid(manifest: Path, version: str) -> None:
    docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    assert docs
    assert [f"{d['kind']} {d['metadata']['name']}: {e}" for d in docs for e in schemas.errors(d, version)] == []
