"""Validate objects against the real Kubernetes OpenAPI schemas that `kubernetes-validate` bundles, strict.

Offline: the schemas are files inside the wheel (one directory per Kubernetes release) and nothing
is fetched. This follows `kubernetes_validate.utils.validate` exactly (same files, the `-strict`
variants, same `$ref` registry, Draft 2020-12), keeping the parsed schemas and validators, since
the library re-reads its 1 MB definitions file on every call (30 ms each; hundreds of bodies
here). test_schemas.py checks that both give the same verdicts.

Custom resources have no schema there: a NetworkAttachmentDefinition is validated against the
`openAPIV3Schema` of the CRD that multus-check itself installs, and its metadata against ObjectMeta.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jsonschema
from kubernetes_validate import utils
from referencing import Registry, Resource

from multus_check.fixes.install_multus import crd

#: the oldest Kubernetes release the tool supports, and the newest this kubernetes-validate bundles
VERSIONS = ("1.28.0", utils.latest_version())


class SchemaMissing(Exception):
    """No bundled schema for this kind and apiVersion in this release."""


def errors(obj: dict[str, Any], version: str, schema_name: str | None = None) -> list[str]:
    """Every violation of the strict schema for `obj` (by its kind and apiVersion, or `schema_name`,
    e.g. "deleteoptions-meta-v1"), as `path: message`."""
    if schema_name is None and obj.get("kind") == "NetworkAttachmentDefinition":
        return _nad_errors(obj, version)
    name = schema_name or _schema_name(obj)
    validator = _validator(version, name)
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(obj)]


def _schema_name(obj: dict[str, Any]) -> str:
    """pod-v1, daemonset-apps-v1, clusterrole-rbac-v1: the file name kubernetes-validate looks up."""
    api_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", str(obj["apiVersion"]))
    return f"{str(obj['kind']).lower()}-{api_version}"


@functools.cache
def _definitions(version: str) -> Resource[Any]:
    return Resource.from_contents(utils.schema_contents(f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version))


@functools.cache
def _validator(version: str, name: str) -> jsonschema.protocols.Validator:
    try:
        schema = utils.schema_contents(f"kubernetes-json-schema/v{version}-local-strict/{name}.json", version)
    except FileNotFoundError as exc:
        raise SchemaMissing(f"no schema {name} for Kubernetes {version}") from exc
    registry: Registry[Any] = _definitions(version) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _nad_errors(obj: dict[str, Any], version: str) -> list[str]:
    schema = crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    found = [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
             for e in jsonschema.validators.Draft202012Validator(schema).iter_errors(obj)]
    found += [f"metadata.{m}" for m in errors(obj.get("metadata") or {}, version, "objectmeta-meta-v1")]
    # the CRD's schema is structural: the API server would prune (silently drop) unknown fields
    found += [f"(top): unknown field {k}" for k in sorted(set(obj) - {"apiVersion", "kind", "metadata", "spec"})]
    found += [f"spec: unknown field {k}" for k in sorted(set(obj.get("spec") or {}) - {"config"})]
    return found
