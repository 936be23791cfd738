"""Credentials never leave the node: distinct tokens planted where real clusters keep them.

The emulated cluster (the multus-nested-delegates example, so `--fix` has a DaemonSet to show)
gets a different token in each place: containerd's config.toml as k3s renders registries.yaml
(`auth`, `identitytoken`, `password`), a CNI conflist (`k8s_auth_token`, `bearerToken`, a JWT
under an innocent key), a kubeconfig beside the conflists, Multus's multus.d kubeconfig, a
ServiceAccount token file, DaemonSet env values (secret-named, and innocent names carrying
`--bearer ...` or a URL with a password), container args (`--token=...`, `--password ...`),
annotations (last-applied-configuration with an env value, a JWT, a YAML flow mapping), ConfigMap data
(a token key, a PEM private key, flannel's `Backend.PSK`, a credentials mapping, a list of token
objects), an init container's shell command with HTTP auth headers, an env URL with `@` in its
password, an Event message quoting an Authorization header, the `PSK` k3s writes into its flannel
net-conf.json (`--flannel-backend=ipsec`), k3s node-args/node-env, and a Secret object. Then `multus-check snapshot DIR`,
live runs with `--report-dir` and `-vv` in every output format (one also `--fix`, plan only) run
as child processes; their output, every file they wrote and the collector pods' logs kept by the
emulator must hold none of the tokens.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kmock import ResourceInfo, resource

from tests.api.scenario import Scenario, scenario
from tests.conftest import ROOT
from tests.fixes.world import variant

CHILD = "import sys; from multus_check.cli import main; sys.exit(main(sys.argv[1:]))"
JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNBIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZS1zeXN0ZW06bXVsdHVzIn0.{sig}"
NODE = "k3s-agent-1"


def tok(n: int) -> str:
    return f"PLANTED-{n:02d}-c0ffee{n:02d}"


TOKENS = [tok(n) for n in range(1, 33)]
JWT_1 = JWT.format(sig=tok(20).replace("-", "_"))
JWT_2 = JWT.format(sig=tok(21).replace("-", "_"))
PEM = f"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI{tok(22)}\n-----END EC PRIVATE KEY-----\n"


def _edit_objects(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    for obj in items:
        m, kind = obj["metadata"], obj["kind"]
        if kind == "Node":
            ann = m.setdefault("annotations", {})
            ann["k3s.io/node-args"] = json.dumps([*json.loads(ann["k3s.io/node-args"]), "--token", tok(1)])
            ann["k3s.io/node-env"] = json.dumps({"K3S_TOKEN": tok(2), "K3S_URL": "https://192.168.1.10:6443"})
        elif kind == "DaemonSet" and m["name"] == "kube-multus-ds":
            container = obj["spec"]["template"]["spec"]["containers"][0]
            container["args"] = [*container["args"], f"--token={tok(3)}", "--password", tok(4)]
            container["env"] = [{"name": "MULTUS_TOKEN", "value": tok(5)}, {"name": "EXTRA_FLAGS", "value": f"--bearer {tok(6)}"},
                                {"name": "UPSTREAM", "value": f"https://multus:{tok(7)}@registry.lan/v2/"},
                                {"name": "MIRROR", "value": f"https://bot:pa@ss-{tok(30)}@mirror.lan/v2/"}]
            obj["spec"]["template"]["spec"]["initContainers"] = [{"name": "fetch", "image": "busybox:1.36", "command": [
                "sh", "-c", f"wget --header 'Authorization: Bearer {tok(27)}' https://a.lan/x && "
                f"curl -H 'X-Auth-Token: {tok(28)}' https://b.lan/y"]}]
            m.setdefault("annotations", {})["kubectl.kubernetes.io/last-applied-configuration"] = json.dumps(
                {"spec": {"template": {"spec": {"containers": [{"env": [{"name": "MULTUS_TOKEN", "value": tok(8)}]}]}}}})
        elif kind == "ConfigMap" and m["name"] == "kube-flannel-cfg":
            obj["data"]["token"] = tok(9)
            obj["data"]["tls.key"] = PEM
            net_conf = json.loads(obj["data"]["net-conf.json"])
            net_conf["Backend"] = {"Type": "wireguard", "PSK": tok(25)}
            obj["data"]["net-conf.json"] = json.dumps(net_conf, indent=2)
            obj["data"]["registry.json"] = json.dumps({"credentials": {"user": "u", "key": tok(31)},
                                                       "tokens": [{"id": "a", "value": tok(32)}]})
        elif kind == "Pod":
            m["annotations"]["example.com/session"] = JWT_1
            m["annotations"]["example.com/registry"] = f"{{user: bob, password: {tok(29)}}}"
        elif kind == "Event":
            obj["message"] = f"{obj.get('message', '')}; ipam: header Authorization: Bearer {tok(26)} was rejected"


def _plant_files(snapshot_dir: Path) -> None:
    node = snapshot_dir / "nodes" / NODE
    files = node / "files"
    (files / "var/lib/rancher/k3s/agent/etc/containerd").mkdir(parents=True, exist_ok=True)
    (files / "var/lib/rancher/k3s/agent/etc/containerd/config.toml").write_text(
        'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.lan:5000".auth]\n'
        f'  username = "pull-bot"\n  password = "{tok(10)}"\n  auth = "{tok(11)}"\n  identitytoken = "{tok(12)}"\n')
    (files / "var/lib/rancher/k3s/agent/etc/flannel").mkdir(parents=True, exist_ok=True)
    (files / "var/lib/rancher/k3s/agent/etc/flannel/net-conf.json").write_text(  # k3s --flannel-backend=ipsec
        '{\n\t"Network": "10.42.0.0/16",\n\t"Backend": {\n\t"Type": "ipsec",\n\t"UDPEncap": true,\n'
        f'\t"PSK": "{tok(24)}"\n}}\n}}\n')
    (files / "etc/cni/net.d/99-planted.conflist").write_text(json.dumps(
        {"cniVersion": "0.3.1", "name": "planted", "plugins": [
            {"type": "calico", "k8s_auth_token": tok(13), "bearerToken": tok(14), "note": JWT_2,
             "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}}]}, indent=2))
    (files / "etc/cni/net.d/calico-kubeconfig").write_text(
        f"apiVersion: v1\nkind: Config\nusers:\n- name: calico\n  user:\n    token: {tok(15)}\n")
    (files / "etc/cni/net.d/multus.d/multus.kubeconfig").write_text(
        f"apiVersion: v1\nkind: Config\nusers:\n- name: multus\n  user:\n    token: {tok(16)}\n")
    (files / "etc/cni/net.d/cni-sa-token").write_text(JWT.format(sig=tok(17).replace("-", "_")))
    dirs = json.loads((node / "dirs.json").read_text())
    dirs["/etc/cni/net.d"] += [{"name": n, "type": "file"} for n in ("99-planted.conflist", "calico-kubeconfig", "cni-sa-token")]
    (node / "dirs.json").write_text(json.dumps(dirs))


def _secret(sc: Scenario) -> None:
    key = "v1/secrets"
    sc.emulator.resources[key] = ResourceInfo(kind="Secret", namespaced=True)
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "multus-token", "namespace": "kube-system"},
           "data": {"token": base64.b64encode(tok(18).encode()).decode()}, "stringData": {"password": tok(19)}}
    sc.harness.sync(lambda: sc.emulator.objects.__setitem__((resource(key), "kube-system", "multus-token"), obj))


@pytest.fixture
def planted(tmp_path: Path) -> Iterator[Scenario]:
    snapshot_dir = variant("multus-nested-delegates", tmp_path, _edit_objects)
    _plant_files(snapshot_dir)
    with scenario(snapshot_dir, tmp_path / "w") as sc:
        _secret(sc)
        yield sc


def _run(*argv: str) -> str:
    out = subprocess.run([sys.executable, "-c", CHILD, *argv], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert out.returncode in (0, 1, 3), f"{argv}: exit {out.returncode}\n{out.stderr[-3000:]}"
    return out.stdout + out.stderr


def _leaks(text: str) -> list[str]:
    needles = [*TOKENS, base64.b64encode(tok(18).encode()).decode(), PEM.splitlines()[1]]
    return [t for t in needles if t in text]


def test_no_planted_credential_reaches_any_output_file_log_or_collector_pod_log(planted: Scenario, tmp_path: Path) -> None:
    kc = str(planted.harness.kubeconfig)
    outputs = [_run("snapshot", str(tmp_path / "snap"), "--kubeconfig", kc, "--namespace", "mc-secrets-0", "-vv")]
    for n, fmt in enumerate(("table", "json", "junit", "markdown"), start=1):
        extra = ["--fix"] if fmt == "table" else ["--output", str(tmp_path / f"out-{fmt}")]
        outputs.append(_run("--kubeconfig", kc, "--namespace", f"mc-secrets-{n}", "--no-e2e", "--report-dir",
                            str(tmp_path / f"report-{fmt}"), "--format", fmt, "-vv", *extra))
    written = {p: p.read_text(errors="replace") for d in ["snap", *(f"report-{f}" for f in ("table", "json", "junit", "markdown"))]
               for p in sorted((tmp_path / d).rglob("*")) if p.is_file()}
    written.update({p: p.read_text() for p in sorted(tmp_path.glob("out-*"))})
    pod_logs = planted.harness.sync(lambda: "\n".join(planted.emulator.logs.values()))

    for where, text in [*((f"output of run {i}", o) for i, o in enumerate(outputs)), *((str(p), t) for p, t in written.items()),
                        ("collector pod logs", pod_logs)]:
        assert _leaks(text) == [], f"{where} leaks {_leaks(text)}"

    # the run saw all of it: every planted place was collected (with its value redacted)
    snap = tmp_path / "snap"
    node_files = snap / "nodes" / NODE / "files"
    assert (node_files / "var/lib/rancher/k3s/agent/etc/containerd/config.toml").read_text().count("<redacted by multus-check>") == 3
    assert json.loads((node_files / "etc/cni/net.d/99-planted.conflist").read_text())["plugins"][0]["kubernetes"] == {
        "kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}
    assert json.loads((node_files / "var/lib/rancher/k3s/agent/etc/flannel/net-conf.json").read_text())["Backend"] == {
        "Type": "ipsec", "UDPEncap": True, "PSK": "<redacted by multus-check>"}
    cluster = (snap / "cluster.yaml").read_text()
    assert "MULTUS_TOKEN" in cluster and "X-Auth-Token: <redacted by multus-check>" in cluster and "was rejected" in cluster
    assert len(planted.emulator.logs) >= 10
    assert "== fix multus-nesting" in outputs[1] and "DEBUG" in outputs[1]
