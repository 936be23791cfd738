"""Line rules of `collect.redact`: `key: value` / `key = value` / `KEY=value` lines of YAML, TOML, INI
and env text, with what follows such a line when the key is secret-named.

Under a secret-named key, every value goes, whatever its shape: a plain scalar and its
continuation lines (YAML folds more-indented lines into it; INI does too), a YAML block scalar,
a TOML multi-line string, a flow collection (`[a, b]`, `{user: u, key: k}`, a TOML inline table),
and a block mapping or list below it. Keys stay, and so do the values of keys that name a thing
or tag a schema (`username`, `type`), and Kubernetes references (`secretKeyRef:`, a `secret:`
volume with `secretName:`). The same choices as the structural rules of redact.py.

Standard library only (shipped to the collector pod with redact.py); touches nothing.
"""

from __future__ import annotations

import re

from multus_check.collect.redact_names import (
    KEEP_WORDS,
    VALUE_MARKER,
    keep,
    marked,
    marked_after_scheme,
    plain_key,
    reference,
    replacement,
    secret_name,
)

KEY = r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[A-Za-z0-9_./][A-Za-z0-9_.\-/]*"
QUOTED = r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'"
LINE = re.compile(rf"^(?P<lead>[ \t]*(?:-[ \t]+)?(?:export[ \t]+)?)(?P<key>{KEY})(?P<sep>[ \t]*[:=][ \t]*)(?P<value>.*)$")
_ITEM = re.compile(r"^([ \t]*-[ \t]+)(.+)$")
#: a flow collection's pieces: quoted and plain scalars, indicators, key separators (`:` before a blank, TOML `=`)
_FLOW = re.compile(r"(?P<q>\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*')|(?P<p>[\[\]{},])|(?P<sep>:(?=[\s\[\]{},]|$)|=)"
                   r"|(?P<s>(?:[^\s\[\]{},\"'=:]|:(?![\s\[\]{},]|$))(?:[^\[\]{},\n=:]|:(?![\s\[\]{},]|$))*)|\s+")


def redact_lines(text: str) -> str:
    """Every secret-named `key: value` line of a text, with what belongs to its value."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = LINE.match(lines[i])
        key = m.group("key").strip("\"'") if m else ""
        if m is None or not secret_name(key):
            i += 1
            continue
        head = m.group("lead") + m.group("key") + m.group("sep")
        i = _value_at(lines, i, head, key, m.group("value"), len(m.group("lead")))
    return "\n".join(lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _value_at(lines: list[str], i: int, head: str, key: str, value: str, column: int) -> int:
    """Redact the value that starts on line i (its key at `column`); returns the next line to look at."""
    stripped = value.strip()
    if not stripped or stripped.startswith("#"):  # the value is below (a comment may sit in between)
        _mask_below(lines, i, column, key)
        return i + 1
    if stripped[0] in "|>":
        return _block_under(lines, i, column)
    if stripped.startswith(('"""', "'''")) and stripped[3:].find(stripped[:3]) < 0:
        return _toml_multiline(lines, i, head, stripped[:3])
    if stripped[0] in "[{":
        lines[i] = head + mask_flow(value)
        return i + 1
    if keep(key, stripped.strip("\"'")) or stripped.lower() in KEEP_WORDS or marked_after_scheme(stripped):
        return i + 1
    lines[i] = head + _masked_scalar(value)
    if re.match(QUOTED, value):
        return i + 1
    return _mask_continuation(lines, i, column)


def _masked_scalar(value: str) -> str:
    """A one-line value as the marker (in its quotes), a trailing comment kept."""
    quoted = re.match(QUOTED, value)
    if quoted:
        return replacement(quoted.group(0)) + value[quoted.end():]
    comment = value.find(" #")
    return VALUE_MARKER + (value[comment:] if comment >= 0 else "")


def _children(lines: list[str], i: int, column: int) -> range:
    """The lines after line i indented deeper than `column` (blank lines included), as indexes."""
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > column):
        j += 1
    while j > i + 1 and not lines[j - 1].strip():  # trailing blank lines belong to what follows
        j -= 1
    return range(i + 1, j)


