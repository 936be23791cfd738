"""The options of the e2e phase, typed, and their defaults (the command line's `end-to-end` group).

Kept apart from phase.py so that the command line can declare and build them without importing the
phase. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from multus_check.checks.spec import Selection
from multus_check.kube.connect import DEFAULT_NAMESPACE, ClusterTarget

#: nicolaka/netshoot: Alpine + python3 + scapy + libpcap (tcpdump) + iproute2; widely mirrored.
DEFAULT_PROBE_IMAGE = "docker.io/nicolaka/netshoot:v0.13"
DEFAULT_E2E_TIMEOUT = 120.0
DEFAULT_PEER_WINDOW = 30.0


@dataclass(frozen=True)
class E2EOptions:
    """What the sample-pod phase runs (the command line's `end-to-end` options, typed), and where."""

    enabled: bool = True  # False: --no-e2e
    nads: tuple[str, ...] = ()  # [NS/]NAME; none: every macvlan NAD
    node: str | None = None  # None: the first schedulable node
    all_nodes: bool = False
    probe_image: str = DEFAULT_PROBE_IMAGE
    timeout: float = DEFAULT_E2E_TIMEOUT
    peer_window: float = DEFAULT_PEER_WINDOW
    lan_subnet: str | None = None  # None: the master NIC's subnet on the node
    selection: Selection = field(default_factory=Selection)  # --check/--skip: which e2e checks are wanted
    cluster: ClusterTarget = field(default_factory=ClusterTarget)
    namespace: str = DEFAULT_NAMESPACE
    keep: bool = False
    offline: bool = False  # judging a snapshot directory: there is no cluster to run a pod on
