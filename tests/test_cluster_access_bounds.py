"""Reaching a cluster has limits a user can rely on (audit 10 items 5 and 8, and its minor findings):
a kubeconfig's proxy-url is used as kubectl uses it or refused in one line, a credential plugin that
hangs is ended after a bound (also on SIGTERM, with what it started), a silent API server costs one
timeout per run and the message says how long it waited, and `node` / `lab run` answer SIGTERM with
143 like every other command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from multus_check.errors import Unreachable, UsageError
from multus_check.kube import Gateway, load_target
from multus_check.kube import kubeconfig as config
from multus_check.kube.resources import NAMESPACES
from tests.test_kubeconfig_input import run_cli

ROOT = Path(__file__).resolve().parents[1]


def kubeconfig(path: Path, cluster: str = "", user: str = "{token: t}", server: str = "https://127.0.0.1:9") -> Path:
    path.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\n"
                    f"clusters: [{{name: k, cluster: {{server: \"{server}\"{cluster}}}}}]\n"
                    f"users: [{{name: u, user: {user}}}]\ncontexts: [{{name: c, context: {{cluster: k, user: u}}}}]\n")
    return path


# --- item 8: proxy-url ---------------------------------------------------------------------------


@pytest.mark.parametrize(("proxy", "says"), [
    ("5", "clusters[0].cluster.proxy-url is a number; expected a string"),
    ("[a]", "clusters[0].cluster.proxy-url is a list; expected a string"),
    ('"ftp://proxy.lan:21"', "has the scheme 'ftp'; use one of http, https, socks5"),
])
@pytest.mark.parametrize("command", [["--no-e2e"], ["snapshot", "SNAP"], ["cleanup"]])
def test_a_proxy_url_the_client_cannot_use_is_one_line_and_exit_2(tmp_path: Path, proxy: str, says: str,
                                                                  command: list[str]) -> None:
    kc = kubeconfig(tmp_path / "kc", cluster=f", proxy-url: {proxy}")
    argv = [str(tmp_path / "snap") if a == "SNAP" else a for a in command]
    code, _, err = run_cli([*argv, "--kubeconfig", str(kc), "--report-dir", str(tmp_path / "r")]
                           if command == ["--no-e2e"] else [*argv, "--kubeconfig", str(kc)])
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and says in err


def test_a_socks5_proxy_url_is_used_as_kubectl_uses_it_and_never_printed_with_its_password(tmp_path: Path) -> None:
    kc = kubeconfig(tmp_path / "kc", cluster=", proxy-url: \"socks5://user:hunter2@127.0.0.1:9\"")
    gateway = Gateway(load_target(str(kc)))  # the client builds a SOCKS pool (PySocks), no traceback
    try:
        with pytest.raises(Unreachable) as caught:
            gateway.request("GET", "/version")
    finally:
        gateway.close()
    assert "through proxy socks5://127.0.0.1:9" in str(caught.value) and "hunter2" not in str(caught.value)


def test_a_socks_proxy_without_pysocks_is_named_with_the_install_that_adds_it(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "socks", None)  # as if PySocks were not installed
    kc = kubeconfig(tmp_path / "kc", cluster=", proxy-url: \"socks5://user:hunter2@127.0.0.1:9\"")
    with pytest.raises(UsageError) as caught:
        load_target(str(kc))
    assert "proxy-url 'socks5://127.0.0.1:9' is a SOCKS proxy" in str(caught.value) and "hunter2" not in str(caught.value)
    assert "lacks PySocks (`pip install 'urllib3[socks]'`)" in str(config.proxy_problem("socks5://10.0.0.1:1080"))
    assert config.proxy_problem("http://proxy.lan:3128") is None


# --- minor: a credential plugin that hangs ---------------------------------------------------------


def _plugin(tmp_path: Path) -> tuple[Path, Path]:
    """A credential plugin that starts a child and waits forever; its and its child's pids land in `pids`."""
    pids = tmp_path / "pids"
    script = tmp_path / "plugin.sh"
    script.write_text(f"#!/bin/sh\nsleep 1000 &\necho $$ $! > {pids}.tmp && mv {pids}.tmp {pids}\nwait\n")
    script.chmod(0o755)
    return script, pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie of another parent counts as gone
        return fh.read().split(") ")[1][0] != "Z"


