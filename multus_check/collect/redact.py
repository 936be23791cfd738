"""Redaction at the source: no credential leaves the node or reaches a file multus-check writes.

Why it exists: host files (containerd's config.toml as k3s renders registries.yaml, CNI conflists
with `k8s_auth_token`, kubeconfigs) and API objects (env values, container args, annotations,
ConfigMaps) can carry tokens and passwords. The collector pod prints its facts to a log that is
stored in the cluster, and snapshots are attached to bug reports, so credentials are replaced
where they are first read: in the collector pod (`collect/host.py`, `pod_entry.py`), on this host
(`multus-check node`), and on every API object before anything is written (`collect/live/api.py`).

The structure stays: a key keeps its name and only its value becomes `VALUE_MARKER`, so a check
still sees that a credential is configured and every other field reads as it was. Files that are
credentials as a whole (Multus's `multus.d/` kubeconfig, `*kubeconfig*`, `*token*`) become
`FILE_MARKER`. The rules (docs/SNAPSHOT.md lists them):

- key-based: a key (JSON, YAML, TOML, INI, env, `name`/`value` env pairs, ConfigMap data keys)
  whose name contains, case-insensitive and ignoring `-_.`, one of `SECRET_WORDS`;
- value-based, anywhere: URL user info, `--flag=VALUE` / `--flag VALUE` for the same names, `KEY=VALUE`,
  JWT-shaped strings and PEM blocks.

A value under a secret name that is an absolute path, where the name says it is a file, path or dir
(`--token-file=/etc/...`), is kept: a path is not a credential; so is a name ending in `name`
(`secretName: multus-token` names an object). Booleans, null and empty strings are
kept (`automountServiceAccountToken: false` hides nothing). Redaction is idempotent.

Standard library only: this module is shipped to the collector pod in a ConfigMap (bundle.py). It
touches nothing; every function returns a new value.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: what a redacted value becomes (the key stays)
VALUE_MARKER = "<redacted by multus-check>"
#: what a file that is a credential as a whole becomes (equal to snapshot.data.REDACTED_MARKER)
FILE_MARKER = "# multus-check: REDACTED (file present on the host; credentials never leave the node)\n"
SECRET_WORDS = ("token", "auth", "password", "passwd", "secret", "credential", "apikey", "private", "bearer",
                "certdata", "keydata", "certificatedata")
_PATH_WORDS = ("file", "path", "dir")

#: cheap pre-filter: a string that matches none of these needs no work
_HINT = r"tok|auth|pass|secret|credential|api[-_.]?key|private|bearer|cert|key[-_.]?data"
_MAYBE = re.compile(_HINT + r"|://|eyJ|-----BEGIN", re.IGNORECASE)
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(?:.*?-----END \1-----|.*)", re.DOTALL)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^/\s@\"'<>]+)@")
_KEY = r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'|[A-Za-z0-9_./][A-Za-z0-9_.\-/]*"
_QUOTED = r"\"(?:[^\"\\\n]|\\.)*\"|'[^'\n]*'"
_LINE = re.compile(rf"^(?P<lead>[ \t]*(?:-[ \t]+)?(?:export[ \t]+)?)(?P<key>{_KEY})(?P<sep>[ \t]*[:=][ \t]*)(?P<value>.*)$")
_INLINE_QUOTED = re.compile(rf"(?P<key>{_QUOTED}|(?<![\w.-])[A-Za-z0-9_.\-]+)(?P<sep>[ \t]*[:=][ \t]*)"
                            rf"(?P<value>{_QUOTED}|-?\d+(?:\.\d+)?\b)")
_INLINE_BARE = re.compile(r"(?<![\w.-])(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)=(?P<value>[^\s\"'&;|,)<]+)")
_FLAG = re.compile(rf"(?<![\w-])(?P<flag>--?(?=[A-Za-z0-9_.-]*(?i:{_HINT}))[A-Za-z][A-Za-z0-9_.-]*)(?P<sep>=|[ \t]+)"
                   r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"']+)")
_FLAG_ONLY = re.compile(r"^--?([A-Za-z][A-Za-z0-9_.-]*)$")
_ABS_PATH = re.compile(r"^/[\w.@+/-]*$")
_KEEP_WORDS = frozenset({"true", "false", "null", "none", "~", "yes", "no", "on", "off"})


def secret_name(name: str) -> bool:
    """Does a key, env variable or flag name say its value is a credential? (`secretName` and other
    `...name` keys name an object, they do not hold a credential.)"""
    norm = re.sub(r"[-_.\s]", "", name.lower())
    return not norm.endswith("name") and any(word in norm for word in SECRET_WORDS)


def credential_file(path: str) -> bool:
    """Host files that are a credential as a whole (kubeconfigs, token files)."""
    name = path.rsplit("/", 1)[-1].lower()
    return "/multus.d/" in path or "kubeconfig" in name or "token" in name


def is_redacted(text: str) -> bool:
    """Does a text hold a redaction marker (something in it was redacted)?"""
    return VALUE_MARKER in text or text == FILE_MARKER


def redact_file(path: str, text: str) -> str:
    """A host file's text as it may leave the node."""
    if credential_file(path):
        return FILE_MARKER
    return redact_text(text)


