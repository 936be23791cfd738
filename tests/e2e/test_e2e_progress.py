"""What the e2e phase says on stderr while its sample pods run, without a caller's `notify` (the CLI).

API tier: the sandbox-failure world of tests/e2e/sandbox.py runs one sample pod to its end. In CI
and pipes every step is a line, as before rich; on a terminal the pod count is a transient bar and
only the lines worth keeping stay on the screen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from multus_check.collect.live import progress
from tests.e2e.sandbox import failing_run, not_catalogued
from tests.screen import screen


def test_in_ci_the_sample_pods_are_reported_a_line_per_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failing_run(tmp_path, not_catalogued, notify=None, poll_interval=0.1)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("multus-check: e2e:")]
    assert lines[0].startswith("multus-check: e2e: 1 sample pod(s) created in namespace multus-check (image ")
    assert lines[1:] == ["multus-check: e2e: 0/1 sample pods done", "multus-check: e2e: 1/1 sample pods done"]


def test_on_a_terminal_the_sample_pods_are_a_bar_that_leaves_only_what_was_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "on_terminal", lambda stream: True)
    failing_run(tmp_path, not_catalogued, notify=None, poll_interval=0.1)
    err = capsys.readouterr().err
    assert "multus-check: e2e: sample pods" in err and "1/1 pods" in err
    left = screen(err)
    assert len(left) == 1 and left[0].startswith("multus-check: e2e: 1 sample pod(s) created in namespace multus-check")
