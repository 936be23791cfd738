"""Prints what the differential test saw (plugin version, agreements, time) after the run."""

from __future__ import annotations

from typing import Any

#: lines the lab-tier differential test leaves for the terminal summary
SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SUMMARY:
        terminalreporter.section("NAD corpus vs the real CNI plugins")
        for line in SUMMARY:
            terminalreporter.write_line(line)
