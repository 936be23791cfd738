"""The gateway: kubeconfig conventions, retries for transient failures only, error mapping."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
import yaml

from multus_check.errors import Forbidden, NotFound, Unauthorized, Unreachable, UsageError
from multus_check.kube import Gateway, RetryPolicy, load_target
from multus_check.kube.resources import NODES, PODS
from multus_check.kube.retry import parse_retry_after
from tests.api.harness import EmulatorHarness

NODES_PATH = r"^/api/v1/nodes$"


def test_transient_503_and_connection_reset_are_retried_to_success(cluster: EmulatorHarness, gateway: Gateway) -> None:
    cluster.emulator.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    cluster.emulator.fail_next("GET", NODES_PATH, 503, "reset", 502)
    assert [n["metadata"]["name"] for n in gateway.list(NODES)] == ["n1"]
    assert cluster.emulator.count_calls("GET", NODES_PATH) == 4


def test_429_waits_as_long_as_retry_after_asks(cluster: EmulatorHarness) -> None:
    gw = Gateway(load_target(str(cluster.kubeconfig)), RetryPolicy(attempts=3, total_seconds=10, first_wait=0.01, max_wait=5))
    cluster.emulator.fail_next("GET", NODES_PATH, 429, retry_after="1")
    started = time.monotonic()
    gw.list(NODES)
    assert time.monotonic() - started >= 0.95
    assert cluster.emulator.count_calls("GET", NODES_PATH) == 2


def test_retries_stop_after_the_attempt_bound_with_a_clear_error(cluster: EmulatorHarness) -> None:
    gw = Gateway(load_target(str(cluster.kubeconfig)), RetryPolicy(attempts=3, total_seconds=10, first_wait=0.01, max_wait=0.05))
    cluster.emulator.fail_next("GET", NODES_PATH, *([500] * 10))
    with pytest.raises(Unreachable, match="answered 500"):
        gw.list(NODES)
    assert cluster.emulator.count_calls("GET", NODES_PATH) == 3


def test_retries_stop_at_the_time_bound(cluster: EmulatorHarness) -> None:
    gw = Gateway(load_target(str(cluster.kubeconfig)), RetryPolicy(attempts=100, total_seconds=0.5, first_wait=0.1, max_wait=0.2))
    cluster.emulator.fail_next("GET", NODES_PATH, *([503] * 100))
    started = time.monotonic()
    with pytest.raises(Unreachable):
        gw.list(NODES)
    assert time.monotonic() - started < 1.5
    assert cluster.emulator.count_calls("GET", NODES_PATH) < 10


def test_a_create_is_not_repeated_after_a_5xx(cluster: EmulatorHarness, gateway: Gateway) -> None:
    cluster.emulator.fail_next("POST", r"/pods$", 503)
    with pytest.raises(Unreachable):
        gateway.create(PODS, "ns", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}})
    assert cluster.emulator.count_calls("POST", r"/pods$") == 1


def test_client_errors_are_answers_not_retried(cluster: EmulatorHarness, gateway: Gateway) -> None:
    cluster.emulator.deny("list", "nodes")
    with pytest.raises(Forbidden) as err:
        gateway.list(NODES)
    assert (err.value.verb, err.value.resource) == ("list", "nodes")
    with pytest.raises(NotFound):
        gateway.get(PODS, "ns", "missing")
    assert cluster.emulator.count_calls("GET", NODES_PATH) == 1


def test_401_becomes_unauthorized_naming_the_context(cluster: EmulatorHarness, gateway: Gateway) -> None:
    cluster.emulator.fail_next("GET", NODES_PATH, 401)
    with pytest.raises(Unauthorized, match="context 'emulator'"):
        gateway.list(NODES)


def test_a_closed_port_is_unreachable_at_once(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "kc"
    _kubeconfig(config, {"dead": f"http://127.0.0.1:{port}"}, current="dead")
    gw = Gateway(load_target(str(config)), RetryPolicy(attempts=5, first_wait=0.5))
    started = time.monotonic()
    with pytest.raises(Unreachable, match="cannot reach"):
        gw.server_version()
    assert time.monotonic() - started < 1.0


def test_context_flag_and_kubeconfig_env_follow_kubectl(cluster: EmulatorHarness, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "multi"
    _kubeconfig(config, {"live": cluster.url, "dead": "http://127.0.0.1:9"}, current="dead")
    monkeypatch.setenv("KUBECONFIG", str(config))
    target = load_target(None, "live")
    assert target.context == "live"
    assert Gateway(target).server_version()["gitVersion"]
    assert load_target(None, None).context == "dead"


def test_unknown_context_and_missing_kubeconfig_are_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "kc"
    _kubeconfig(config, {"a": "http://127.0.0.1:9"}, current="a")
    with pytest.raises(UsageError, match="unusable"):
        load_target(str(config), "nope")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(UsageError, match="no kubeconfig found"):
        load_target(None, None)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=0.0) == 10.0
    assert parse_retry_after("soon") is None


def _kubeconfig(path: Path, servers: dict[str, str], current: str) -> None:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": current,
        "clusters": [{"name": n, "cluster": {"server": url}} for n, url in servers.items()],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": n, "context": {"cluster": n, "user": "u"}} for n in servers],
    }))
