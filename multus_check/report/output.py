"""Where a run's results go: the report directory, --output or stdout, and the exit code they state.

Why it exists: every command that judges findings (the analysis, `node`, `lab run`) ends the same
way, and the exit-code contract must hold on every path of that ending. The number printed in the
report and stored in results.json is the number the process returns. The report always reaches
stdout (or --output): a default report directory that cannot be written is one warning line and
changes nothing else; one named with --report-dir is the user's explicit wish, so it is checked
before any work starts and its failure is exit 2. A reader that closes stdout early (`| head`)
neither costs a traceback nor changes the exit code. Writes only the report files it is asked for,
through `multus_check.files` (0600 files in 0700 directories).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TextIO

from multus_check.errors import UsageError
from multus_check.files import report_dir, writable_problem, write_private
from multus_check.model import EXIT_USAGE
from multus_check.report.options import ReportOptions
from multus_check.report.results import Results

PROG = "multus-check"


def check_destinations(opts: ReportOptions) -> None:
    """UsageError (exit 2) before any work when an explicit --report-dir or --output cannot be written."""
    if opts.report_dir:
        problem = writable_problem(Path(opts.report_dir), directory=True)
        if problem:
            raise UsageError(f"cannot write the report directory {opts.report_dir}: {problem}; "
                             "choose another with --report-dir")
    if opts.output:
        problem = writable_problem(Path(opts.output), directory=False)
        if problem:
            raise UsageError(f"cannot write --output {opts.output}: {problem}")


def emit(results: Results, opts: ReportOptions) -> int:
    """Write results.json + junit.xml to the report dir, print the chosen report, return the exit code."""
    results.fail_on, results.exit_zero = opts.fail_on, opts.exit_zero
    where_to = report_dir(opts.report_dir, results.run_id)
    saved = _save_report_dir(results, where_to, explicit=bool(opts.report_dir))
    if opts.output:
        try:
            write_private(Path(opts.output), _text(results, opts))
        except OSError as exc:
            results.exit_override = EXIT_USAGE
            _say(f"error: cannot write --output {opts.output}: {_reason(exc)}; the report follows on stdout")
            write_stdout(_text(results, opts))
    else:
        write_stdout(_text(results, opts))
    code: int = results.process_exit_code()
    where = f"; reports in {where_to}" if saved else ""
    if opts.format != "table" or opts.output:
        from multus_check.report.common import totals_line

        _say(totals_line(results.summary(), code) + where, prefix=False)
    elif opts.verbose and saved:
        _say(f"reports in {where_to}", prefix=False)
    return code


def _save_report_dir(results: Any, report_dir: Path, *, explicit: bool) -> bool:
    from multus_check.report import render

    try:
        write_private(report_dir / "results.json", results.to_json())
        write_private(report_dir / "junit.xml", render(results, "junit"))
    except OSError as exc:
        if explicit:
            results.exit_override = EXIT_USAGE
            _say(f"error: cannot write the report directory {report_dir}: {_reason(exc)}; choose another with --report-dir")
        else:
            _say(f"warning: results.json and junit.xml were not saved: cannot write {report_dir}: {_reason(exc)} "
                 "(choose a writable place with --report-dir)")
        return False
    return True


def _text(results: Results, opts: ReportOptions) -> str:
    from multus_check.report import render

    color, width = False, None
    if opts.format == "table" and not opts.output:  # a file named with --output is never coloured
        from multus_check.report.table import terminal_style

        color, width = terminal_style(sys.stdout)
    return render(results, opts.format, verbose=opts.verbose > 0, color=color, width=width)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _say(line: str, prefix: bool = True) -> None:
    print(f"{PROG}: {line}" if prefix else line, file=sys.stderr)


def write_stdout(text: str, stream: TextIO | None = None) -> None:
    """Print `text`; a reader that went away (`| head -1`) ends the output quietly.

    Further writes to stdout would fail the same way, and so would the interpreter's flush at exit
    (exit code 120 and a message): stdout is pointed at /dev/null so they go nowhere.
    """
    out = stream or sys.stdout
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        silence_stdout()


def silence_stdout() -> None:
    """Point stdout at /dev/null, at the file descriptor level (what Python's docs advise for SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (captured in tests): nothing to redirect
        pass
    finally:
        os.close(devnull)
