"""Benchmark: loading a large cluster document, JSON (in every layout) and YAML.

Builds a snapshot directory whose cluster.yaml holds the healthy fixture's API objects repeated
with distinct names until it reaches the size asked for, in the layouts JSON comes in: what
`multus-check snapshot` and `kubectl get -o json` write (`json`, 4-space indent), `jq .` (`json-2`,
2-space indent) and `jq -c` (`json-c`, minified); then loads each with
`multus_check.snapshot.load_snapshot` in a fresh subprocess per measurement and prints:
  bytes      - size of cluster.yaml
  load s     - wall time of load_snapshot (best of --repeat runs)
  peak MiB   - peak memory the load allocated (tracemalloc, Python allocations)
  rss MiB    - growth of the process's peak resident memory during the load (VmHWM after - before)
  x size     - peak / file size
Targets (issue 10 §13): a 50 MB JSON document loads in under 5 s and under 5x its size in memory,
whatever its layout (audit 10 item 15: only the first layout was fast before).
YAML stays supported, at the YAML parser's speed: its size is smaller by default (--yaml-mb).

    python bench/bench_load.py [--json-mb 50] [--yaml-mb 5] [--repeat 2]
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from multus_check.snapshot import load_snapshot  # noqa: E402
from multus_check.snapshot.write import cluster_json  # noqa: E402

# VmHWM, not ru_maxrss: Linux carries a parent's ru_maxrss into the child across fork and exec.
MEASURE = """
import json, sys, time, tracemalloc
from multus_check.snapshot import load_snapshot

def hwm():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:"))

before = hwm()
trace = sys.argv[2] == "trace"
if trace:
    tracemalloc.start()
t0 = time.perf_counter()
snap = load_snapshot(sys.argv[1])
seconds = time.perf_counter() - t0
peak = tracemalloc.get_traced_memory()[1] if trace else 0
print(json.dumps({"seconds": seconds, "peak": peak, "rss": hwm() - before, "objects": len(snap.objects)}))
"""


def objects_of_size(target_bytes: int) -> list[dict[str, object]]:
    template = load_snapshot(ROOT / "fixtures" / "snapshots" / "healthy-k3s").objects
    unit = len(json.dumps(template))
    out = []
    for i in range(target_bytes // unit + 1):
        for obj in template:
            item = copy.deepcopy(obj)
            item["metadata"]["name"] = f"{item['metadata'].get('name')}-{i:06d}"
            out.append(item)
    return out


def measure(snapshot_dir: Path, trace: bool) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(snapshot_dir), "trace" if trace else "plain"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def report(label: str, snapshot_dir: Path, repeat: int) -> None:
    size = (snapshot_dir / "cluster.yaml").stat().st_size
    timed = [measure(snapshot_dir, trace=False) for _ in range(repeat)]
    traced = measure(snapshot_dir, trace=True)
    best = min(t["seconds"] for t in timed)
    rss = max(t["rss"] for t in timed)
    print(f"{label:6} {size:>12,} {best:>7.2f} {traced['peak'] / 2**20:>9.1f} {rss / 2**20:>8.1f} "
          f"{max(traced['peak'], rss) / size:>7.2f} {int(timed[0]['objects']):>9,}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json-mb", type=float, default=50)
    ap.add_argument("--yaml-mb", type=float, default=5)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    print(f"{'doc':6} {'bytes':>12} {'load s':>7} {'peak MiB':>9} {'rss MiB':>8} {'x size':>7} {'objects':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        objects = objects_of_size(int(args.json_mb * 1e6))
        doc = {"apiVersion": "v1", "items": objects, "kind": "List", "metadata": {"resourceVersion": ""}}
        layouts = {"json": cluster_json(objects), "json-2": json.dumps(doc, indent=2),
                   "json-c": json.dumps(doc, separators=(",", ":"))}
        for label, text in layouts.items():
            json_dir = Path(tmp) / label
            json_dir.mkdir()
            (json_dir / "cluster.yaml").write_text(text)
            report(label, json_dir, args.repeat)
        del objects, doc, layouts
        yaml_dir = Path(tmp) / "yaml"
        yaml_dir.mkdir()
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        doc = {"apiVersion": "v1", "kind": "List", "items": objects_of_size(int(args.yaml_mb * 1e6))}
        (yaml_dir / "cluster.yaml").write_text(yaml.dump(doc, Dumper=dumper, sort_keys=False))
        report("yaml", yaml_dir, args.repeat)
    print("targets: json (every layout) load < 5 s and peak < 5x the file size")


if __name__ == "__main__":
    main()
