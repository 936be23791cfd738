"""The terminal report: plain where it is logged or piped, coloured and wrapped on a terminal, and
colour decided as rich decides (NO_COLOR, FORCE_COLOR, TERM=dumb), also through the real CLI in a pty."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from multus_check.model import Finding, Severity, Status
from multus_check.report.results import Results
from multus_check.report.table import render_table, terminal_style
from tests.conftest import SNAPSHOTS

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG = ("Node k3s-agent-1, NAD default/macvlan-lan: macvlan master enp3s0 is DOWN: the plugin creates the link but "
        "no frame passes (dhcp fails with `no more tries` after ~35 s).")


def results() -> Results:
    def f(check: str, status: Status, subject: str, message: str, remediation: str = "") -> Finding:
        return Finding(check, status, Severity.CRITICAL, subject, message, remediation=remediation)

    return Results.build([
        f("nad.master", Status.FAIL, "node/k3s-agent-1", LONG, "ip link set enp3s0 up\non node k3s-agent-1"),
        f("nad.master", Status.PASS, "node/k3s-server", "Node k3s-server: master enp3s0 is up."),
        f("dhcp.daemon", Status.ERROR, "node/k3s-agent-2", "The node facts of k3s-agent-2 were not collected."),
        f("nad.crd", Status.PASS, "cluster", "The NetworkAttachmentDefinition CRD is installed."),
    ], run_id="20261201-000000-abcdef", source={"description": "snapshot fixtures/x"}, notes=["snapshot: one note"])


PLAIN = f"""multus-check · run 20261201-000000-abcdef · snapshot fixtures/x

? ERROR dhcp.daemon                          The node facts of k3s-agent-2 were not collected.
✔ PASS  nad.crd                              The NetworkAttachmentDefinition CRD is installed.
✘ FAIL  nad.master                           2 subjects: 1 fail, 1 pass
      ✘ node/k3s-agent-1: {LONG}
      → ip link set enp3s0 up
        on node k3s-agent-1

note: snapshot: one note
3 checks: 1 pass, 1 fail, 1 error (exit code 1)
"""


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_text_is_one_line_per_item_in_the_layout_of_before_rich() -> None:
    assert render_table(results()) == PLAIN


def test_verbose_lists_every_subject_of_a_check_with_several() -> None:
    text = render_table(results(), verbose=True)
    assert "      ✔ node/k3s-server: Node k3s-server: master enp3s0 is up.\n" in text


def test_colour_paints_the_status_column_and_the_markers_and_changes_no_text() -> None:
    text = render_table(results(), color=True)
    assert "\x1b[31m✘ FAIL \x1b[0m nad.master" in text and "\x1b[35m? ERROR\x1b[0m dhcp.daemon" in text
    assert "      \x1b[31m✘\x1b[0m node/k3s-agent-1" in text and "\x1b[32m✔ PASS \x1b[0m nad.crd" in text
    assert ANSI.sub("", text) == PLAIN


def test_on_a_terminal_long_lines_wrap_at_its_width_under_their_own_column() -> None:
    text = render_table(results(), width=72)
    lines = text.splitlines()
    assert all(cell_len(line) <= 72 for line in lines)
    start = lines.index(next(line for line in lines if line.startswith("      ✘ node/k3s-agent-1")))
    wrapped = [lines[start]] + [line for line in lines[start + 1:start + 4] if line.startswith("        ") and "on node" not in line]
    assert len(wrapped) >= 3 and all(line.startswith("        ") and line[8] != " " for line in wrapped[1:])
    assert " ".join(line.strip() for line in wrapped).removeprefix("✘ node/k3s-agent-1: ") == LONG
    column = " " * 45
    assert (f"? ERROR dhcp.daemon                          The node facts of\n{column}k3s-agent-2 were not\n"
            f"{column}collected.\n") in text


@pytest.mark.parametrize("stream, env, expected", [
    (Tty(), {}, (True, 72)),
    (Tty(), {"NO_COLOR": "1"}, (False, 72)),
    (Tty(), {"TERM": "dumb"}, (False, 80)),  # rich takes a dumb terminal as 80 columns
    (io.StringIO(), {}, (False, None)),
    (io.StringIO(), {"FORCE_COLOR": "1"}, (True, None)),
    (io.StringIO(), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, (False, None)),
])
def test_colour_and_wrapping_are_decided_as_rich_decides(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO,
                                                         env: dict[str, str], expected: tuple[bool, int | None]) -> None:
    for key in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLORTERM"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLUMNS", "72")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert terminal_style(stream) == expected


def _cli_in_a_pty(report_dir: Path, *extra_env: tuple[str, str]) -> str:
    """`multus-check --snapshot` with stdout on a pseudo-terminal 70 columns wide: what the terminal got."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "CI")}
    env.update({"TERM": "xterm", "COLUMNS": "70", **dict(extra_env)})
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "multus_check", "--snapshot", str(SNAPSHOTS / "nad-master-broken"),
                             "--report-dir", str(report_dir)], stdout=follower, stderr=subprocess.DEVNULL,
                            env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait(timeout=60) == 1
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_the_cli_colours_and_wraps_on_a_terminal_and_honours_no_color(tmp_path: Path) -> None:
    coloured = _cli_in_a_pty(tmp_path / "colour")
    assert "\x1b[31m✘ FAIL \x1b[0m nad.master" in coloured
    assert all(cell_len(ANSI.sub("", line)) <= 70 for line in coloured.splitlines())
    plain = _cli_in_a_pty(tmp_path / "plain", ("NO_COLOR", "1"))
    assert "\x1b" not in plain and "✘ FAIL  nad.master" in plain
    assert ANSI.sub("", coloured) == plain.replace(plain.splitlines()[0], coloured.splitlines()[0])
