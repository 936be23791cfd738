"""The typed options of one run, built once by the command line (commands/arguments.py) and passed down.

Each layer owns the options it consumes (`kube.ClusterTarget`, `checks.spec.Selection`,
`report.options.ReportOptions`, `collect.live.LiveOptions`, `e2e.options.E2EOptions`); the runs of the
pipeline put them together here. Frozen dataclasses: a run never changes its options. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from multus_check.checks.spec import Selection
from multus_check.collect.live.options import LiveOptions
from multus_check.e2e.options import E2EOptions
from multus_check.kube.connect import ClusterTarget
from multus_check.report.options import ReportOptions


@dataclass(frozen=True)
class FixOptions:
    """`--fix` and its choices: apply without asking, only some fixes, their variants (`FIX=VALUE`)."""

    enabled: bool = False
    yes: bool = False
    only: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()

    @property
    def chosen(self) -> frozenset[str] | None:
        """The fixes to plan (None: every fix a failing check names)."""
        return frozenset(self.only) if self.only else None

    @property
    def variant_map(self) -> dict[str, str]:
        return dict(o.partition("=")[::2] for o in self.variants)


@dataclass(frozen=True)
class AnalysisOptions:
    """The main command: judge a snapshot directory or the live cluster, then the sample pods, then maybe fix."""

    report: ReportOptions = field(default_factory=ReportOptions)
    selection: Selection = field(default_factory=Selection)
    snapshot: str | None = None  # a snapshot directory to judge offline; None: the live cluster
    cluster: ClusterTarget = field(default_factory=ClusterTarget)
    live: LiveOptions = field(default_factory=LiveOptions)
    e2e: E2EOptions = field(default_factory=E2EOptions)
    fix: FixOptions = field(default_factory=FixOptions)


@dataclass(frozen=True)
class NodeOptions:
    """`multus-check node` (and the lab's node in `lab run`): this host's facts and its data path."""

    report: ReportOptions = field(default_factory=ReportOptions)
    selection: Selection = field(default_factory=Selection)
    node: str = "node"
    nad_config: str | None = None  # the NAD's spec.config as a file
    nad: str | None = None  # or read from the cluster: [NS/]NAME
    cluster: ClusterTarget = field(default_factory=ClusterTarget)
    cni_bin_dirs: tuple[str, ...] = ()
    lan_subnet: str | None = None
    node_netns: str | None = None  # the lab's node namespace; None: this host's
    pod_netns_prefix: str = "mc-probe-"
    static: bool = True  # the node-scoped static checks on this host's facts
    save_snapshot: str | None = None
    ifname: str = "net1"
    trials: int = 1
    probe_timeout: float = 2.0
    probe: bool = True  # mDNS/SSDP and the IPv6 (Matter/Thread) observations after the lease


@dataclass(frozen=True)
class LabRunOptions:
    """`multus-check lab run`: a lab up, `node` against its node (the probe's knobs from `node`), the lab down."""

    name: str = "demo"
    subnet: str | None = None
    breaks: tuple[str, ...] = ()
    keep: bool = False
    node: NodeOptions = field(default_factory=NodeOptions)