def _exec_user(script: Path) -> str:
    return f"{{exec: {{apiVersion: client.authentication.k8s.io/v1beta1, command: {script}}}}}"


def test_a_credential_plugin_that_hangs_is_ended_with_what_it_started_and_the_real_time_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script, pids = _plugin(tmp_path)
    monkeypatch.setattr(config, "EXEC_PLUGIN_TIMEOUT", 1.0)
    kc = kubeconfig(tmp_path / "kc", user=_exec_user(script))
    started = time.monotonic()
    with pytest.raises(UsageError) as caught:
        load_target(str(kc))
    assert time.monotonic() - started < 10
    assert str(caught.value).startswith(f"kubeconfig {kc}: getting credentials failed: exec: the credential plugin "
                                        f"{script} did not finish within 1 s and was ended")
    assert not any(_alive(int(p)) for p in pids.read_text().split())


def test_sigterm_while_a_credential_plugin_runs_exits_143_and_ends_the_plugin_and_its_child(tmp_path: Path) -> None:
    script, pids = _plugin(tmp_path)
    kc = kubeconfig(tmp_path / "kc", user=_exec_user(script))
    run = subprocess.Popen([sys.executable, "-m", "multus_check.cli", "cleanup", "--kubeconfig", str(kc)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not pids.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pids.exists(), "the plugin never ran"
        run.send_signal(signal.SIGTERM)
        _, err = run.communicate(timeout=30)
    finally:
        run.kill()
        run.wait()
    plugin_pids = [int(p) for p in pids.read_text().split()]
    try:
        assert run.returncode == 143 and err.splitlines() == ["multus-check: terminated (SIGTERM)"]
        assert not any(_alive(p) for p in plugin_pids)
    finally:
        for pid in plugin_pids:  # only if the test failed: never leave them
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


# --- minor: a silent server --------------------------------------------------------------------------


@pytest.fixture
def silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """A local TCP server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()


def test_a_silent_api_server_costs_one_timeout_per_run_and_the_message_says_how_long_it_waited(
        tmp_path: Path, silent_server: tuple[int, list[socket.socket]]) -> None:
    port, accepted = silent_server
    gateway = Gateway(load_target(str(kubeconfig(tmp_path / "kc", server=f"http://127.0.0.1:{port}"))), timeout=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(Unreachable) as first:
            gateway.list(NAMESPACES)
        waited = time.monotonic() - started
        with pytest.raises(Unreachable) as second:
            gateway.can_i("list", NAMESPACES)
        assert time.monotonic() - started - waited < 0.2  # not asked again
    finally:
        gateway.close()
    assert 0.4 < waited < 5 and "a request waited 0.5 s (the limit is 0.5 s), so it was not asked again" in str(first.value)
    assert str(second.value) == str(first.value) and len(accepted) == 1 and gateway.request_count == 1


# --- item 5: SIGTERM in node and lab run -------------------------------------------------------------

SIGNALLED = """
import os, signal, sys, time
from multus_check.pipeline import node_run as node
from multus_check.lab import lifecycle as lab
def signalled(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
from types import SimpleNamespace
node.os.geteuid = lambda: 0  # the root check comes first; nothing here needs root
node.node_results = signalled
state = SimpleNamespace(name="tsig", subnet="192.168.77.0/24", nad_config="n", cni_bin="b", node_ns="x", pod_ns_prefix="p")
lab.up = lambda *args: SimpleNamespace(state=state, seconds={"total": 0.1})
lab.down = lambda name: print("lab down", name, file=sys.stderr)
from multus_check.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(("argv", "lines"), [
    (["node", "--nad-config", "/dev/null", "--no-probe"], ["multus-check: terminated (SIGTERM)"]),
    (["lab", "run", "--name", "tsig"], ["lab down tsig", "multus-check: terminated (SIGTERM)"]),
])
def test_node_and_lab_run_answer_sigterm_with_143_like_every_command(argv: list[str], lines: list[str],
                                                                    tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", SIGNALLED, *argv, "--report-dir", str(tmp_path / "r")], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert child.returncode == 143, child.stderr
    assert [line for line in child.stderr.splitlines() if not line.startswith("lab tsig")] == lines
