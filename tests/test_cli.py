"""The command line as users and CI run it: formats, selection, exit codes, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from multus_check.checks import registry
from multus_check.cli import main
from tests.conftest import ROOT, SNAPSHOTS

HEALTHY = str(SNAPSHOTS / "healthy-k3s")
STATIC = sorted(s.id for s in registry.all_checks() if s.kind == "static")


def run(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--report-dir", str(tmp_path / "reports")] if args and not args[0].startswith(("explain",)) else list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_healthy_snapshot_exits_zero_and_writes_results_and_junit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, tmp_path, "--snapshot", HEALTHY)
    assert code == 0
    assert "17 checks: 17 pass (exit code 0)" in out
    assert {p.name for p in (tmp_path / "reports").iterdir()} == {"results.json", "junit.xml"}


def test_json_document_has_the_public_shape(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, tmp_path, "--snapshot", str(SNAPSHOTS / "dhcp-daemon-broken"), "--format", "json")
    doc = json.loads(out)
    assert code == 1
    assert set(doc) >= {"format", "run_id", "findings", "summary", "source"}
    for f in doc["findings"]:
        assert set(f) == {"check", "status", "severity", "subject", "message", "evidence", "remediation", "fix"}
        assert f["status"] in {"pass", "fail", "warn", "skip", "error"}
    failed = [f for f in doc["findings"] if f["status"] == "fail"]
    assert {f["check"] for f in failed} == {"dhcp.daemon"} and all(f["remediation"] for f in failed)
    assert {f["fix"] for f in failed} == {"install-cni-plugins"}, "a failing finding names the fix that repairs it"
    assert all(f["fix"] is None for f in doc["findings"] if f["status"] not in ("fail", "warn"))
    assert doc["summary"]["by_check"]["dhcp.daemon"] == "fail" and doc["summary"]["exit_code"] == 1
    assert json.loads((tmp_path / "reports" / "results.json").read_text())["findings"] == doc["findings"]


def test_junit_is_well_formed_with_one_case_per_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _code, out, _ = run(capsys, tmp_path, "--snapshot", str(SNAPSHOTS / "nad-config-invalid"), "--format", "junit")
    suite = ET.fromstring(out.encode()).find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert sorted(c.get("name") or "" for c in cases) == STATIC
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    skipped = [c.get("name") for c in cases if c.find("skipped") is not None]
    assert failed == ["nad.config-valid"] and "plugins.present" in skipped
    assert suite.get("failures") == "1"
    assert "remediation:" in (next(c for c in cases if c.get("name") == "nad.config-valid").findtext("system-out") or "")


def test_markdown_report_lists_failures_with_remediation(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "report.md"
    code, out, err = run(capsys, tmp_path, "--snapshot", str(SNAPSHOTS / "plugins-missing"), "--format", "markdown",
                         "--output", str(out_file))
    text = out_file.read_text()
    assert code == 1 and out == "" and "reports in" in err
    assert "| ✘ FAIL | `plugins.present` |" in text and "**Remediation:**" in text


def test_check_and_skip_select_by_glob(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, tmp_path, "--snapshot", HEALTHY, "--format", "json", "--check", "multus.*", "--skip", "multus.kubeconfig")
    assert sorted(json.loads(out)["summary"]["by_check"]) == ["multus.conf-first", "multus.installed", "multus.nested-delegates"]
    code, _, err = run(capsys, tmp_path, "--snapshot", HEALTHY, "--check", "nope.*")
    assert code == 2 and "no check matches" in err


def test_fail_on_and_exit_zero_change_only_the_exit_code(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = str(SNAPSHOTS / "nad-config-invalid")  # nad.config-valid is severity high
    assert run(capsys, tmp_path, "--snapshot", broken)[0] == 1
    assert run(capsys, tmp_path, "--snapshot", broken, "--fail-on", "critical")[0] == 0
    assert run(capsys, tmp_path, "--snapshot", broken, "--fail-on", "high")[0] == 1
    assert run(capsys, tmp_path, "--snapshot", broken, "--exit-zero")[0] == 0


def test_exit_three_when_nothing_failed_but_something_could_not_be_evaluated(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "s"
    shutil.copytree(HEALTHY, root)
    meta = json.loads((root / "snapshot.json").read_text())
    meta["sections"]["cluster/events"] = {"state": "forbidden", "detail": "events is forbidden: cannot list resource \"events\""}
    (root / "snapshot.json").write_text(json.dumps(meta))
    code, out, _ = run(capsys, tmp_path, "--snapshot", str(root))
    assert code == 3
    assert "forbidden by RBAC" in out


@pytest.mark.parametrize("args, message", [
    (["--snapshot", "/nonexistent/snap"], "does not exist"),
    (["--snapshot", str(ROOT / "pyproject.toml")], "is not a directory"),
    (["--snapshot", str(ROOT / "multus_check" / "checks")], "holds no snapshot"),
])
def test_unusable_snapshot_exits_two_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                   args: list[str], message: str) -> None:
    code, out, err = run(capsys, tmp_path, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_bad_flags_exit_two(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--format", "yaml"])
    assert exc.value.code == 2


@pytest.mark.parametrize(("argv", "refused"), [(["node", "--probe", "mdns"], "--probe mdns"),
                                               (["--snap", "x"], "--snap x")])
def test_an_abbreviated_or_unknown_flag_is_refused_never_read_as_a_longer_one(
        argv: list[str], refused: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and f"unrecognized arguments: {refused}" in capsys.readouterr().err


def test_list_and_explain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert all(cid in listing for cid in STATIC)
    assert main(["explain", "cidr.service-routing"]) == 0
    text = capsys.readouterr().out
    assert "S1" in text and "severity:  critical" in text and "F30" in text
    assert main(["explain", "cidr.service-routin"]) == 2
    assert "Did you mean cidr.service-routing" in capsys.readouterr().err


def test_help_and_version_are_fast_and_import_no_heavy_library() -> None:
    code = ("import sys, multus_check.cli as c\n"
            "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('kubernetes', 'scapy', 'pytest', 'yaml', 'rich', 'jsonschema') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "exit codes:" in out and "examples:" in out
    assert "HEAVY []" in out


def test_python_m_entry_point_reports_version() -> None:
    out = subprocess.run([sys.executable, "-m", "multus_check", "--version"], capture_output=True, text=True,
                         env={**os.environ}, check=True)
    assert out.stdout.startswith("multus-check ")
