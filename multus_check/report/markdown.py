"""Markdown report, for pull-request comments and bug reports."""

from __future__ import annotations

from multus_check.model import Status
from multus_check.report.common import LABEL, SYMBOL, check_line, totals_line
from multus_check.report.results import Results


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def render_markdown(results: Results, *, verbose: bool = False) -> str:
    out = [f"# multus-check report `{results.run_id}`", ""]
    if results.source:
        out += [f"Source: {results.source.get('description') or results.source.get('path') or results.source}", ""]
    out += [f"**{totals_line(results.summary(), results.process_exit_code())}**", "", "| | check | result |", "|---|---|---|"]
    for cid, findings in results.by_check().items():
        st = results.check_status(cid)
        out.append(f"| {SYMBOL[st]} {LABEL[st]} | `{cid}` | {_cell(check_line(findings))} |")
    details = [f for f in results.findings if verbose or f.status not in (Status.PASS, Status.SKIP)]
    if details:
        out += ["", "## Findings", ""]
        for f in details:
            out.append(f"### {SYMBOL[f.status]} `{f.check}` · {f.subject}")
            out += ["", f.message, ""]
            if f.remediation:
                out += ["**Remediation:**", "", "```", f.remediation, "```", ""]
            if f.fix:
                out += [f"Automatic fix: `{f.fix}` (`multus-check --fix`)", ""]
    return "\n".join(out).rstrip() + "\n"
