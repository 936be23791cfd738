"""The static checks through pytest: the conformance suites run in-process with the project's plugin.

`multus-check` runs the suites in-process so that every pytest habit works on them too; the plugin
evaluates each check with the one engine (checks/engine.py) and hands back the findings and titles
(`Verdicts`), from which the pipeline builds the run's one results document. Touches nothing but
pytest's in-process session (its output is captured).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multus_check import signals
from multus_check.checks.spec import EVERY_CHECK, Selection
from multus_check.errors import MultusCheckError
from multus_check.model import Finding, new_run_id, now_iso
from multus_check.report.results import Results
from multus_check.snapshot.data import Snapshot


@dataclass
class Verdicts:
    """What the static checks said: their findings, the title of every check that ran, and when they started."""

    findings: list[Finding]
    titles: dict[str, str]
    started_at: str


def suites_dir() -> Path:
    """The conformance suites: `suites/` of a source checkout, or the copy in the wheel."""
    import importlib

    suites = importlib.import_module("multus_check.suites")
    return Path(str(suites.__file__)).parent


def judge(snap: Snapshot, selection: Selection = EVERY_CHECK, pytest_args: Iterable[str] = ()) -> Verdicts:
    """Every selected static check on `snap`, one pytest test each (suites/); raises on a suite that did not run."""
    import pytest

    from multus_check.plugin import SESSION_KEY, CheckSession

    started = now_iso()
    state = CheckSession(snap, selection.include, selection.exclude)

    class _Inject:
        @pytest.hookimpl(tryfirst=True)
        def pytest_configure(self, config: pytest.Config) -> None:
            config.stash[SESSION_KEY] = state

    where = suites_dir()
    # Third-party pytest plugins are not needed to judge a snapshot and cost seconds to import.
    args = [str(where), "-q", "--disable-plugin-autoload", "-p", "multus_check.plugin", "-p", "no:cacheprovider",
            "--import-mode=importlib", f"--rootdir={where}",
            "-c", os.devnull, "-W", "ignore::UserWarning", *pytest_args]
    if logging.getLogger().isEnabledFor(logging.DEBUG):  # -vv: let the checks' debug logs reach stderr
        args += ["-p", "no:logging", "--capture=no"]
    args += [a for p in selection.include for a in ("--check", p)] + [a for p in selection.exclude for a in ("--skip", p)]
    sink = io.StringIO()
    signalled = signals.mark()
    with contextlib.redirect_stdout(sink):
        code = pytest.main(args, plugins=[_Inject()])
    signals.raise_if_signalled_since(signalled)  # pytest catches Ctrl-C and SIGTERM's exception itself
    if int(code) in (2, 3, 4) or (int(code) == 5 and not state.findings and not selection.narrowed):
        raise MultusCheckError(f"the conformance suites did not run (pytest exit {int(code)}):\n{sink.getvalue()[-2000:]}")
    return Verdicts(state.findings, state.checks, started)


def analyse(snap: Snapshot, *, include: Iterable[str] = (), exclude: Iterable[str] = (),
            source: dict[str, Any] | None = None, run_id: str | None = None, pytest_args: Iterable[str] = ()) -> Results:
    """The static checks through pytest, as a results document (a run without the e2e phase)."""
    verdicts = judge(snap, Selection(tuple(include), tuple(exclude)), pytest_args)
    return Results.build(verdicts.findings, checks=verdicts.titles, source=source or {}, run_id=run_id or new_run_id(),
                         started_at=verdicts.started_at)
