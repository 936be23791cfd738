"""The gateway to the Kubernetes API: the only package that imports `kubernetes`."""

from multus_check.kube.config import Target, load_target
from multus_check.kube.gateway import Gateway
from multus_check.kube.retry import RetryPolicy

__all__ = ["Gateway", "RetryPolicy", "Target", "load_target"]
