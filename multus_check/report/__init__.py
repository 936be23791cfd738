"""Render the canonical results document as table, JSON, JUnit XML or Markdown."""

from __future__ import annotations

from multus_check.report.options import FORMATS
from multus_check.report.results import Results


def render(results: Results, fmt: str, *, verbose: bool = False, color: bool = False, width: int | None = None) -> str:
    results = results.printable()  # no lone surrogate reaches an encoder (results.py)
    if fmt == "json":
        return results.to_json()
    if fmt == "junit":
        from multus_check.report.junit import render_junit

        return render_junit(results)
    if fmt == "markdown":
        from multus_check.report.markdown import render_markdown

        return render_markdown(results, verbose=verbose)
    if fmt == "table":
        from multus_check.report.table import render_table

        return render_table(results, verbose=verbose, color=color, width=width)
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "Results", "render"]
