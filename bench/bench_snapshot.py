"""Benchmark: offline analysis time against the floor of merely reading and parsing the files.

Generates synthetic snapshots of 10, 100, 1000 and 5000 nodes (the healthy fixture's node,
repeated with distinct names, podCIDRs and addresses), then for each size prints:
  parse floor  - read every file and parse it (JSON with the json module, YAML with libyaml), nothing else
  load         - multus_check.snapshot.load_snapshot
  analyse      - load + every check through pytest (in-process, as the CLI does)
  cli          - the whole `multus-check --snapshot DIR --format json` process, wall time
  table s      - rendering the analysis as the terminal table with -v (every subject a line), plain as piped
  tty s        - the same for a terminal: coloured and wrapped at 100 columns
Also prints the start-up time of `--version` and `--help` (target < 0.3 s).
Target (issue 2): at 1000 nodes the CLI costs at most 3x the parse floor; cost grows linearly.

    python bench/bench_snapshot.py [--sizes 10,100,1000,5000]
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("fixture_gen", ROOT / "fixtures" / "snapshots" / "generate.py")
assert _spec and _spec.loader
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

from multus_check.snapshot import load_snapshot, write_snapshot  # noqa: E402


def synth(n: int):  # type: ignore[no-untyped-def]
    snap = gen.healthy()
    template_facts = snap.nodes["k3s-agent-1"]
    snap.objects = [o for o in snap.objects if o["kind"] != "Node"]
    snap.nodes, snap.sections = {}, {k: v for k, v in snap.sections.items() if not k.startswith("node/")}
    for i in range(n):
        name = f"node-{i:05d}"
        cidr = f"10.{42 + (i >> 8) // 256}.{i % 256}.0/24" if i < 65536 else "10.43.0.0/24"
        ip = f"192.168.{(i >> 8) % 256}.{i % 256}"
        snap.objects.append(gen.node_obj(name, f"10.42.{i % 256}.0/24" if n <= 256 else cidr, ip, "amd64", i == 0))
        facts = copy.deepcopy(template_facts)
        facts.name = name
        snap.nodes[name] = facts
        snap.sections[f"node/{name}"] = gen.Section(gen.SectionState.OK)
    for ds in [o for o in snap.objects if o["kind"] == "DaemonSet"]:
        ds["status"].update({"desiredNumberScheduled": n, "numberReady": n, "currentNumberScheduled": n})
    return snap


def parse_floor(root: Path) -> float:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    start = time.perf_counter()
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            text = p.read_text()
            if f.endswith(".yaml") and text.lstrip().startswith("{"):  # cluster.yaml is JSON since issue 10 §13
                json.loads(text)
            elif f.endswith(".yaml"):
                yaml.load(text, Loader=loader)
            elif f.endswith((".json", ".conf", ".conflist")):
                json.loads(text)
    return time.perf_counter() - start


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10,100,1000,5000")
    sizes = [int(s) for s in ap.parse_args().sizes.split(",")]
    from multus_check.pipeline.suites import analyse
    from multus_check.report import render

    for flag in ("--version", "--help"):
        cmd = [sys.executable, "-m", "multus_check", flag]
        best = min(timed(lambda cmd=cmd: subprocess.run(cmd, check=True, capture_output=True)) for _ in range(5))
        print(f"multus-check {flag}: {best:.3f} s (best of 5; target < 0.3 s)")

    print(f"{'nodes':>6} {'files':>7} {'floor s':>8} {'load s':>7} {'analyse s':>9} {'cli s':>7} {'cli/floor':>9} {'cli ms/node':>11}"
          f" {'table s':>8} {'tty s':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            root = Path(tmp) / f"snap-{n}"
            write_snapshot(synth(n), root)
            files = sum(len(f) for _, _, f in os.walk(root))
            parse_floor(root)  # warm the page cache so every figure reads from memory
            floor = min(parse_floor(root) for _ in range(3))
            load = min(timed(lambda root=root: load_snapshot(root)) for _ in range(2))
            started = time.perf_counter()
            results = analyse(load_snapshot(root))
            analyse_s = time.perf_counter() - started
            table_s = timed(lambda results=results: render(results, "table", verbose=True))
            tty_s = timed(lambda results=results: render(results, "table", verbose=True, color=True, width=100))
            cmd = [sys.executable, "-m", "multus_check", "--snapshot", str(root), "--format", "json",
                   "--output", os.devnull, "--report-dir", str(Path(tmp) / f"rep-{n}")]
            cli = min(timed(lambda cmd=cmd: subprocess.run(cmd, check=False, capture_output=True)) for _ in range(2))
            print(f"{n:>6} {files:>7} {floor:>8.3f} {load:>7.3f} {analyse_s:>9.3f} {cli:>7.3f} {cli / floor:>9.2f} "
                  f"{1000 * cli / n:>11.2f} {table_s:>8.3f} {tty_s:>6.3f}", flush=True)
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
