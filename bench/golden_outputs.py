"""Record every user-visible output of the offline paths, or compare them with a recording.

Why it exists: a restructuring must leave behaviour unchanged (issue 12). This records, with the
code of the checkout it runs in, the stdout, stderr and exit code of: every example snapshot in
fixtures/snapshots/ in every report format (plus `-v`, `--fix` plan-only and the results.json the
run writes), `--list`, `explain` of every id (and of an unknown one), `--help` of every command,
`--version`, and the bad-input paths of the main command. Run ids, times and this checkout's path
are replaced by placeholders, so two recordings compare byte for byte.

    python bench/golden_outputs.py record DIR     # e.g. on main, before a change
    python bench/golden_outputs.py compare DIR    # on the branch: prints every difference, exit 1 if any

Touches nothing but DIR and temporary report directories it removes; runs `python -m multus_check`
in subprocesses (two at a time).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "fixtures" / "snapshots"
SUBCOMMANDS = ("explain", "snapshot", "cleanup", "node", "lab", "undo", "attach")
_RUN_ID = re.compile(r"\b\d{8}-\d{6}-[0-9a-f]{6}\b")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)")
_JUNIT_TIME = re.compile(r'(timestamp|time)="[^"]*"')


def _cases() -> dict[str, list[str]]:
    cases: dict[str, list[str]] = {"version": ["--version"], "list": ["--list"], "help": ["--help"]}
    for name in SUBCOMMANDS:
        cases[f"help-{name}"] = [name, "--help"]
    snapshots = sorted(p.name for p in SNAPSHOTS.iterdir() if (p / "snapshot.json").is_file())
    for snap in snapshots:
        where = str(SNAPSHOTS / snap)
        for fmt in ("json", "table", "markdown", "junit"):
            cases[f"snap-{snap}-{fmt}"] = ["--snapshot", where, "--format", fmt, "--report-dir", "{report}"]
        cases[f"snap-{snap}-table-v"] = ["--snapshot", where, "-v", "--report-dir", "{report}"]
        cases[f"snap-{snap}-fix-plan"] = ["--snapshot", where, "--fix", "--report-dir", "{report}"]
    healthy = str(SNAPSHOTS / "healthy-k3s")
    cases |= {
        "select-glob": ["--snapshot", healthy, "--format", "json", "--check", "cidr.*", "--skip", "cidr.supernet-safety",
                        "--report-dir", "{report}"],
        "fail-on-high": ["--snapshot", str(SNAPSHOTS / "plugins-missing"), "--format", "json", "--fail-on", "high",
                         "--report-dir", "{report}"],
        "exit-zero": ["--snapshot", str(SNAPSHOTS / "plugins-missing"), "--exit-zero", "--report-dir", "{report}"],
        "bad-check": ["--snapshot", healthy, "--check", "cidr.nope"],
        "bad-skip-all": ["--snapshot", healthy, "--skip", "*"],
        "bad-fix-only": ["--snapshot", healthy, "--fix", "--fix-only", "nope"],
        "bad-fix-option": ["--snapshot", healthy, "--fix", "--fix-option", "multus-nesting=sideways"],
        "bad-snapshot": ["--snapshot", "/nonexistent/snapshot"],
        "bad-format": ["--snapshot", healthy, "--format", "yaml"],
        "explain-unknown": ["explain", "cidr.service-routng"],
        "node-with-snapshot": ["node", "--snapshot", healthy],
        "lab-keep-up": ["lab", "up", "--keep"],
    }
    ids = subprocess.run([sys.executable, "-m", "multus_check", "--list"], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.splitlines()[1:]
    for line in ids:
        cid = line.split()[0]
        cases[f"explain-{cid}"] = ["explain", cid]
    return cases


def _normalize(text: str) -> str:
    text = text.replace(str(ROOT), "<ROOT>")
    text = _RUN_ID.sub("<RUN-ID>", text)
    text = _TIME.sub("<TIME>", text)
    return _JUNIT_TIME.sub(r'\1="<T>"', text)


def _run(name: str, argv: list[str]) -> dict[str, str]:
    report = Path(tempfile.mkdtemp(prefix="golden-"))
    try:
        args = [a.replace("{report}", str(report / "out")) for a in argv]
        env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
        env.pop("CI", None)
        done = subprocess.run([sys.executable, "-m", "multus_check", *args], capture_output=True, text=True, cwd=ROOT,
                              env=env, stdin=subprocess.DEVNULL, timeout=120, check=False)
        saved = report / "out" / "results.json"
        out = {"argv": " ".join(argv), "exit": str(done.returncode), "stdout": done.stdout, "stderr": done.stderr,
               "results.json": saved.read_text() if saved.exists() else ""}
        return {k: _normalize(v).replace(str(report / "out"), "<REPORT>") for k, v in out.items()}
    finally:
        shutil.rmtree(report, ignore_errors=True)


def record(into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    cases = _cases()
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(cases, pool.map(lambda kv: _run(*kv), cases.items()), strict=True))
    for name, out in results.items():
        (into / f"{name}.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(results)} cases in {into}")


def compare(recorded: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="golden-now-") as tmp:
        now = Path(tmp)
        record(now)
        old = {p.name for p in recorded.glob("*.json")}
        new = {p.name for p in now.glob("*.json")}
        differ = 0
        for name in sorted(old | new):
            if name not in new or name not in old:
                print(f"{name}: only in {'the recording' if name in old else 'this checkout'}")
                differ += 1
                continue
            a, b = (recorded / name).read_text(), (now / name).read_text()
            if a != b:
                differ += 1
                diff = difflib.unified_diff(a.splitlines(), b.splitlines(), f"recorded/{name}", f"now/{name}", lineterm="", n=1)
                print("\n".join(list(diff)[:60]))
        print(f"{len(old & new)} cases compared, {differ} differ")
        return 1 if differ else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=("record", "compare"))
    ap.add_argument("directory", type=Path)
    a = ap.parse_args()
    if a.action == "record":
        record(a.directory)
        return 0
    return compare(a.directory)


if __name__ == "__main__":
    sys.exit(main())
