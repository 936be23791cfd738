"""What the IPv6 observations add to a sample pod's probe, on the netns lab (root).

Run: `python bench/bench_pod_ipv6.py [--runs 4]`. Each run attaches a throwaway pod namespace to the
lab with the real CNI plugins (as the lab kubelet does for a sample pod), then runs the sample pod's
own script (`e2e/pod_probe.py`, shipped flat with its siblings exactly as the ConfigMap ships them)
inside it twice: without the IPv6 part (mDNS + SSDP only) and with it (the default); even runs
start with the IPv6 run, right after ADD as in a new pod (DAD still running), odd runs after it. It prints each
run's pod-probe seconds and the IPv6 part's own wall time, then the median the IPv6 part adds.
Target: under 2 s. Everything happens inside the lab's namespaces (mcl-bench-pod6*), removed after
the run, also on failure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from multus_check.domain.cniconf import parse_netconf
from multus_check.e2e.sample_manifest import code_files
from multus_check.lab import daemons
from multus_check.lab import lifecycle as lab
from multus_check.lab.config import LabState
from multus_check.probes import cni, netns

NAME = "bench-pod6"


def pod_dir() -> Path:
    """The shipped files, flat in one directory, as the ConfigMap mounts them in the pod."""
    where = Path(tempfile.mkdtemp(prefix="bench-pod6-"))
    for name, text in code_files().items():
        (where / name).write_text(text)
    return where


def run_script(pod: str, where: Path, kinds: tuple[str, ...]) -> dict[str, Any]:
    """pod_probe.collect() in the pod namespace (`ip netns exec` mounts its /sys, as a pod has), the package
    made unimportable so the script uses its shipped siblings."""
    code = (f"import json, sys; sys.modules['multus_check'] = None; sys.path.insert(0, {str(where)!r}); "
            f"import pod_probe; print(json.dumps(pod_probe.collect('net1', [], '', 2.0, 0.1, None, {kinds!r})))")
    out = subprocess.run(["ip", "netns", "exec", pod, sys.executable, "-I", "-c", code], capture_output=True,
                         text=True, timeout=60, check=True, cwd=where)
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def one(state: LabState, where: Path, run: int) -> dict[str, float]:
    conf = parse_netconf(state.nad_config.read_text(), "nad")
    pod = f"{state.pod_ns_prefix}-b{run}"
    att = cni.Attachment(f"bench-pod6-{run}", netns.netns_path(pod), "net1", [str(state.cni_bin)], state.node_ns)
    netns.create(pod)
    try:
        if not cni.add(att, conf).ok:
            raise RuntimeError("CNI ADD failed on the lab")
        out: dict[str, float] = {}
        variants = [("without", ("mdns", "ssdp")), ("with", ("mdns", "ssdp", "ipv6"))]
        for label, kinds in variants if run % 2 else variants[::-1]:  # even runs: the IPv6 run right after ADD
            result = run_script(pod, where, kinds)
            out[label] = float(result["seconds"])
            if result["multicast"].get("error"):
                raise RuntimeError(result["multicast"]["error"])
            v6 = result["multicast"].get("ipv6")
            if v6 is not None:
                out["v6_ms"] = float(v6["ms"])
                out["matter"] = 1.0 if v6["matter"]["outcome"] == "answered" else 0.0
        return out
    finally:
        cni.delete(att, conf, None)
        netns.remove(pod)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=4)
    a = ap.parse_args()
    missing = daemons.missing_prerequisites()
    if missing:
        sys.stderr.write("bench_pod_ipv6 needs: " + "; ".join(missing) + "\n")
        return 2
    where = pod_dir()
    lab.down(NAME)
    state = lab.up(NAME).state
    rows: list[dict[str, float]] = []
    try:
        sys.stdout.write("run  pod probe without IPv6 (s)  with IPv6 (s)  IPv6 part alone (ms)  Matter acked\n")
        for run in range(1, a.runs + 1):
            row = one(state, where, run)
            rows.append(row)
            sys.stdout.write(f"{run:3}  {row['without']:26.2f}  {row['with']:13.2f}  {row['v6_ms']:20.0f}  "
                             f"{'yes' if row.get('matter') else 'NO'}\n")
            sys.stdout.flush()
    finally:
        lab.down(NAME)
    added = statistics.median(r["with"] for r in rows) - statistics.median(r["without"] for r in rows)
    worst = max(r["with"] - r["without"] for r in rows)
    sys.stdout.write(f"the IPv6 part adds a median {added:.2f} s to the sample pod's probe (worst run {worst:.2f} s; "
                     "target < 2 s)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
