"""Which cluster a command talks to, and the one place a Gateway is made from it.

`ClusterTarget` is what the user said (`--kubeconfig`, `--context`; both optional, resolved the way
kubectl does by `kube.kubeconfig.load_target`); the command line builds it once and passes it down.
Importing this module does not import the Kubernetes client (so the options of a run can carry a
target without slowing `--help` or offline runs); `connect` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multus_check.kube.gateway import Gateway
    from multus_check.kube.retry import RetryPolicy


#: the namespace a run puts its pods in unless told otherwise (--namespace); kube/podrun.py runs them
DEFAULT_NAMESPACE = "multus-check"


@dataclass(frozen=True)
class ClusterTarget:
    kubeconfig: str | None = None  # None: $KUBECONFIG, ~/.kube/config, then in-cluster
    context: str | None = None  # None: the kubeconfig's current context


def connect(target: ClusterTarget, policy: RetryPolicy | None = None, pool_size: int = 16) -> Gateway:
    """A Gateway to the target's API server; UsageError (exit 2) naming what to fix when its kubeconfig is unusable."""
    from multus_check.kube.gateway import Gateway
    from multus_check.kube.kubeconfig import load_target

    return Gateway(load_target(target.kubeconfig, target.context), policy, pool_size=pool_size)
