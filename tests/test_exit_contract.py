"""Issue 10 §6-10: the exit code printed and stored is the process's; unknown fixes, variants and check
ids are exit 2 naming the valid ones; a closed pipe costs no traceback; an unwritable report directory
costs no report. Report files are 0600 in 0700 directories (issue 9 §1)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from multus_check import cli
from tests.conftest import ROOT, SNAPSHOTS
from tests.unprivileged import can_make_readonly, readonly_command

BROKEN = str(SNAPSHOTS / "nad-config-invalid")  # nad.config-valid fails, severity high
HEALTHY = str(SNAPSHOTS / "healthy-k3s")
PROCESS = [sys.executable, "-m", "multus_check"]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


# --- §6 the number printed and stored is the number returned -----------------------------------------


@pytest.mark.parametrize("flags, code", [([], 1), (["--fail-on", "critical"], 0), (["--fail-on", "high"], 1),
                                         (["--exit-zero"], 0)])
@pytest.mark.parametrize("fmt", ["table", "markdown", "json"])
def test_the_exit_code_in_the_report_and_results_json_is_the_one_returned(tmp_path: Path, flags: list[str], code: int,
                                                                          fmt: str) -> None:
    got, out, err = run_cli(["--snapshot", BROKEN, "--format", fmt, "--report-dir", str(tmp_path), *flags])
    stored = json.loads((tmp_path / "results.json").read_text())["summary"]
    assert got == code and stored["exit_code"] == code
    if fmt == "json":
        assert json.loads(out)["summary"]["exit_code"] == code and f"(exit code {code})" in err
    else:
        assert f"(exit code {code})" in out and "(exit code" not in out.replace(f"(exit code {code})", "")
    assert stored["fail_on"] == (flags[1] if flags[:1] == ["--fail-on"] else "info")
    assert stored["exit_zero"] is (flags == ["--exit-zero"])


def test_the_process_itself_returns_the_printed_code(tmp_path: Path) -> None:
    done = subprocess.run([*PROCESS, "--snapshot", BROKEN, "--fail-on", "critical", "--report-dir", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert "(exit code 0)" in done.stdout and done.returncode == 0, done.stderr


# --- §7 fix ids and variants -----------------------------------------------------------------------


@pytest.mark.parametrize("args, says", [
    (["--fix-option", "multus-nesting=bogus"], "'bogus' is not a variant of multus-nesting; choose one of: upgrade, workaround"),
    (["--fix-option", "nosuchfix=x"], "nosuchfix is no fix of this build; the options are: multus-nesting=upgrade|workaround"),
    (["--fix-option", "flannel-service-routes=x"], "a fix without variants; the options are: multus-nesting=upgrade|workaround"),
    (["--fix-option", "workaround"], "expected FIX=VALUE"),
    (["--fix-only", "nosuchfix"], "unknown fix nosuchfix in --fix-only; the fixes are: flannel-service-routes,"),
])
def test_an_unknown_fix_or_variant_exits_2_listing_the_valid_ones_before_any_work(tmp_path: Path, args: list[str],
                                                                                   says: str) -> None:
    code, out, err = run_cli(["--snapshot", BROKEN, "--fix", "--report-dir", str(tmp_path / "r"), *args])
    assert code == 2 and out == "" and err.count("\n") == 1 and says in err
    assert not (tmp_path / "r").exists()


def test_a_valid_variant_is_accepted_and_planned(tmp_path: Path) -> None:
    code, out, _ = run_cli(["--snapshot", str(SNAPSHOTS / "multus-nested-delegates"), "--fix", "--report-dir",
                            str(tmp_path), "--fix-option", "multus-nesting=workaround"])
    assert code == 1 and "init container removes" in out and "upgrade Multus" not in out


# --- §8 --skip like --check -------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--check", "--skip"])
def test_a_check_or_skip_pattern_that_matches_no_check_exits_2_alike(tmp_path: Path, flag: str) -> None:
    code, out, err = run_cli(["--snapshot", HEALTHY, "--report-dir", str(tmp_path), "--check", "multus.*",
                              flag, "no.such.check"])
    assert code == 2 and out == "" and err == (f"multus-check: error: no check matches {flag} no.such.check; "
                                               "`multus-check --list` shows the ids\n")
    code, _, err = run_cli(["--snapshot", HEALTHY, "--report-dir", str(tmp_path), flag, "multus.kubeconfg"])
    assert code == 2 and "(did you mean multus.kubeconfig" in err


# --- §9 a reader that goes away ---------------------------------------------------------------------


@pytest.mark.parametrize("argv, code", [(["--list"], 0), (["explain", "cidr.service-routing"], 0),
                                        (["--snapshot", BROKEN, "--report-dir", "REPORTS"], 1)])
def test_a_closed_stdout_ends_quietly_with_the_commands_own_exit_code(tmp_path: Path, argv: list[str], code: int) -> None:
    argv = [str(tmp_path / "r") if a == "REPORTS" else a for a in argv]
    proc = subprocess.Popen([*PROCESS, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written, as `| head -1` leaves it
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == code
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


def test_list_piped_to_head_prints_one_line_and_nothing_else() -> None:
    done = subprocess.run(["bash", "-c", "set -o pipefail; \"$@\" --list | head -1", "sh", *PROCESS],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("ID ") and done.stdout.count("\n") == 1 and done.stderr == ""


# --- §10 a read-only working directory --------------------------------------------------------------


@pytest.mark.skipif(not can_make_readonly(), reason="cannot make a read-only directory here (needs unshare as root)")
def test_a_read_only_working_directory_still_prints_the_report_with_one_warning_line(tmp_path: Path) -> None:
    work = tmp_path / "ro"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    try:
        default = subprocess.run(readonly_command(work, [*PROCESS, "--snapshot", BROKEN]), cwd=work, env=env,
                                 capture_output=True, text=True, check=False)
        explicit = subprocess.run(readonly_command(work, [*PROCESS, "--snapshot", BROKEN, "--report-dir", "mine"]),
                                  cwd=work, env=env, capture_output=True, text=True, check=False)
        output = subprocess.run(readonly_command(work, [*PROCESS, "--snapshot", BROKEN, "--output", "r.md"]),
                                cwd=work, env=env, capture_output=True, text=True, check=False)
    finally:
        os.chmod(work, 0o755)
    assert default.returncode == 1 and "✘ FAIL  nad.config-valid" in default.stdout and "(exit code 1)" in default.stdout
    assert default.stderr.count("\n") == 1 and default.stderr.startswith(
        "multus-check: warning: results.json and junit.xml were not saved: cannot write reports/")
    assert "--report-dir" in default.stderr
    reason = f"{work} is on a read-only file system" if os.geteuid() == 0 else f"permission denied writing in {work}"
    assert explicit.returncode == 2 and explicit.stdout == "" and explicit.stderr == (
        f"multus-check: error: cannot write the report directory mine: {reason}; choose another with --report-dir\n")
    assert output.returncode == 2 and output.stdout == "" and "cannot write --output r.md" in output.stderr
    assert list(work.iterdir()) == []


# --- report files: 0600 in 0700 ---------------------------------------------------------------------


def test_report_files_are_0600_in_a_0700_directory_and_output_files_too(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out_file = tmp_path / "made" / "report.md"
        code, _, _ = run_cli(["--snapshot", HEALTHY, "--report-dir", str(tmp_path / "reports" / "run"), "--format",
                              "markdown", "--output", str(out_file)])
    finally:
        os.umask(old)
    assert code == 0
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "reports") == mode(tmp_path / "reports" / "run") == 0o700
    assert mode(tmp_path / "reports" / "run" / "results.json") == mode(tmp_path / "reports" / "run" / "junit.xml") == 0o600
    assert mode(out_file.parent) == 0o700 and mode(out_file) == 0o600
    assert sorted(p.name for p in (tmp_path / "reports" / "run").iterdir()) == ["junit.xml", "results.json"]


def test_an_existing_report_file_is_replaced_whole_with_mode_0600(tmp_path: Path) -> None:
    out_file = tmp_path / "report.json"
    out_file.write_text("old")
    os.chmod(out_file, 0o644)
    code, _, _ = run_cli(["--snapshot", HEALTHY, "--report-dir", str(tmp_path / "r"), "--format", "json",
                          "--output", str(out_file)])
    assert code == 0 and json.loads(out_file.read_text())["summary"]["exit_code"] == 0
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_output_to_a_device_writes_into_it_instead_of_replacing_it(tmp_path: Path) -> None:
    code, _, _ = run_cli(["--snapshot", HEALTHY, "--report-dir", str(tmp_path / "r"), "--output", os.devnull])
    assert code == 0 and stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_a_snapshot_target_that_cannot_be_written_is_exit_2_before_any_collection(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"  # would fail to connect: the target is checked first
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: "
                          "'https://127.0.0.1:9'}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\nusers: [{name: u, user: {}}]\n")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    for target, says in ((tmp_path / "full", "is not empty"), (tmp_path / "full" / "x", "exists and is not a directory")):
        code, out, err = run_cli(["snapshot", str(target), "--kubeconfig", str(kubeconfig)])
        assert code == 2 and out == "" and says in err and err.count("\n") == 1
    assert (tmp_path / "full" / "x").read_text() == "mine"
