"""`multus-check lab run`'s run: a simulated LAN up, `node`'s run against its node, the lab down again.

The lab comes down also when the node run fails or is interrupted (unless --keep). The node run is
pipeline/node_run.py pointed at the lab: the lab's NAD config, CNI bin dir, node namespace and LAN
subnet; the static node checks are skipped (this machine's files are not a k3s node's). May touch:
the lab's namespaces and processes (lab/lifecycle.py), through the node run what `node` touches.
"""

from __future__ import annotations

import dataclasses
import sys
import time

from multus_check.collect.live.progress import spinning
from multus_check.lab import lifecycle
from multus_check.lab.config import LabState
from multus_check.pipeline import validate
from multus_check.pipeline.node_run import node_results
from multus_check.pipeline.options import LabRunOptions, NodeOptions
from multus_check.report.output import emit


def lab_node(opts: NodeOptions, state: LabState) -> NodeOptions:
    """The `multus-check node` options that point it at a lab's node."""
    return dataclasses.replace(opts, node=f"lab-{state.name}", nad_config=str(state.nad_config), nad=None,
                               cni_bin_dirs=(str(state.cni_bin),), lan_subnet=state.subnet, node_netns=state.node_ns,
                               pod_netns_prefix=state.pod_ns_prefix, static=False, save_snapshot=None)


def run(opts: LabRunOptions) -> int:
    validate.before_any_work(opts.node.selection, opts.node.report)
    t0 = time.monotonic()
    with spinning(f"lab {opts.name}: coming up"):
        report = lifecycle.up(opts.name, opts.subnet, opts.breaks)
    try:
        print(f"lab {opts.name}: up in {report.seconds['total']:.1f} s on {report.state.subnet}"
              + (f", broken: {', '.join(opts.breaks)}" if opts.breaks else ""), file=sys.stderr)
        notes = ["static node checks skipped: the lab's node is simulated; this machine's files are not a k3s node's",
                 f"lab {opts.name}: {report.state.subnet}, faults: {', '.join(opts.breaks) or 'none'}"]
        with spinning(f"lab {opts.name}: probing the data path"):
            results = node_results(lab_node(opts.node, report.state), notes)
    finally:
        if not opts.keep:
            lifecycle.down(opts.name)
    print(f"lab {opts.name}: done in {time.monotonic() - t0:.1f} s" + (" (kept up)" if opts.keep else ""),
          file=sys.stderr)
    return emit(results, opts.node.report)
