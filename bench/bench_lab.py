"""Data-path benchmark on the lab: lab up, CNI ADD (lease), mDNS/SSDP first answer, DEL, down.

Run as root: `python bench/bench_lab.py [--runs 3]`. Everything happens inside the lab's own
namespaces (mcl-bench-*), which are removed after each run, also on failure.
"""

from __future__ import annotations

import argparse
import re
import sys
import time

from multus_check.lab import daemons, lab
from multus_check.lab.config import LabState
from multus_check.probes import cni, datapath

COLUMNS = ("lab", "probe", "up_ms", "add_ms", "dhcp_retry_s", "probe_ms", "mdns_first_ms", "mdns_sends",
           "ssdp_first_ms", "del_ms", "node_total_ms", "down_ms")


def node_probe(state: LabState) -> dict[str, object]:
    """One `multus-check node` data-path run against the lab, with its phase timings."""
    conf = cni.parse_netconf(state.nad_config.read_text(), "nad")
    obs = datapath.run(datapath.DatapathOptions(
        conf=conf, cni_path=[str(state.cni_bin)], node="bench", node_netns=state.node_ns,
        pod_netns_prefix=state.pod_ns_prefix, lan_subnet=state.subnet))
    retry = re.findall(r"retrying in ([0-9.]+) seconds", (state.dir / "cni-dhcp.log").read_text())
    probe = obs.probe or {}
    mdns, ssdp = probe.get("mdns") or {}, probe.get("ssdp") or {}
    first = (mdns.get("exchanges") or [{}])[0]
    return {"add_ms": obs.seconds.get("add", 0) * 1000, "dhcp_retry_s": float(retry[-1]) if retry else 0.0,
            "probe_ms": obs.seconds.get("probe", 0) * 1000, "mdns_first_ms": mdns.get("first_answer_ms"),
            "mdns_sends": first.get("sends"), "ssdp_first_ms": ssdp.get("first_answer_ms"),
            "del_ms": obs.seconds.get("del", 0) * 1000, "node_total_ms": obs.seconds.get("total", 0) * 1000}


def one_lab(i: int, name: str, probes: int) -> list[dict[str, object]]:
    """Bring a lab up, probe it `probes` times (the first right after up, as `lab run` does), take it down."""
    t = time.monotonic()
    state = lab.up(name).state
    up_ms = (time.monotonic() - t) * 1000
    rows: list[dict[str, object]] = []
    try:
        for j in range(1, probes + 1):
            rows.append({"lab": i, "probe": j, "up_ms": up_ms if j == 1 else "", **node_probe(state), "down_ms": ""})
    finally:
        t = time.monotonic()
        lab.down(name)
        if rows:
            rows[-1]["down_ms"] = (time.monotonic() - t) * 1000
    return rows


def _cell(v: object) -> str:
    return f"{v:.1f}" if isinstance(v, float) else str(v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=3, help="labs to bring up and down")
    ap.add_argument("--probes", type=int, default=2, help="node probes per lab")
    ap.add_argument("--name", default="bench")
    a = ap.parse_args()
    missing = daemons.missing_prerequisites()
    if missing:
        print("cannot run the lab here: " + "; ".join(missing), file=sys.stderr)
        return 2
    lab.down(a.name)
    print("  ".join(f"{c:>13}" for c in COLUMNS))
    for i in range(1, a.runs + 1):
        for row in one_lab(i, a.name, a.probes):
            print("  ".join(f"{_cell(row[c]):>13}" for c in COLUMNS), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