def redact_object(value: Any) -> Any:
    """A copy of a JSON-like value (an API object, a parsed config) with every credential replaced."""
    if isinstance(value, dict):
        return _redact_dict(value)
    if isinstance(value, list):
        return _redact_list(value, None)
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """A string with its credentials replaced: structurally when it is JSON, by the text rules otherwise."""
    if not text or not _MAYBE.search(text):
        return text
    structured = _redact_json_text(text)
    if structured is not None:
        return structured
    text = _PEM.sub(VALUE_MARKER, text)
    text = _JWT.sub(VALUE_MARKER, text)
    text = _USERINFO.sub(lambda m: m.group(1) + (m.group(2) if _marked(m.group(2)) else VALUE_MARKER) + "@", text)
    text = _redact_lines(text)
    text = _INLINE_QUOTED.sub(lambda m: _pair(m, quoted=True), text)
    text = _INLINE_BARE.sub(lambda m: _pair(m, quoted=False), text)
    return _FLAG.sub(_flag, text)


# -- values ------------------------------------------------------------------------------------


def _marked(value: str) -> bool:
    return value.strip("\"'").startswith("<redacted")


def _keep(name: str, value: Any) -> bool:
    """Values a secret-named key may keep: nothing to hide, already redacted, or a path the name calls one."""
    if value is None or isinstance(value, bool) or value == "":
        return True
    if not isinstance(value, str):
        return False
    if _marked(value) or value == FILE_MARKER:
        return True
    norm = name.lower()
    return any(w in norm for w in _PATH_WORDS) and bool(_ABS_PATH.match(value))


