"""Data-path benchmark on the lab: lab up, CNI ADD (lease), mDNS/SSDP first answer, IPv6, DEL, down.

Run as root: `python bench/bench_lab.py [--runs 3] [--ipv6 both|on|off]`. Everything happens inside
the lab's own namespaces (mcl-bench-*), which are removed after each run, also on failure.

With `--ipv6 both` (the default) every node probe runs twice, without and with the IPv6
observations (RS/RA, mDNS on ff02::fb, the Matter round trip), and the last line prints what the
IPv6 part adds to a node probe (median probe phase with minus without).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from typing import Any

from multus_check.domain.cniconf import parse_netconf
from multus_check.lab import daemons
from multus_check.lab import lifecycle as lab
from multus_check.lab.config import LabState
from multus_check.probes import datapath_probe as datapath

COLUMNS = ("lab", "probe", "ipv6", "up_ms", "add_ms", "dhcp_retry_s", "probe_ms", "mdns_first_ms", "mdns_sends",
           "ssdp_first_ms", "v6_ms", "v6_ra_ms", "v6_mdns_ms", "matter_rtt_ms", "v6_dad_ms", "del_ms",
           "node_total_ms", "down_ms")


def node_probe(state: LabState, ipv6: bool) -> dict[str, object]:
    """One `multus-check node` data-path run against the lab, with its phase timings."""
    conf = parse_netconf(state.nad_config.read_text(), "nad")
    obs = datapath.run(datapath.DatapathOptions(
        conf=conf, cni_path=[str(state.cni_bin)], node="bench", node_netns=state.node_ns,
        pod_netns_prefix=state.pod_ns_prefix, lan_subnet=state.subnet,
        probes=("mdns", "ssdp", "ipv6") if ipv6 else ("mdns", "ssdp")))
    retry = re.findall(r"retrying in ([0-9.]+) seconds", (state.dir / "cni-dhcp.log").read_text())
    probe = obs.probe or {}
    mdns, ssdp = probe.get("mdns") or {}, probe.get("ssdp") or {}
    first = (mdns.get("exchanges") or [{}])[0]
    return {"ipv6": "yes" if ipv6 else "no", "add_ms": obs.seconds.get("add", 0) * 1000,
            "dhcp_retry_s": float(retry[-1]) if retry else 0.0,
            "probe_ms": obs.seconds.get("probe", 0) * 1000, "mdns_first_ms": mdns.get("first_answer_ms"),
            "mdns_sends": first.get("sends"), "ssdp_first_ms": ssdp.get("first_answer_ms"),
            **ipv6_figures(probe.get("ipv6")),
            "del_ms": obs.seconds.get("del", 0) * 1000, "node_total_ms": obs.seconds.get("total", 0) * 1000}


def ipv6_figures(v6: dict[str, Any] | None) -> dict[str, object]:
    """The IPv6 observation's wall time, first RA, first mDNS answer, Matter RTT and DAD waits."""
    if not v6:
        return {"v6_ms": "", "v6_ra_ms": "", "v6_mdns_ms": "", "matter_rtt_ms": "", "v6_dad_ms": ""}
    trips = [t.get("rtt_ms") for t in (v6.get("matter") or {}).get("targets", []) if t.get("rtt_ms") is not None]
    return {"v6_ms": v6.get("ms"), "v6_ra_ms": (v6.get("ra") or {}).get("first_answer_ms"),
            "v6_mdns_ms": (v6.get("mdns") or {}).get("first_answer_ms"), "matter_rtt_ms": min(trips) if trips else None,
            "v6_dad_ms": sum((v6.get("dad_wait_ms") or {}).values())}


def one_lab(i: int, name: str, probes: int, variants: tuple[bool, ...]) -> list[dict[str, object]]:
    """Bring a lab up, probe it `probes` times (the first right after up, as `lab run` does), take it down."""
    t = time.monotonic()
    state = lab.up(name).state
    up_ms = (time.monotonic() - t) * 1000
    rows: list[dict[str, object]] = []
    try:
        for j in range(1, probes + 1):
            for ipv6 in variants if i % 2 else variants[::-1]:  # alternate which variant comes first
                rows.append({"lab": i, "probe": j, "up_ms": up_ms if not rows else "", **node_probe(state, ipv6),
                             "down_ms": ""})
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
    ap.add_argument("--ipv6", choices=("both", "on", "off"), default="both",
                    help="node probes without and with the IPv6 observations (both: each probe twice)")
    a = ap.parse_args()
    missing = daemons.missing_prerequisites()
    if missing:
        print("cannot run the lab here: " + "; ".join(missing), file=sys.stderr)
        return 2
    variants = {"both": (False, True), "on": (True,), "off": (False,)}[a.ipv6]
    lab.down(a.name)
    print("  ".join(f"{c:>13}" for c in COLUMNS))
    rows: list[dict[str, Any]] = []
    for i in range(1, a.runs + 1):
        for row in one_lab(i, a.name, a.probes, variants):
            rows.append(row)
            print("  ".join(f"{_cell(row[c]):>13}" for c in COLUMNS), flush=True)
    _summary(rows)
    return 0


def _summary(rows: list[dict[str, Any]]) -> None:
    ups = [float(r["up_ms"]) for r in rows if isinstance(r["up_ms"], float)]
    print(f"lab up: median {statistics.median(ups):.0f} ms (min {min(ups):.0f}, max {max(ups):.0f})")
    # the first probe after `lab up` pays avahi's start-up (a resent mDNS query) and the DHCP daemon's first retry:
    # the comparison uses the probes after it when there are any
    settled = [r for r in rows if r["probe"] != 1] or rows
    for key, label in (("probe_ms", "probe phase"), ("node_total_ms", "node data path (ADD + probes + DEL)")):
        with_v6 = [float(r[key]) for r in settled if r["ipv6"] == "yes"]
        without = [float(r[key]) for r in settled if r["ipv6"] == "no"]
        if with_v6 and without:
            added = statistics.median(with_v6) - statistics.median(without)
            print(f"{label}: median {statistics.median(without):.0f} ms without IPv6, {statistics.median(with_v6):.0f} ms "
                  f"with (node's default); the IPv6 observations add {added:.0f} ms (max with: {max(with_v6):.0f} ms; "
                  f"{len(settled)} probes after the first of each lab; target < 2000 ms)")


if __name__ == "__main__":
    sys.exit(main())
