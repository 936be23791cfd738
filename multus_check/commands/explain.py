"""`multus-check explain ID`: what a check verifies, why it matters and how it is fixed."""

from __future__ import annotations

import argparse
import difflib
import sys

from multus_check.checks import registry
from multus_check.domain.known_failures import CATALOG
from multus_check.model import EXIT_OK, EXIT_USAGE
from multus_check.report.output import write_stdout

HELP = "explain what a check verifies and how to fix it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("check_id", metavar="ID", help="a check id, e.g. cidr.service-routing (see --list)")


def _fix_text(fix: str | None) -> str:
    from multus_check.fixes.registry import fix_ids

    if fix is None:
        return "none (the remediation is printed as manual steps)"
    return fix if fix in fix_ids() else f"{fix} (planned; not in this release: follow the remediation)"


def run(args: argparse.Namespace) -> int:
    ids = [s.id for s in registry.all_checks()]
    if args.check_id not in ids:
        close = difflib.get_close_matches(args.check_id, ids, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else " `multus-check --list` shows them all."
        print(f"multus-check: error: no check named {args.check_id!r}.{hint}", file=sys.stderr)
        return EXIT_USAGE
    spec = registry.get(args.check_id)
    lines = [f"{spec.id} — {spec.title}", "",
             f"  area:      {spec.area}", f"  kind:      {spec.kind}", f"  severity:  {spec.severity.value}",
             f"  fix:       {_fix_text(spec.fix)}", ""]
    lines += ["  " + line for line in spec.description.splitlines()]
    related = [k for k in CATALOG if k.check == spec.id]
    if related:
        lines += ["", "  Error messages that point here (events.known-failures):"]
        lines += [f"    {k.id}: /{k.pattern.pattern}/ — {k.cause}" for k in related]
    write_stdout("\n".join(lines) + "\n")
    return EXIT_OK
