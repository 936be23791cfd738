"""One analysis run: snapshot in, results out, through pytest and the project's plugin.

`multus-check` runs the suites in-process so that every pytest habit works on them too;
the plugin hands back the findings, from which the canonical results document is built.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from multus_check import signals
from multus_check.errors import MultusCheckError
from multus_check.model import new_run_id, now_iso
from multus_check.report.results import Results
from multus_check.snapshot.model import Snapshot


def suites_dir() -> Path:
    """The conformance suites: `suites/` of a source checkout, or the copy in the wheel."""
    import importlib

    suites = importlib.import_module("multus_check.suites")
    return Path(str(suites.__file__)).parent


def analyse(snap: Snapshot, *, include: Iterable[str] = (), exclude: Iterable[str] = (),
            source: dict[str, Any] | None = None, run_id: str | None = None, pytest_args: Iterable[str] = ()) -> Results:
    import pytest

    from multus_check.plugin import SESSION_KEY, CheckSession

    started = now_iso()
    state = CheckSession(snap, include, exclude)

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
    args += [a for p in include for a in ("--check", p)] + [a for p in exclude for a in ("--skip", p)]
    sink = io.StringIO()
    signalled = signals.mark()
    with contextlib.redirect_stdout(sink):
        code = pytest.main(args, plugins=[_Inject()])
    signals.raise_if_signalled_since(signalled)  # pytest catches Ctrl-C and SIGTERM's exception itself
    if int(code) in (2, 3, 4) or (int(code) == 5 and not state.findings and not (include or exclude)):
        raise MultusCheckError(f"the conformance suites did not run (pytest exit {int(code)}):\n{sink.getvalue()[-2000:]}")
    return Results.build(state.findings, checks=state.checks, source=source or {}, run_id=run_id or new_run_id(),
                         started_at=started)
