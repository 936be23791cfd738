"""Progress on stderr: a rich live display on a terminal, plain milestone lines in CI and pipes.

The terminal tests draw on a rich Console that claims to be a terminal and read the result back
through a tiny screen (tests/screen.py): what matters is what a person sees while a phase runs and
what is left on the screen afterwards.
"""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
from rich.console import Console

from multus_check.collect.live import progress as progress_module
from multus_check.collect.live.progress import Progress, on_terminal, spinning
from tests.screen import screen


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def terminal() -> tuple[io.StringIO, Progress]:
    out = io.StringIO()
    return out, Progress(out, interactive=True, console=Console(file=out, force_terminal=True, width=100, color_system=None))


@pytest.fixture
def root_handler() -> Iterator[logging.StreamHandler[io.StringIO]]:
    """A root logger handler as `logging.basicConfig` makes one (it holds the stream it was given)."""
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def test_the_screen_helper_reads_live_output_as_a_terminal_shows_it() -> None:
    drawn = "\x1b[?25l\r\x1b[2K⠋ working 1/3\r\x1b[2K⠙ working 2/3\r\x1b[2Ksaid\n⠹ working 3/3\n\x1b[?25h\r\x1b[1A\x1b[2K"
    assert screen(drawn) == ["said"]
    assert screen("\x1b[32mok\x1b[0m\nab\rX") == ["ok", "Xb"]


def test_on_a_terminal_the_node_count_is_a_bar_that_leaves_nothing_behind() -> None:
    out, p = terminal()
    p.step("reading API objects")
    p.nodes(1, 3, 0)
    p.nodes(2, 3, 1)
    p.done()
    drawn = out.getvalue()
    bar = next(line for line in drawn.split("\r") if "2/3 nodes, 1 failed" in line)
    assert "multus-check: node facts" in bar and "━" in bar
    assert "reading API objects" in drawn
    assert screen(drawn) == [], "the display is transient"


def test_on_a_terminal_what_is_said_and_logged_stays_above_the_display(
        root_handler: logging.StreamHandler[io.StringIO]) -> None:
    out, p = terminal()
    root_handler.setStream(out)  # logging writes where the display draws, as both share stderr in real life
    p.step("reading API objects")
    logging.getLogger("multus_check.kube").warning("API request failed (connection reset); retrying")
    p.pods(1, 2)
    p.say("e2e: kept for debugging; remove with `multus-check cleanup`")
    p.done("collection finished")
    assert root_handler.stream is out, "the handler writes to its own stream again once the display is gone"
    assert screen(out.getvalue()) == [
        "WARNING multus_check.kube: API request failed (connection reset); retrying",
        "multus-check: e2e: kept for debugging; remove with `multus-check cleanup`",
        "multus-check: collection finished",
    ]


def test_in_ci_and_pipes_phases_are_lines_sample_pods_a_line_each_and_spinners_silent() -> None:
    out = io.StringIO()
    p = Progress(out, interactive=False)
    p.spin("lab demo: coming up")
    p.step("reading API objects")
    p.pods(0, 2)
    p.pods(1, 2)
    p.say("e2e: 2 sample pod(s) created")
    p.done("done")
    assert out.getvalue().splitlines() == [
        "multus-check: reading API objects", "multus-check: e2e: 0/2 sample pods done",
        "multus-check: e2e: 1/2 sample pods done", "multus-check: e2e: 2 sample pod(s) created", "multus-check: done"]


def test_a_disabled_progress_writes_nothing_anywhere() -> None:
    for interactive in (False, True):
        out = io.StringIO()
        p = Progress(out, interactive=interactive, enabled=False)
        p.step("reading API objects")
        p.nodes(1, 2, 0)
        p.pods(1, 2)
        p.done()
        assert out.getvalue() == ""


@pytest.mark.parametrize("env, expected", [
    ({}, True),
    ({"CI": "true"}, False),
    ({"TERM": "dumb"}, False),
])
def test_only_a_terminal_outside_ci_gets_a_live_display(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                       expected: bool) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert on_terminal(Tty()) is expected
    assert on_terminal(io.StringIO()) is False


def test_a_spinner_shows_while_its_block_runs_and_is_gone_after(monkeypatch: pytest.MonkeyPatch) -> None:
    out = Tty()
    monkeypatch.setattr(progress_module, "on_terminal", lambda stream: True)
    monkeypatch.setattr(sys, "stderr", out)
    with spinning("lab demo: coming up"):
        pass
    assert "multus-check: lab demo: coming up" in out.getvalue() and screen(out.getvalue()) == []


def test_progress_without_a_terminal_never_imports_rich() -> None:
    code = ("import sys\nfrom multus_check.collect.live.progress import Progress, spinning\n"
            "p = Progress(interactive=False)\np.step('x')\np.nodes(1, 2, 0)\np.pods(1, 2)\np.done('y')\n"
            "with spinning('z'):\n    pass\nprint('rich' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False" and out.stderr.splitlines() == [
        "multus-check: x", "multus-check: node facts: 1/2 nodes done", "multus-check: e2e: 1/2 sample pods done",
        "multus-check: y"]
