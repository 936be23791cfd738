"""The sample pod and its ConfigMap, as applied to the cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from multus_check.e2e import sample_manifest as podspec
from multus_check.e2e.sample_manifest import Target
from multus_check.kube.podrun import MANAGED_BY, RUN_LABEL


def test_sample_pod_requests_the_nad_as_net1_on_its_node_with_only_net_raw() -> None:
    pod = podspec.sample_pod("multus-check", "r1", 0, Target("lan", "macvlan-lan", "node-a"), "img:1",
                             ["10.43.0.10", "10.43.0.1"], 150)
    meta, spec = pod["metadata"], pod["spec"]
    assert json.loads(meta["annotations"][podspec.NETWORKS_ANNOTATION]) == [
        {"name": "macvlan-lan", "namespace": "lan", "interface": "net1"}]
    assert meta["labels"][MANAGED_BY] == "multus-check" and meta["labels"][RUN_LABEL] == "r1"
    assert spec["nodeName"] == "node-a" and "hostNetwork" not in spec and spec["restartPolicy"] == "Never"
    container = spec["containers"][0]
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"], "add": ["NET_RAW"]}
    cmd = container["command"]
    assert cmd[:3] == ["python3", "-B", "/opt/multus-check/pod_probe.py"]
    assert cmd.count("--route-to") == 2 and "10.43.0.10" in cmd
    assert spec["volumes"][0]["configMap"]["name"] == podspec.configmap_name("r1")


def test_configmap_ships_the_pod_probe_and_the_shared_multicast_probe() -> None:
    cm = podspec.configmap_manifest("multus-check", "r1")
    assert set(cm["data"]) == {"pod_probe.py", "probe_script.py", "probe_ipv6.py", "netinfo.py"}
    assert "def route_report" in cm["data"]["pod_probe.py"] and "def run_probes" in cm["data"]["probe_script.py"]
    assert "def parse_proc_route" in cm["data"]["netinfo.py"]  # the one interface/route reader, shipped beside them


def _run_shipped(code: Path, statement: str, extra_path: str = "") -> subprocess.CompletedProcess[str]:
    """`python -S` in the directory of the shipped files: no site-packages, so no multus_check and no scapy."""
    env = {"PATH": os.environ.get("PATH", ""), **({"PYTHONPATH": extra_path} if extra_path else {})}
    return subprocess.run([sys.executable, "-S", "-B", "-c", statement], cwd=code, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_the_shipped_files_run_from_the_configmap_alone(tmp_path: Path) -> None:
    """What the sample pod gets is self-contained: the reader and the pod probe need only the standard library,
    the probes only it and scapy; none of them needs the multus_check package."""
    import scapy

    code = tmp_path / "code"
    code.mkdir()
    for name, text in podspec.code_files().items():
        (code / name).write_text(text)
    stdlib = _run_shipped(code, "import importlib.util, netinfo, pod_probe\n"
                                "assert importlib.util.find_spec('multus_check') is None\n"
                                "print(netinfo.interface('lo')['present'], pod_probe.netinfo.__name__)")
    assert stdlib.returncode == 0 and stdlib.stdout.split() == ["True", "netinfo"], stdlib.stderr
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "scapy").symlink_to(Path(scapy.__file__).parent)
    probes = _run_shipped(code, "import probe_script, probe_ipv6\n"
                                "print(probe_script.netinfo.__name__, probe_ipv6.core.__name__, probe_ipv6.netinfo.__name__)",
                          extra_path=str(lib))
    assert probes.returncode == 0 and probes.stdout.split() == ["netinfo", "probe_script", "netinfo"], probes.stderr


def test_static_mac_annotation_is_the_exact_multus_selection_element() -> None:
    text = podspec.static_mac_annotation("default", "macvlan-lan", "3a:21:36:0d:ee:87")
    assert text == '[{"name": "macvlan-lan", "namespace": "default", "mac": "3a:21:36:0d:ee:87"}]'


def test_the_shipped_probe_pod_manifest_is_what_sample_pod_builds() -> None:
    """fixtures/manifests/probe-pod.yaml says it is generated from sample_pod: keep it true."""
    from pathlib import Path

    import yaml

    from multus_check.e2e.sample_manifest import sample_pod

    shipped = yaml.safe_load((Path(__file__).resolve().parents[2] / "fixtures" / "manifests" / "probe-pod.yaml").read_text())
    built = sample_pod("multus-check", "RUNID", 0, Target("default", "macvlan-conf", "NODE"),
                       "docker.io/nicolaka/netshoot:v0.13", ["10.43.0.10", "10.43.0.1"], 150)
    assert shipped == built
