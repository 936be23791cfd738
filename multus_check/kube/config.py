"""Find the cluster and credentials the way kubectl does.

Order: `--kubeconfig`, then `KUBECONFIG` (a `:`-separated list is merged, as kubectl does),
then `~/.kube/config`, then the in-cluster service account. `--context` picks a context.
Reads only kubeconfig files and the service-account mount; never writes them back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from multus_check.errors import UsageError

IN_CLUSTER_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


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
    if not any(Path(p).expanduser().exists() for p in paths):
        raise UsageError(f"kubeconfig {source} does not exist")
    cfg = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=source, context=context, client_configuration=cfg, persist_config=False
        )
        active = context or _current_context(source)
    except ConfigException as exc:
        raise UsageError(f"kubeconfig {source} is unusable: {exc}") from exc
    where = f"context {active!r} of {source}" if active else source
    return Target(cfg, where, active)


def _current_context(source: str) -> str | None:
    try:
        _, current = config.list_kube_config_contexts(config_file=source)  # type: ignore[no-untyped-call]
    except ConfigException:
        return None
    return str(current.get("name")) if isinstance(current, dict) and current.get("name") else None
