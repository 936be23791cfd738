"""The collector pod: its manifest, the code bundle it runs, and what it prints.

fixtures/manifests/collector-pod.yaml is the manifest for a sample k3s node, for people to
read; the test keeps it equal to what the code creates (regenerate: python -m tests.api.test_collector_pod).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from multus_check.collect.live.bundle import build_bundle
from multus_check.collect.live.collector_manifest import collector_pod, configmap_manifest, host_mounts
from multus_check.collect.live.options import DEFAULT_COLLECTOR_IMAGE
from multus_check.collect.live.pod_entry import BEGIN, END, unmask_created_mounts
from multus_check.collect.live.wire import CollectorOutputError, parse_collector_log

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "fixtures" / "manifests" / "collector-pod.yaml"
SAMPLE_NODE = {"metadata": {"name": "k3s-agent-1"}, "status": {"nodeInfo": {"kubeletVersion": "v1.31.2+k3s1"}}}


def sample_manifests() -> list[dict[str, Any]]:
    bundle = build_bundle()
    cm = configmap_manifest("multus-check", "20260101000000-abcd", bundle)
    cm["data"] = {k: "<source of the file, shipped by multus-check>" for k in cm["data"]}
    pod = collector_pod("multus-check", "20260101000000-abcd", 0, SAMPLE_NODE, DEFAULT_COLLECTOR_IMAGE, 120, bundle)
    return [cm, pod]


def render() -> str:
    head = "# Generated from multus_check/collect/live/collector_manifest.py for a k3s node (tests/api/test_collector_pod.py).\n"
    return head + yaml.safe_dump_all(sample_manifests(), sort_keys=False)


def test_the_documented_manifest_is_what_the_code_creates() -> None:
    assert MANIFEST.read_text() == render()


def test_the_pod_is_pinned_tolerant_read_only_and_bounded() -> None:
    pod = sample_manifests()[1]
    spec = pod["spec"]
    container = spec["containers"][0]
    assert spec["nodeName"] == "k3s-agent-1" and spec["hostNetwork"] is True
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert spec["activeDeadlineSeconds"] == 120 and spec["automountServiceAccountToken"] is False
    assert container["resources"]["limits"] == {"cpu": "200m", "memory": "64Mi"}
    assert all(m["readOnly"] for m in container["volumeMounts"])
    host_paths = sorted(v["hostPath"]["path"] for v in spec["volumes"] if "hostPath" in v)
    assert host_paths == sorted(m.path for m in host_mounts(SAMPLE_NODE))
    assert "/var/lib/rancher/k3s/data" in host_paths and "/" not in host_paths and "/etc" not in host_paths
    assert pod["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "multus-check"


def test_non_k3s_nodes_get_no_k3s_mounts() -> None:
    assert not any("rancher" in m.path for m in host_mounts({"metadata": {"name": "n"}, "status": {}}))


def test_the_bundle_runs_on_a_bare_python_with_only_the_standard_library(tmp_path: Path) -> None:
    bundle = build_bundle()
    for path, text in bundle.files.items():
        (tmp_path / "code" / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "code" / path).write_text(text)
    (tmp_path / "root" / "etc/cni/net.d").mkdir(parents=True)
    (tmp_path / "root" / "etc/cni/net.d/10-flannel.conflist").write_text('{"name":"cbr0"}')
    out = subprocess.run([sys.executable, "-S", "-E", "-B", str(tmp_path / "code" / "entry.py"), "--node", "n1",
                          "--root", str(tmp_path / "root")], capture_output=True, text=True, timeout=30,
                         env={"PATH": "/nonexistent"}, check=False)
    assert out.returncode == 0, out.stderr
    facts = parse_collector_log(out.stdout, "n1")
    assert facts.files["/etc/cni/net.d/10-flannel.conflist"] == '{"name":"cbr0"}'
    assert "ip-addr.json" in facts.unreadable  # no `ip` on PATH: said, not hidden


def test_an_empty_dir_made_by_the_mount_is_reported_absent(tmp_path: Path) -> None:
    old, fresh = tmp_path / "run/flannel", tmp_path / "run/cni"
    old.mkdir(parents=True)
    fresh.mkdir(parents=True)
    os.utime(old, (time.time() - 86400, time.time() - 86400))
    doc: dict[str, Any] = {"dirs": {"/run/flannel": [], "/run/cni": [], "/opt/cni/bin": [{"name": "x"}]}}
    gone = unmask_created_mounts(doc, str(tmp_path), ["/run/flannel", "/run/cni", "/opt/cni/bin"], time.time())
    assert gone == ["/run/cni"]
    assert doc["dirs"] == {"/run/flannel": [], "/run/cni": None, "/opt/cni/bin": [{"name": "x"}]}


def test_a_cut_short_or_failed_log_is_an_error_that_says_so() -> None:
    doc = json.dumps({"name": "n1", "files": {}, "dirs": {}})
    for text, expected in ((f"{BEGIN}\n{doc}\n", "cut short"), ("", "printed no facts"),
                           (f"{BEGIN}\n{json.dumps({'error': 'OSError: boom'})}\n{END}\n", "OSError: boom"),
                           (f"{BEGIN}\n{doc}\n{END}\n".replace('"n1"', '"n2"'), "not 'n1'")):
        try:
            parse_collector_log(text, "n1")
        except CollectorOutputError as exc:
            assert expected in str(exc)
        else:
            raise AssertionError(f"accepted: {text!r}")


if __name__ == "__main__":
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    MANIFEST.write_text(render())
    print(f"wrote {MANIFEST}")


def test_the_no_iproute2_fallback_agrees_with_ip_json_on_this_machine() -> None:
    import shutil

    from multus_check.collect import netinfo

    if shutil.which("ip") is None:
        import pytest

        pytest.skip("no iproute2 here to compare with")
    real_addr = json.loads(subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True).stdout)
    real_route = json.loads(subprocess.run(["ip", "-j", "-4", "route"], capture_output=True, text=True, check=True).stdout)
    mine = netinfo.ip_addr()
    assert [link["ifname"] for link in mine] == [link["ifname"] for link in real_addr]
    for ours, theirs in zip(mine, real_addr, strict=True):
        v4 = [(a["local"], a["prefixlen"]) for a in theirs.get("addr_info", []) if a["family"] == "inet"]
        assert [(a["local"], a["prefixlen"]) for a in ours["addr_info"]] == v4[:1]
        assert ours["address"] == theirs.get("address")
        assert ("UP" in ours["flags"]) == ("UP" in theirs["flags"])
    assert sorted((r["dst"], r["dev"], r.get("gateway")) for r in netinfo.ip_route()) == \
        sorted((r["dst"], r["dev"], r.get("gateway")) for r in real_route if r.get("type", "unicast") == "unicast")
