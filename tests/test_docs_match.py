"""Issue 10 §15-17: the docs a newcomer reads match the code: the install that works, counts taken
from the registry, the README's commands runnable, and every flag of every `--help` documented."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from multus_check.commands import SUBCOMMANDS
from multus_check.commands.cli_md import main_parser, render_cli_reference, subcommand_parser
from multus_check.domain.known_failures import CATALOG
from tests.conftest import ROOT, SNAPSHOTS

README = (ROOT / "README.md").read_text()
CI = (ROOT / "docs" / "CI.md").read_text()
CLI_DOC = (ROOT / "docs" / "CLI.md").read_text()


def _parsers() -> dict[str, argparse.ArgumentParser]:
    return {"multus-check": main_parser(), **{f"multus-check {n}": subcommand_parser(n) for n in SUBCOMMANDS}}


def _flags(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions if a.help != argparse.SUPPRESS for o in a.option_strings}


# --- §15 docs/CI.md: an install that works, examples that run ---------------------------------------


def test_ci_doc_installs_from_git_or_a_clone_never_from_an_index_that_lacks_the_package() -> None:
    installs = re.findall(r"pip install (.+)", CI)
    assert installs
    for line in installs:
        target = shlex.split(line.split("#")[0])[0]
        assert target.startswith(("multus-check @ git+", "./", "-e ")), line
    assert not re.search(r"pip install multus-check\s*(#|$)", CI, re.MULTILINE)


def _ci_commands() -> list[list[str]]:
    lines = re.findall(r"(?:run:|-)\s+(multus-check [^\n#]+)", CI)
    return [shlex.split(line)[1:] for line in lines]


def test_every_multus_check_command_in_the_ci_doc_parses_and_the_offline_one_gates(tmp_path: Path) -> None:
    commands = _ci_commands()
    assert len(commands) >= 3
    parser = main_parser()
    for argv in commands:
        parser.parse_args(argv)  # an unknown flag would exit 2 here
    offline = next(a for a in commands if "--snapshot" in a)
    argv = [str(SNAPSHOTS / "nad-config-invalid") if a == "snapshots/prod" else a for a in offline]
    argv = [str(tmp_path / "r") if a == "reports/multus-check" else a for a in argv]
    done = subprocess.run([sys.executable, "-m", "multus_check", *argv], capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "(exit code 1)" in done.stdout  # a high-severity failure fails the gate
    assert json.loads((tmp_path / "r" / "results.json").read_text())["summary"]["exit_code"] == 1
    assert (tmp_path / "r" / "junit.xml").is_file()


# --- §16 README: counts from the registry, promises kept, commands runnable -------------------------


def test_the_readme_counts_exactly_the_known_failures_of_the_catalog() -> None:
    counts = re.findall(r"(\d+) known Multus/CNI error messages", README)
    assert counts == [str(len(CATALOG))], "update the README's count from multus_check/domain/known_failures.py"


def test_vv_prints_debug_logs_on_a_snapshot_run(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "multus_check", "--snapshot", str(SNAPSHOTS / "healthy-k3s"), "-vv",
                           "--report-dir", str(tmp_path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "DEBUG multus_check.snapshot.load: snapshot " in done.stderr
    assert "DEBUG multus_check.checks.engine: check nad.crd: {'pass': 1}" in done.stderr
    assert "-vv" in README and "debug logs" in README


def test_the_readmes_pytest_example_runs_with_the_venvs_pytest(tmp_path: Path) -> None:
    example = next(line for line in README.splitlines() if "pytest suites/" in line)
    argv = shlex.split(example)
    assert argv[:3] == [".venv/bin/python", "-m", "pytest"]
    argv = [sys.executable, *argv[1:]]
    argv[argv.index("--mc-report-dir") + 1] = str(tmp_path / "mine")
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    doc = json.loads((tmp_path / "mine" / "results.json").read_text())
    checks = sorted(doc["summary"]["by_check"])  # `-k cidr` selects by test name, as pytest does
    assert {"cidr.service-routing", "cidr.supernet-safety"} <= set(checks) and all("cidr" in c for c in checks)


# --- §17 every flag of every --help is in the docs --------------------------------------------------


def test_every_flag_of_every_command_is_in_docs_cli_md_and_no_other() -> None:
    documented: dict[str, set[str]] = {}
    for title, body in re.findall(r"^## `([^`]+)`\n\n```text\n(.*?)\n```", CLI_DOC, re.MULTILINE | re.DOTALL):
        documented[title] = set(re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", body.split("\n\n", 1)[-1]))
    parsers = _parsers()
    assert set(documented) == set(parsers), "regenerate: python -m multus_check.commands.cli_md > docs/CLI.md"
    for title, parser in parsers.items():
        missing = _flags(parser) - documented[title]
        assert not missing, f"{title}: {sorted(missing)} not in docs/CLI.md (python -m multus_check.commands.cli_md > docs/CLI.md)"
        for action in parser._actions:
            if action.help and action.help != argparse.SUPPRESS and "%" not in action.help:
                assert " ".join(action.help.split()[:6]) in " ".join(CLI_DOC.split()), f"{title}: help of {action.dest} changed"


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="argparse's layout differs between Python versions")
def test_docs_cli_md_is_exactly_the_generated_reference() -> None:
    assert render_cli_reference() == CLI_DOC, "regenerate: python -m multus_check.commands.cli_md > docs/CLI.md"


@pytest.mark.parametrize("flag, where", [("--fix-option", "docs/FIX.md"), ("--reports-root", "docs/FIX.md"),
                                         ("--fix-option", "README.md"), ("--reports-root", "README.md")])
def test_the_flags_the_issue_names_are_explained_in_prose_too(flag: str, where: str) -> None:
    assert flag in (ROOT / where).read_text()


# --- audit 10, minor: LAB.md's hidden flags, lab --subnet --------------------------------------------


def test_every_flag_lab_md_recommends_is_a_flag_of_its_command_and_the_hidden_ones_are_called_hidden() -> None:
    lab_doc = (ROOT / "docs" / "LAB.md").read_text()
    parser = subcommand_parser("node")
    hidden = {o for a in parser._actions if a.help == argparse.SUPPRESS for o in a.option_strings}
    used = set(re.findall(r"multus-check node [^\n`]*(?:\\\n[^\n`]*)*", lab_doc))
    flags = {f for line in used for f in re.findall(r"(--[a-z][a-z-]+)", line)}
    assert flags and flags <= _flags(parser) | hidden
    for flag in flags & hidden:
        assert f"`{flag}" in lab_doc and "hidden from\n`--help`" in lab_doc, flag


@pytest.mark.parametrize("subnet", ["10.0.0.0/8", "192.168.76.0/23", "192.168.77.0/25"])
def test_lab_subnet_takes_a_slash_24_only(subnet: str) -> None:
    from multus_check.errors import UsageError
    from multus_check.lab import config

    with pytest.raises(UsageError, match="the lab LAN is a /24"):
        config.pick_subnet(subnet)
