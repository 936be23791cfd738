"""Issue 10 §1: a kubeconfig that cannot be one is exit 2 and one line naming the file and the cause,
in every command that reads it (the main command, `snapshot`, `cleanup`), never a traceback."""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from multus_check import cli
from multus_check.errors import UsageError
from multus_check.kube import load_target
from tests.unprivileged import as_unprivileged, shared_dir

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))

BAD: dict[str, tuple[Callable[[Path], None], str]] = {
    "invalid YAML": (lambda p: p.write_text("apiVersion: v1\nclusters: [\n"), "is not valid YAML: did not find expected"),
    "a scalar": (lambda p: p.write_text("42\n"), "it holds a number; expected a mapping"),
    "binary": (lambda p: p.write_bytes(b"\x7fELF\x02\x01\x00\x00garbage"), "is binary data"),
    "not UTF-8": (lambda p: p.write_bytes(b"apiVersion: v1\nkind: \xff\xfe\n"), "is not UTF-8 text"),
    "a directory": (lambda p: p.mkdir(), "is a directory, not a file"),
    "contexts as a string": (lambda p: p.write_text("apiVersion: v1\nkind: Config\ncontexts: oops\n"),
                             "contexts is a string; expected a list"),
    "a billion laughs": (lambda p: p.write_text(LAUGHS), "aliases expand to"),
}

COMMANDS = {
    "main": lambda kc, tmp: ["--kubeconfig", kc, "--no-e2e", "--report-dir", str(tmp / "reports")],
    "snapshot": lambda kc, tmp: ["snapshot", str(tmp / "snap"), "--kubeconfig", kc],
    "cleanup": lambda kc, tmp: ["cleanup", "--kubeconfig", kc],
}


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", sorted(BAD))
def test_a_malformed_kubeconfig_exits_2_with_one_line_naming_file_and_cause(tmp_path: Path, case: str,
                                                                            command: str) -> None:
    make, cause = BAD[case]
    kubeconfig = tmp_path / "kubeconfig"
    make(kubeconfig)
    code, out, err = run_cli(COMMANDS[command](str(kubeconfig), tmp_path))
    assert out == ""
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"multus-check: error: kubeconfig {kubeconfig}") and cause in err, err
    assert not (tmp_path / "snap").exists() and not (tmp_path / "reports").exists()


def test_an_unreadable_kubeconfig_says_permission_denied() -> None:
    with shared_dir() as d:
        kubeconfig = d / "kubeconfig"
        kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
        os.chmod(kubeconfig, 0)

        def attempt() -> str:
            with pytest.raises(UsageError) as exc:
                load_target(str(kubeconfig))
            return str(exc.value)

        message = as_unprivileged(attempt)
    assert message == f"kubeconfig {kubeconfig}: permission denied reading it (check its owner and mode)"


def test_a_billion_laughs_kubeconfig_is_refused_at_once(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(LAUGHS)
    started = time.monotonic()
    with pytest.raises(UsageError, match=r"was refused: its aliases expand to 490,329,064 nodes from 28 written ones"):
        load_target(str(kubeconfig))
    assert time.monotonic() - started < 1


def test_a_kubeconfig_the_client_still_chokes_on_is_one_line_too(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"  # the shape passes, the content does not: no such context
    kubeconfig.write_text("apiVersion: v1\nkind: Config\ncurrent-context: nowhere\nclusters: []\ncontexts: []\nusers: []\n")
    code, _, err = run_cli(["cleanup", "--kubeconfig", str(kubeconfig)])
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"kubeconfig {kubeconfig} is unusable" in err
