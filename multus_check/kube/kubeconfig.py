"""Find the cluster and credentials the way kubectl does.

Order: `--kubeconfig`, then `KUBECONFIG` (a `:`-separated list is merged, as kubectl does),
then `~/.kube/config`, then the in-cluster service account. `--context` picks a context.
Reads only kubeconfig files and the service-account mount; never writes them back. Every file is
checked before the client library reads it (readable, text, YAML within the alias bound, the shape of
a kubeconfig and the types of the fields the client reads), so a broken one is one line naming the
file and the cause, never a traceback. A `proxy-url` must be one the client can use (http, https,
socks5, socks4; SOCKS through PySocks, as kubectl supports it).

May also touch: the credential plugins a kubeconfig names (`users[].user.exec`). The client library
runs them without a time limit and leaves them running when the run is interrupted; here each run is
bounded (EXEC_PLUGIN_TIMEOUT, longer when it may ask a person at a terminal) and the plugin, with
every process it started, is ended when it overruns or the run is interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import stat
import subprocess
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from kubernetes import client, config
from kubernetes.config import exec_provider
from kubernetes.config.config_exception import ConfigException

from multus_check import safeyaml
from multus_check.errors import UsageError
from multus_check.paths import unreachable

IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
#: a kubeconfig larger than this is not one (kubectl's own are a few KiB, with embedded certs tens)
MAX_KUBECONFIG_BYTES = 16 << 20
#: what the client library may raise on a file that passed our checks but still surprises it
_CLIENT_ERRORS = (ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError, yaml.YAMLError)
#: seconds a credential plugin may take (kubectl waits forever; a CI run should not); one that may ask a
#: person at a terminal (a browser or device-code login) gets INTERACTIVE_EXEC_PLUGIN_TIMEOUT
EXEC_PLUGIN_TIMEOUT = 60.0
INTERACTIVE_EXEC_PLUGIN_TIMEOUT = 300.0
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h", "socks4", "socks4a")
#: the types of the kubeconfig fields the client library reads (clientcmd's names), per entry kind
FIELD_TYPES: dict[str, dict[str, type]] = {
    "cluster": {"server": str, "proxy-url": str, "certificate-authority": str, "certificate-authority-data": str,
                "insecure-skip-tls-verify": bool, "tls-server-name": str},
    "user": {"token": str, "tokenFile": str, "client-certificate": str, "client-certificate-data": str,
             "client-key": str, "client-key-data": str, "username": str, "password": str, "exec": dict,
             "auth-provider": dict},
    "context": {"cluster": str, "user": str, "namespace": str},
}


@dataclass(frozen=True)
class Target:
    """A loaded client configuration and a human description of where it came from."""

    configuration: client.Configuration
    description: str
    context: str | None


def load_target(kubeconfig: str | None = None, context: str | None = None) -> Target:
    """Load the client configuration; UsageError names what to fix when nothing usable exists."""
    source = kubeconfig or os.environ.get("KUBECONFIG") or None
    if source is None:
        default = Path("~/.kube/config").expanduser()
        if unreachable(default) is not None or default.exists():  # a blocked one: say why, below
            source = str(default)
        elif _in_cluster():
            return _in_cluster_target(context)
        else:
            raise UsageError(
                "no kubeconfig found: pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, "
                "or run inside a pod with a service account"
            )
    return _kubeconfig_target(source, context)


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and Path(IN_CLUSTER_TOKEN).exists()


def _in_cluster_target(context: str | None) -> Target:
    if context:
        raise UsageError("--context needs a kubeconfig; none was found and this run is in-cluster")
    cfg = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
    except ConfigException as exc:
        raise UsageError(f"in-cluster configuration is unusable: {exc}") from exc
    return Target(cfg, "in-cluster service account", None)


def _kubeconfig_target(source: str, context: str | None) -> Target:
    paths = [p for p in source.split(os.pathsep) if p]
    for p in paths:
        if (blocked := unreachable(Path(p).expanduser(), follow=False)) is not None:
            raise UsageError(f"kubeconfig {p}: {blocked}")
    existing = [p for p in paths if os.path.lexists(Path(p).expanduser())]
    if not existing:
        raise UsageError(f"kubeconfig {source} does not exist")
    for path in existing:
        check_kubeconfig_file(path)
    cfg = client.Configuration()
    try:
        with _credential_errors() as errors:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=source, context=context, client_configuration=cfg, persist_config=False
            )
        active = context or _current_context(source)
    except _CLIENT_ERRORS as exc:
        raise UsageError(f"kubeconfig {source} is unusable: {_one_line(exc)}") from exc
    if errors:  # kubectl stops here too ("getting credentials: exec: ...")
        raise UsageError(f"kubeconfig {source}: getting credentials failed: {errors[0]}")
    where = f"context {active!r} of {source}" if active else source
    problem = proxy_problem(cfg.proxy)
    if problem:
        shown = printable_proxy(cfg.proxy) if isinstance(cfg.proxy, str) else cfg.proxy
        raise UsageError(f"kubeconfig {source}: proxy-url {shown!r} {problem}")
    return Target(cfg, where, active)


def proxy_problem(proxy: Any) -> str | None:
    """Why the client cannot use this proxy URL (None: no proxy, or a usable one)."""
    if not proxy:
        return None
    if not isinstance(proxy, str):
        return "is not a URL string"
    scheme = urlsplit(proxy).scheme.lower()
    if scheme not in PROXY_SCHEMES:
        return f"has the scheme {scheme or '(none)'!r}; use one of {', '.join(PROXY_SCHEMES)}"
    if scheme.startswith("socks"):
        try:
            import socks  # type: ignore[import-untyped]  # noqa: F401  (PySocks: urllib3's SOCKS support)
        except ImportError:
            return "is a SOCKS proxy, and this installation lacks PySocks (`pip install 'urllib3[socks]'`)"
    return None


def printable_proxy(url: str) -> str:
    """A proxy URL fit to print: never its user name or password."""
    parts = urlsplit(str(url))
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


class _Collect(logging.Filter):
    """Takes the client library's own error lines about credentials (it logs a failed credential plugin
    and goes on without credentials) so that they become one line of ours."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.module == "kube_config":
            self.messages.append(" ".join(record.getMessage().split()))
            return False
        return True