def _mask(name: str, value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return _redact_list(value, name) if isinstance(value, list) else _redact_dict(value)
    return value if _keep(name, value) else VALUE_MARKER


def _redact_dict(obj: dict[Any, Any]) -> dict[Any, Any]:
    pair_name = obj.get("name")
    env_pair = isinstance(pair_name, str) and secret_name(pair_name) and not isinstance(obj.get("value"), (dict, list))
    out: dict[Any, Any] = {}
    for key, value in obj.items():
        if env_pair and key == "value":
            out[key] = _mask(str(pair_name), value)
        elif isinstance(key, str) and secret_name(key):
            out[key] = _mask(key, value)
        elif isinstance(value, list):
            out[key] = _redact_list(value, None)
        else:
            out[key] = redact_object(value)
    if obj.get("kind") == "Secret":  # never collected; masked whole if one is ever handed in
        for part in ("data", "stringData"):
            if isinstance(out.get(part), dict):
                out[part] = {k: VALUE_MARKER for k in out[part]}
    return out


def _redact_list(items: list[Any], secret_key: str | None) -> list[Any]:
    """Elements redacted; under a secret key every scalar masked; `--token VALUE` pairs masked."""
    out = [_mask(secret_key, v) if secret_key is not None else redact_object(v) for v in items]
    for i in range(len(out) - 1):
        flag = _FLAG_ONLY.match(out[i]) if isinstance(out[i], str) else None
        nxt = out[i + 1]
        if flag and secret_name(flag.group(1)) and isinstance(nxt, str) and not nxt.startswith("-"):
            out[i + 1] = _mask(flag.group(1), nxt)
    return out


# -- texts ---------------------------------------------------------------------------------------


def _redact_json_text(text: str) -> str | None:
    """JSON text redacted structurally (None when it is not JSON); its layout kept when nothing changed."""
    body = text.strip()
    if not body or body[0] not in "{[":
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    red = redact_object(data)
    if red == data:
        return text
    return _dump_like(red, text)


def _dump_like(data: Any, original: str) -> str:
    body = original.strip()
    lead = original[: len(original) - len(original.lstrip())]
    tail = original[len(original.rstrip()):]
    if "\n" in body:
        second = next((ln for ln in body.splitlines()[1:] if ln.strip()), "  ")
        indent: str | int = "\t" if second.startswith("\t") else max(1, len(second) - len(second.lstrip(" ")))
        dumped = json.dumps(data, indent=indent, ensure_ascii=False)
    else:
        seps = (", ", ": ") if '": ' in body else (",", ":")
        dumped = json.dumps(data, separators=seps, ensure_ascii=False)
    return lead + dumped + tail


def _replacement(value: str) -> str:
    if value[:1] in ("'", '"'):
        return value[0] + VALUE_MARKER + value[0]
    return VALUE_MARKER


def _pair(m: re.Match[str], quoted: bool) -> str:
    key, value = m.group("key").strip("\"'"), m.group("value")
    if not secret_name(key) or _keep(key, value.strip("\"'")) or (not quoted and value.lower() in _KEEP_WORDS):
        return m.group(0)
    return m.group(0)[: m.start("value") - m.start(0)] + _replacement(value)


def _flag(m: re.Match[str]) -> str:
    name, value = m.group("flag").lstrip("-"), m.group("value")
    if not secret_name(name) or (m.group("sep") != "=" and value.startswith("-")) or _keep(name, value.strip("\"'")):
        return m.group(0)
    return m.group("flag") + m.group("sep") + _replacement(value)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _redact_lines(text: str) -> str:
    """`key: value` / `key = value` / `KEY=value` lines (YAML, TOML, INI, env), with YAML block
    scalars, YAML lists under a secret key and TOML multi-line strings."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _LINE.match(lines[i])
        key = m.group("key").strip("\"'") if m else ""
        if m is None or not secret_name(key):
            i += 1
            continue
        value = m.group("value")
        head = m.group("lead") + m.group("key") + m.group("sep")
        i = _redact_value_at(lines, i, head, key, value)
    return "\n".join(lines)


def _redact_value_at(lines: list[str], i: int, head: str, key: str, value: str) -> int:
    """Redact the value that starts on line i; returns the index of the next line to look at."""
    stripped = value.strip()
    if not stripped:
        _yaml_items_under(lines, i)
        return i + 1
    if stripped[0] in "|>":
        return _yaml_block_under(lines, i)
    if stripped.startswith(('"""', "'''")) and stripped[3:].find(stripped[:3]) < 0:
        return _toml_multiline(lines, i, head, stripped[:3])
    if stripped.startswith("["):
        lines[i] = head + re.sub(_QUOTED, lambda q: _replacement(q.group(0)), value)
        return i + 1
    if stripped.startswith("{") or _keep(key, stripped.strip("\"'")) or stripped.lower() in _KEEP_WORDS:
        return i + 1
    quoted = re.match(_QUOTED, value)
    if quoted:
        lines[i] = head + _replacement(quoted.group(0)) + value[quoted.end():]
    else:
        comment = value.find(" #")
        lines[i] = head + VALUE_MARKER + (value[comment:] if comment >= 0 else "")
    return i + 1


def _children(lines: list[str], i: int) -> range:
    """The lines after line i that are indented deeper (blank lines included), as indexes."""
    base, j = _indent(lines[i]), i + 1
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > base):
        j += 1
    return range(i + 1, j)


def _yaml_items_under(lines: list[str], i: int) -> None:
    """`key:` followed by `- scalar` items: each scalar is a credential (mappings keep their own keys)."""
    for j in _children(lines, i):
        item = re.match(r"^([ \t]*-[ \t]+)(.+)$", lines[j])
        if item and not _LINE.match(item.group(2)) and not _marked(item.group(2)):
            lines[j] = item.group(1) + VALUE_MARKER


def _yaml_block_under(lines: list[str], i: int) -> int:
    """`key: |` / `key: >`: the whole block scalar becomes one marker line."""
    block = _children(lines, i)
    content = [j for j in block if lines[j].strip()]
    if content and not all(_marked(lines[j].strip()) for j in content):
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
