"""`pytest suites/ --snapshot DIR` gives the same verdicts as `multus-check --snapshot DIR`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from multus_check.checks import registry
from tests.conftest import ROOT, SNAPSHOTS


def test_every_static_check_has_exactly_one_suite_test() -> None:
    marked = re.findall(r'@pytest\.mark\.check\("([^"]+)"\)', "".join(p.read_text() for p in (ROOT / "suites").glob("test_*.py")))
    static = sorted(s.id for s in registry.all_checks() if s.kind == "static")
    missing = [cid for cid in static if cid not in marked]
    assert not missing, "add to suites/test_<area>.py: " + "".join(
        f'\n@pytest.mark.check("{cid}")\ndef test_{cid.replace(".", "_").replace("-", "_")}(check_findings):\n'
        "    assert_no_failures(check_findings)\n" for cid in missing)
    assert sorted(marked) == static


@pytest.mark.parametrize("scenario", ["healthy-k3s", "multus-nested-delegates", "nad-crd-missing"])
def test_pytest_on_the_suites_matches_the_cli(scenario: str, tmp_path: Path) -> None:
    snap = str(SNAPSHOTS / scenario)
    proc = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites"), "--snapshot", snap, "-rA", "-q",
                           "-p", "no:cacheprovider", "--mc-report-dir", str(tmp_path / "py")],
                          capture_output=True, text=True, cwd=ROOT)

    per_test = {name: outcome for outcome, name in re.findall(r"^(PASSED|FAILED|ERROR) suites/\S+::(test_\S+)", proc.stdout, re.MULTILINE)}
    assert per_test, proc.stdout[-2000:]
    cli = subprocess.run([sys.executable, "-m", "multus_check", "--snapshot", snap, "--format", "json",
                          "--report-dir", str(tmp_path / "cli")], capture_output=True, text=True, cwd=ROOT)
    verdicts = json.loads(cli.stdout)["summary"]["by_check"]
    py = json.loads((tmp_path / "py" / "results.json").read_text())["summary"]["by_check"]
    assert py == verdicts
    expected = {"pass": "PASSED", "warn": "PASSED", "fail": "FAILED", "error": "ERROR"}
    for check_id, verdict in verdicts.items():
        name = "test_" + check_id.replace(".", "_").replace("-", "_")
        if verdict in expected:
            assert per_test.get(name) == expected[verdict], (check_id, verdict, proc.stdout[-3000:])
    assert (proc.returncode == 0) == all(v in ("pass", "warn", "skip") for v in verdicts.values())


def test_k_selects_suites_like_any_pytest_run() -> None:
    proc = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "suites"), "--snapshot", str(SNAPSHOTS / "healthy-k3s"),
                           "-q", "-k", "service_routing", "-p", "no:cacheprovider"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "1 passed" in proc.stdout and "16 deselected" in proc.stdout