@contextlib.contextmanager
def _credential_errors() -> Iterator[list[str]]:
    collect = _Collect()
    logging.getLogger().addFilter(collect)
    try:
        yield collect.messages
    finally:
        logging.getLogger().removeFilter(collect)


def _current_context(source: str) -> str | None:
    try:
        _, current = config.list_kube_config_contexts(config_file=source)  # type: ignore[no-untyped-call]
    except _CLIENT_ERRORS:
        return None
    return str(current.get("name")) if isinstance(current, dict) and current.get("name") else None


def check_kubeconfig_file(path: str) -> None:
    """UsageError naming `path` and the cause when it cannot be a kubeconfig file."""
    where = Path(path).expanduser()
    try:
        st = os.stat(where)
    except OSError as exc:
        raise UsageError(f"kubeconfig {path}: {_os_reason(exc)}") from exc
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"kubeconfig {path} is a directory, not a file; pass the config file inside it")
    if st.st_size > MAX_KUBECONFIG_BYTES:
        raise UsageError(f"kubeconfig {path} is {st.st_size} bytes, too large to be a kubeconfig")
    try:
        with open(where, "rb") as fh:
            data = fh.read(MAX_KUBECONFIG_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"kubeconfig {path}: {_os_reason(exc)}") from exc
    doc = _parse(path, data)
    problem = _shape_problem(doc)
    if problem:
        raise UsageError(f"kubeconfig {path} is not a kubeconfig: {problem}")


