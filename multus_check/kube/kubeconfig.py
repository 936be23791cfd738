"""Find the cluster and credentials the way kubectl does.

Order: `--kubeconfig`, then `KUBECONFIG` (a `:`-separated list is merged, as kubectl does),
then `~/.kube/config`, then the in-cluster service account. `--context` picks a context.
Reads only kubeconfig files and the service-account mount; never writes them back. Every file is
checked before the client library reads it (readable, text, YAML within the alias bound, the shape of
a kubeconfig), so a broken one is one line naming the file and the cause, never a traceback.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from multus_check import safeyaml
from multus_check.errors import UsageError

IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"
#: a kubeconfig larger than this is not one (kubectl's own are a few KiB, with embedded certs tens)
MAX_KUBECONFIG_BYTES = 16 << 20
#: what the client library may raise on a file that passed our checks but still surprises it
_CLIENT_ERRORS = (ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError, yaml.YAMLError)


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
        if default.exists():
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
    existing = [p for p in paths if os.path.lexists(Path(p).expanduser())]
    if not existing:
        raise UsageError(f"kubeconfig {source} does not exist")
    for path in existing:
        check_kubeconfig_file(path)
    cfg = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=source, context=context, client_configuration=cfg, persist_config=False
        )
        active = context or _current_context(source)
    except _CLIENT_ERRORS as exc:
        raise UsageError(f"kubeconfig {source} is unusable: {_one_line(exc)}") from exc
    where = f"context {active!r} of {source}" if active else source
    return Target(cfg, where, active)


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
    current = doc.get("current-context")
    if current is not None and not isinstance(current, str):
        return f"current-context is a {_type_name(current)}; expected a context name"
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
