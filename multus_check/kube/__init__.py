"""The gateway to the Kubernetes API: the only package that imports `kubernetes`.

What the project does through it generically lives here too: the pod runs of collector and sample
pods with their ledger and cleanup (`podrun`), and the cleanup of older runs (`leftovers`). Importing
the package is cheap: the client is imported only when a gateway is made (`connect`) or asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from multus_check.kube.connect import ClusterTarget, connect

if TYPE_CHECKING:
    from multus_check.kube.gateway import Gateway
    from multus_check.kube.kubeconfig import Target, load_target
    from multus_check.kube.retry import RetryPolicy

__all__ = ["ClusterTarget", "Gateway", "RetryPolicy", "Target", "connect", "load_target"]
_LAZY = {"Gateway": "multus_check.kube.gateway", "RetryPolicy": "multus_check.kube.retry",
         "Target": "multus_check.kube.kubeconfig", "load_target": "multus_check.kube.kubeconfig"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