def _parse(path: str, data: bytes) -> Any:
    if b"\x00" in data:
        raise UsageError(f"kubeconfig {path} is binary data, not a YAML kubeconfig")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"kubeconfig {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        docs = safeyaml.load_all(text)
    except safeyaml.ExcessiveAliasing as exc:
        raise UsageError(f"kubeconfig {path} was refused: {exc}") from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"kubeconfig {path} is not valid YAML: {safeyaml.reason(exc)}") from exc
    if len(docs) != 1:
        raise UsageError(f"kubeconfig {path} holds {len(docs)} YAML documents; a kubeconfig is exactly one")
    return docs[0]


def _shape_problem(doc: Any) -> str | None:
    """What keeps `doc` from being a kubeconfig the client can read, or None."""
    if not isinstance(doc, dict):
        return f"it holds a {_type_name(doc)}; expected a mapping with apiVersion: v1, kind: Config"
    for key in ("clusters", "contexts", "users"):
        entries = doc.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            return f"{key} is a {_type_name(entries)}; expected a list"
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                return f"{key}[{i}] is not a mapping with a name"
            body = entry.get(key[:-1])
            if body is not None and not isinstance(body, dict):
                return f"{key}[{i}].{key[:-1]} is a {_type_name(body)}; expected a mapping"
            problem = _field_problem(body, key[:-1], f"{key}[{i}].{key[:-1]}") if isinstance(body, dict) else None
            if problem:
                return problem
    current = doc.get("current-context")
    if current is not None and not isinstance(current, str):
        return f"current-context is a {_type_name(current)}; expected a context name"
    return None


def _field_problem(body: dict[str, Any], kind: str, where: str) -> str | None:
    """A field the client reads with another type than it expects (proxy-url: 5, server: [..])."""
    for name, expected in FIELD_TYPES[kind].items():
        value = body.get(name)
        if value is not None and not isinstance(value, expected):
            wanted = {str: "a string", bool: "true or false", dict: "a mapping"}[expected]
            return f"{where}.{name} is a {_type_name(value)}; expected {wanted}"
    return None


def _type_name(value: Any) -> str:
    return {dict: "mapping", list: "list", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "empty document"}.get(type(value), type(value).__name__)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied reading it (check its owner and mode)"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a file"
    return f"cannot be read: {exc.strerror or exc}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --- credential plugins, bounded --------------------------------------------------------------------


class _BoundedPopen(subprocess.Popen[str]):
    """The client library's credential plugin process (exec_provider.ExecProvider.run), with a limit.

    A plugin that runs without the terminal gets a process group of its own, so ending it ends what it
    started too. It is ended when it overruns the limit (a ConfigException that says how long it ran,
    which the loader turns into one line) and when the run is interrupted while waiting for it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.interactive = kwargs.get("stdin") is not None  # the library hands it the terminal then
        if not self.interactive:
            kwargs["process_group"] = 0
        self.limit = INTERACTIVE_EXEC_PLUGIN_TIMEOUT if self.interactive else EXEC_PLUGIN_TIMEOUT
        self.started = time.monotonic()
        super().__init__(*args, **kwargs)

    def communicate(self, input: Any = None, timeout: float | None = None) -> tuple[Any, Any]:
        try:
            return super().communicate(input, self.limit if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.end()
            plugin = self.args[0] if isinstance(self.args, list | tuple) and self.args else self.args
            raise ConfigException(
                f"exec: the credential plugin {plugin!s} did not finish within {time.monotonic() - self.started:.0f} s "
                "and was ended (it may wait for a login; run it by hand, e.g. `kubectl get --raw /version`)") from None
        except BaseException:
            self.end()
            raise

    def end(self) -> None:
        """End the plugin (its process group, when it has its own) and reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if self.interactive:
                self.kill()
            else:
                os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            super().communicate(timeout=5)


#: exec_provider runs `subprocess.Popen(...)`; only that module's name is rebound, nothing else changes
exec_provider.subprocess = types.SimpleNamespace(Popen=_BoundedPopen, PIPE=subprocess.PIPE)  # type: ignore[assignment,attr-defined]
