"""The pytest plugin (entry point `pytest11`): runs the conformance suites in `suites/`.

Each suite test is marked `@pytest.mark.check("<id>")` and asks for the `check_findings`
fixture, which evaluates that check on the session's snapshot during setup: a check that
could not be evaluated is a pytest *error*, one whose subjects all skip is *skipped*, and the
test body asserts that nothing failed. The plugin gathers every finding into the canonical
results document. It is inert for tests that do not use it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from multus_check.model import Finding, Status


class MultusCheckWarning(UserWarning):
    """A check passed with warnings."""


class CheckSession:
    """State of one run: where the snapshot comes from and the findings gathered so far."""

    def __init__(self, snapshot: Any = None, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> None:
        self.snapshot = snapshot
        self.snapshot_dir: str | None = None
        self.include, self.exclude = list(include), list(exclude)
        self.findings: list[Finding] = []
        self.checks: dict[str, str] = {}
        self.load_error: str | None = None

    def get_snapshot(self) -> Any:
        if self.snapshot is None and self.load_error is None:
            from multus_check.errors import SnapshotError
            from multus_check.snapshot import load_snapshot

            if not self.snapshot_dir:
                self.load_error = ("no snapshot: pass --snapshot DIR (or run `multus-check`, which collects the "
                                   "cluster of the current kubeconfig context)")
            else:
                try:
                    self.snapshot = load_snapshot(self.snapshot_dir)
                except SnapshotError as exc:
                    self.load_error = str(exc)
        if self.load_error:
            pytest.exit(f"multus-check: {self.load_error}", returncode=4)
        return self.snapshot

    def evaluate(self, check_id: str) -> list[Finding]:
        from multus_check.checks import registry
        from multus_check.checks.engine import run_check

        spec = registry.get(check_id)
        findings = run_check(spec, self.get_snapshot())
        self.checks[check_id] = spec.title
        self.findings.extend(findings)
        return findings


SESSION_KEY = pytest.StashKey[CheckSession]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("multus-check")
    group.addoption("--snapshot", metavar="DIR", default=None, help="snapshot directory to judge (docs/SNAPSHOT.md)")
    group.addoption("--check", action="append", default=[], metavar="ID",
                    help="run only checks whose id matches (glob, repeatable)")
    group.addoption("--skip", action="append", default=[], metavar="ID", help="skip checks whose id matches (glob)")
    group.addoption("--mc-report-dir", metavar="DIR", default=None,
                    help="write results.json and junit.xml of the multus-check findings here")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "check(id): the multus-check check id this suite test evaluates")
    if SESSION_KEY not in config.stash:
        session = CheckSession(include=config.getoption("check"), exclude=config.getoption("skip"))
        session.snapshot_dir = config.getoption("snapshot")
        config.stash[SESSION_KEY] = session


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from multus_check.checks.registry import matches

    session = config.stash[SESSION_KEY]
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("check")
        cid = str(marker.args[0]) if marker and marker.args else None
        selected = cid is None or ((not session.include or matches(cid, session.include))
                                   and not matches(cid, session.exclude))
        (keep if selected else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def check_findings(request: pytest.FixtureRequest) -> list[Finding]:
    """The findings of the check named by the test's `check` marker, evaluated during setup."""
    marker = request.node.get_closest_marker("check")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{request.node.nodeid} uses check_findings without @pytest.mark.check(<id>)")
    findings = request.config.stash[SESSION_KEY].evaluate(str(marker.args[0]))
    statuses = {f.status for f in findings}
    if Status.FAIL not in statuses and Status.ERROR in statuses:
        errors = [f"{f.subject}: {f.message}" for f in findings if f.status is Status.ERROR]
        raise RuntimeError("could not evaluate: " + " | ".join(errors))
    if statuses == {Status.SKIP}:
        pytest.skip("; ".join(f.message for f in findings))
    return findings


def assert_no_failures(findings: list[Finding]) -> None:
    """Fail the test with every failed finding and its remediation; warn for warnings."""
    failed = [f for f in findings if f.status is Status.FAIL]
    for f in findings:
        if f.status is Status.WARN:
            warnings.warn(f"{f.check} {f.subject}: {f.message}", MultusCheckWarning, stacklevel=2)
    if failed:
        text = "\n".join(f"{f.subject}: {f.message}\n  remediation: {f.remediation}" for f in failed)
        pytest.fail(f"{failed[0].check} failed on {len(failed)} subject(s):\n{text}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(SESSION_KEY, None)
    out = session.config.getoption("mc_report_dir")
    if state is None or not out or not state.findings:
        return
    from multus_check.report.junit import render_junit
    from multus_check.report.results import Results

    results = Results.build(state.findings, checks=state.checks, source={"path": state.snapshot_dir})
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    (target / "results.json").write_text(results.to_json())
    (target / "junit.xml").write_text(render_junit(results))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(SESSION_KEY, None)
    if state is None or not state.findings:
        return
    from multus_check.report.common import totals_line
    from multus_check.report.results import Results

    results = Results.build(state.findings, checks=state.checks)
    terminalreporter.write_sep("=", "multus-check")
    terminalreporter.write_line(totals_line(results.summary(), results.exit_code()))
