"""A plan as a person reads it: per fix, what changes and why, as a unified diff of YAML.

Both sides of every diff pass through `collect.redact` first: plans are made on collected (already
redacted) objects, and this keeps a credential off the terminal even for an object read live.
"""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from multus_check.collect.redact import redact_object
from multus_check.fixes.plan import Action, Plan, strip_server_fields


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings (embedded JSON configs) as literal blocks, so a diff shows their lines."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def _yaml(obj: dict[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    text = yaml.dump(redact_object(strip_server_fields(obj)), Dumper=_BlockDumper, sort_keys=False, default_flow_style=False, width=120)
    return text.splitlines(keepends=True)


def render_plan(plans: list[Plan]) -> str:
    if not plans:
        return "Nothing to fix: no failing check has an automatic fix.\n"
    out: list[str] = []
    for plan in plans:
        if plan.manual_only:
            out.append(f"== manual {plan.fix_id}: {plan.summary}  (for {', '.join(sorted(plan.repairs))})\n"
                       "   multus-check changes nothing here: do these steps yourself, then run multus-check again\n")
        else:
            out.append(f"== fix {plan.fix_id}: {plan.summary}  (repairs {', '.join(sorted(plan.repairs))})\n")
        if plan.refused:
            out.append(f"   refused: {plan.refused}\n")
            continue
        if plan.changes:
            out.append(f"   risk: {plan.risk}; reversible: {'yes (multus-check undo RUN_ID)' if plan.reversible else 'no'}\n")
        for n, change in enumerate(plan.changes, start=1):
            verb = ("create (unless it exists)" if change.if_absent else "create") if change.action is Action.CREATE else "change"
            out.append(f"-- step {n}: {verb} {change.ref}\n   why: {change.why}\n")
            diff = difflib.unified_diff(_yaml(change.before), _yaml(change.after),
                                        f"{change.ref} (now)", f"{change.ref} (after the fix)", n=2)
            out.extend(line if line.endswith("\n") else line + "\n" for line in diff)
        for step in plan.manual:
            out.append(f"-- manual step: {step.title}\n   why: {step.why}\n")
            out.extend(_command_lines(cmd) for cmd in step.commands)
        out.extend(f"   note: {note}\n" for note in plan.notes)
    return "".join(out)


def _command_lines(command: str) -> str:
    """A command as a shell prompt line, a comment line without a prompt. Continuation lines are
    printed verbatim at column 0, so a heredoc body and its terminator paste as they are."""
    first, *rest = command.splitlines() or [""]
    head = f"   {first}\n" if first.startswith("#") else f"   $ {first}\n"
    return head + "".join(f"{line}\n" for line in rest)
