"""Property tests: malformed snapshots never crash the loader or the checks, and data that
is garbage never yields a `pass` for the checks that depend on it."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multus_check.checks.engine import run_checks
from multus_check.errors import SnapshotError
from multus_check.model import Status
from multus_check.snapshot import load_snapshot
from tests.conftest import SNAPSHOTS

NODE = "k3s-agent-1"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


def _with(mutate: object) -> tuple[object, list[object]]:
    tmp = Path(tempfile.mkdtemp())
    try:
        root = tmp / "s"
        shutil.copytree(SNAPSHOTS / "healthy-k3s", root)
        assert callable(mutate)
        mutate(root)
        try:
            snap = load_snapshot(root)
        except SnapshotError as exc:
            return exc, []
        return snap, run_checks(snap)
    finally:
        shutil.rmtree(tmp)


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_as_cluster_yaml_never_crash(data: bytes) -> None:
    snap, findings = _with(lambda r: (r / "cluster.yaml").write_bytes(data))
    if isinstance(snap, SnapshotError):  # parsed, but not an object list at all: unusable input, named as such
        assert "cluster.yaml" in str(snap) and "expected `kind: List` with `items`" in str(snap)
        return
    assert findings and not any("crashed" in f.message for f in findings)


@SETTINGS
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_garbage_multus_config_never_passes_the_checks_that_read_it(data: bytes) -> None:
    path = f"nodes/{NODE}/files/etc/cni/net.d/00-multus.conf"
    _snap, findings = _with(lambda r: (r / path).write_bytes(data))
    mine = [f for f in findings if f.subject == f"node/{NODE}" and f.check in ("multus.nested-delegates", "multus.kubeconfig")]
    assert mine and not any("crashed" in f.message for f in findings)
    assert not any(f.status is Status.PASS for f in mine), [(f.check, f.message) for f in mine]


@SETTINGS
@given(json_values)
def test_any_json_as_dirs_or_ip_facts_never_crashes(value: object) -> None:
    def mutate(root: Path) -> None:
        for part in ("dirs.json", "ip-addr.json", "ip-route.json"):
            (root / "nodes" / NODE / part).write_text(json.dumps(value))

    _snap, findings = _with(mutate)
    assert findings and not any("crashed" in f.message for f in findings)
    master = [f for f in findings if f.check == "nad.master" and f.subject.startswith(f"node/{NODE}")]
    if not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
        assert master and master[0].status is Status.ERROR


@SETTINGS
@given(json_values.map(json.dumps) | st.text(max_size=80))
def test_any_nad_config_text_never_crashes_and_invalid_json_fails(config: str) -> None:
    def mutate(root: Path) -> None:
        doc = yaml.safe_load((root / "cluster.yaml").read_text())
        for item in doc["items"]:
            if item["kind"] == "NetworkAttachmentDefinition":
                item["spec"]["config"] = config
        (root / "cluster.yaml").write_text(yaml.safe_dump(doc))

    _snap, findings = _with(mutate)
    assert findings and not any("crashed" in f.message for f in findings)
    valid = [f for f in findings if f.check == "nad.config-valid"]
    try:
        ok = isinstance(json.loads(config), dict)
    except json.JSONDecodeError:
        ok = False
    if config == "":  # no spec.config: Multus looks in its confDir, which these snapshots did not collect
        assert valid and valid[0].status is Status.WARN and "confDir" in valid[0].message
    elif not ok:
        assert valid and valid[0].status is Status.FAIL