def _mask_continuation(lines: list[str], i: int, column: int) -> int:
    """A plain scalar's continuation lines (more indented than its key): each becomes the marker."""
    block = _children(lines, i, column)
    for j in block:
        line = lines[j]
        if line.strip() and not line.lstrip().startswith("#") and not marked(line.strip()):
            lines[j] = line[: _indent(line)] + VALUE_MARKER
    return block.stop


def _mask_below(lines: list[str], i: int, column: int, key: str) -> None:
    """`key:` with its value on the lines below: list items, a mapping, a plain scalar. Every value goes
    but those of plain keys; a reference (`secretKeyRef:`, a `secret:` volume) is left alone."""
    block = _children(lines, i, column)
    direct = [m.group("key").strip("\"'") for j in block if (m := LINE.match(lines[j]))]
    if reference(key, direct):
        return
    for j in block:
        line = lines[j]
        body = line.strip()
        if not body or body.startswith("#") or marked(body):
            continue
        pair = LINE.match(line)
        if pair is not None:
            rest = pair.group("value").strip()
            if plain_key(pair.group("key").strip("\"'")) or not rest or rest[0] in "|>#" or marked_after_scheme(rest) \
                    or rest.lower() in KEEP_WORDS:
                continue
            head = pair.group("lead") + pair.group("key") + pair.group("sep")
            lines[j] = head + (mask_flow(pair.group("value")) if rest[0] in "[{" else _masked_scalar(pair.group("value")))
            continue
        item = _ITEM.match(line)
        lead = item.group(1) if item else line[: _indent(line)]
        lines[j] = lead + (mask_flow(item.group(2)) if item and item.group(2)[0] in "[{" else VALUE_MARKER)


def _block_under(lines: list[str], i: int, column: int) -> int:
    """`key: |` / `key: >`: the whole block scalar becomes one marker line."""
    block = _children(lines, i, column)
    content = [j for j in block if lines[j].strip()]
    if content and not all(marked(lines[j].strip()) for j in content):
        first = lines[content[0]]
        lines[block.start:block.stop] = [first[: _indent(first)] + VALUE_MARKER]
        return block.start + 1
    return block.stop


def _toml_multiline(lines: list[str], i: int, head: str, quote: str) -> int:
    """`key = \"\"\"` ... `\"\"\"`: the whole string becomes one quoted marker."""
    j = i + 1
    while j < len(lines) and quote not in lines[j]:
        j += 1
    rest = lines[j][lines[j].index(quote) + 3:] if j < len(lines) else ""
    lines[i: j + 1] = [head + quote + VALUE_MARKER + quote + rest]
    return i + 1


def mask_flow(value: str) -> str:
    """A flow collection under a secret-named key (`[a, 'b']`, `{user: u, key: k}`, `{ user = "u" }`) with
    every value masked but those of plain keys; keys, indicators and what follows the collection stay."""
    tokens = [(m.lastgroup, m.start(), m.end()) for m in _FLOW.finditer(value)]
    out, pos, stack, key = [], 0, [], ""
    for n, (kind, start, end) in enumerate(tokens):
        if kind == "p":
            piece = value[start]
            if piece in "[{":
                stack.append(piece)
            elif piece in "]}" and stack:
                stack.pop()
                if not stack:
                    break
            key = "" if piece in ",[{" else key
        elif kind in ("q", "s") and stack:
            token = value[start:end].rstrip()
            following = next((t for t in tokens[n + 1:] if t[0] is not None), None)
            if stack[-1] == "{" and following is not None and following[0] == "sep":
                key = token.strip("\"'")
            elif not (plain_key(key) or marked(token) or token.lower() in KEEP_WORDS):
                out.append(value[pos:start] + (replacement(token) if kind == "q" else VALUE_MARKER))
                pos = start + len(token)
    return "".join(out) + value[pos:]
