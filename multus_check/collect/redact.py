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
  whose name contains, case-insensitive and ignoring `-_.`, one of `SECRET_WORDS`. Under such a
  key every value is masked (a mapping's too, nested or in flow style, a plain YAML scalar with
  its continuation lines), except values of keys that name a thing or tag a schema (`..name`,
  `type`, `kind`) and Kubernetes references (`secretKeyRef`, a `secret` volume, a projected
  `serviceAccountToken`), which hold no credential;
- value-based, anywhere: URL user info (up to the last `@` of the authority), `--flag=VALUE` /
  `--flag VALUE` for the same names, `KEY=VALUE`, `Key: value` mid-line (HTTP headers such as
  `X-Auth-Token: ...` in a shell command), `Authorization: <scheme> ...`, `Bearer <token>`,
  `Basic <base64 user:pass>`, `<password>...</password>`, JWT-shaped strings and PEM blocks.

A value under a secret name that is an absolute path, where the name says it is a file, path or dir
(`--token-file=/etc/...`), is kept: a path is not a credential; so is a name ending in `name`
(`secretName: multus-token` names an object). Booleans, null and empty strings are
kept (`automountServiceAccountToken: false` hides nothing). Redaction is idempotent.

The vocabulary (secret names, markers, what is kept) is in `redact_names.py`, the line rules of
YAML/TOML/INI/env text in `redact_lines.py`. Standard library only: these modules are shipped to
the collector pod in a ConfigMap (bundle.py). They touch nothing; every function returns a new value.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from multus_check.collect.redact_lines import QUOTED, redact_lines
from multus_check.collect.redact_names import (
    FILE_MARKER,
    KEEP_WORDS,
    SCHEMES,
    SECRET_WORDS,
    VALUE_MARKER,
    ends_secret,
    keep,
    marked,
    plain_key,
    reference,
    replacement,
    secret_name,
)

__all__ = ["FILE_MARKER", "SECRET_WORDS", "VALUE_MARKER", "credential_file", "is_redacted", "redact_file",
           "redact_object", "redact_text", "secret_name"]

#: cheap pre-filter: a string that matches none of these needs no work
_HINT = r"tok|auth|pass|secret|credential|api[-_.]?key|private|bearer|cert|key[-_.]?data|psk|preshared|cookie|pwd"
_MAYBE = re.compile(_HINT + r"|://|eyJ|-----BEGIN", re.IGNORECASE)
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(?:.*?-----END \1-----|.*)", re.DOTALL)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
#: the user info runs to the last `@` of the authority (`https://bot:pa@ss@host/`: all of `bot:pa@ss`)
_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)([^/?#\s\"'<>]+)@")
#: `Authorization: Bearer X`, `--header=Authorization: Basic X`, `Proxy-Authorization Basic X`
_AUTHORIZATION = re.compile(
    r"(?i)(?P<head>\b(?:proxy-)?authorization[\"']?(?:[ \t]*[:=][ \t]*[\"']?[ \t]*"
    r"|[ \t]+(?=(?:bearer|basic|digest|negotiate)[ \t])))(?P<scheme>(?:bearer|basic|digest|token|negotiate)[ \t]+)?"
    r"(?P<value>[^\s\"',;]+)")
#: `Bearer <token>` / `Basic <base64>` anywhere (see _bearer for what counts as the credential)
_BEARER = re.compile(r"(?i)(?<![\w-])(?P<scheme>bearer|basic)[ \t]+(?P<value>[A-Za-z0-9._~+/-]{8,}=*)(?![\w.~+/=-])")
_XML = re.compile(r"<(?P<tag>[A-Za-z][\w.-]*)>(?P<value>[^<]+)</(?P=tag)>")
_INLINE_QUOTED = re.compile(rf"(?P<key>{QUOTED}|(?<![\w.-])[A-Za-z0-9_.\-]+)(?P<sep>[ \t]*[:=][ \t]*)"
                            rf"(?P<value>{QUOTED}|-?\d+(?:\.\d+)?\b)")
#: `Key: value` (or `key = value`) mid-line: an HTTP header in a shell command, a YAML flow mapping
_INLINE_COLON = re.compile(r"(?<![\w.-])(?P<key>[A-Za-z_][\w.-]*)(?P<sep>:[ \t]+|[ \t]+=[ \t]+)"
                           r"(?P<value>[^\s\"',;)}\]{\[|>][^\s\"',;)}\]]*)")
_INLINE_BARE = re.compile(r"(?<![\w.-])(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)=(?P<value>[^\s\"'&;|,)<]+)")
_FLAG = re.compile(rf"(?<![\w-])(?P<flag>--?(?=[A-Za-z0-9_.-]*(?i:{_HINT}))[A-Za-z][A-Za-z0-9_.-]*)(?P<sep>=|[ \t]+)"
                   r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"']+)")
_FLAG_ONLY = re.compile(r"^--?([A-Za-z][A-Za-z0-9_.-]*)$")


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
    text = _USERINFO.sub(lambda m: m.group(1) + (m.group(2) if marked(m.group(2)) else VALUE_MARKER) + "@", text)
    text = _AUTHORIZATION.sub(_authorization, text)
    text = redact_lines(text)
    text = _INLINE_QUOTED.sub(lambda m: _pair(m, quoted=True), text)
    text = _INLINE_COLON.sub(_colon, text)
    text = _INLINE_BARE.sub(lambda m: _pair(m, quoted=False), text)
    text = _XML.sub(_xml, text)
    text = _BEARER.sub(_bearer, text)
    return _FLAG.sub(_flag, text)


# -- values ------------------------------------------------------------------------------------


def _mask(name: str, value: Any) -> Any:
    """A value under the secret-named key `name`: scalars masked, a mapping masked but for its plain keys."""
    if isinstance(value, dict):
        return _redact_dict(value) if reference(name, value) else _mask_dict(value)
    if isinstance(value, list):
        return _redact_list(value, name)
    return value if keep(name, value) else VALUE_MARKER


def _mask_dict(obj: dict[Any, Any]) -> dict[Any, Any]:
    """A mapping under a secret-named key (`"credentials": {"user": ..., "key": ...}`): every value is
    masked, but those of keys that name a thing or tag a schema (`username`, `type`)."""
    return {k: redact_object(v) if isinstance(k, str) and plain_key(k) and not isinstance(v, (dict, list))
            else _mask(str(k), v) for k, v in obj.items()}


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


def _pair(m: re.Match[str], quoted: bool) -> str:
    key, value = m.group("key").strip("\"'"), m.group("value")
    if not secret_name(key) or keep(key, value.strip("\"'")) or (not quoted and value.lower() in KEEP_WORDS):
        return m.group(0)
    return m.group(0)[: m.start("value") - m.start(0)] + replacement(value)


def _colon(m: re.Match[str]) -> str:
    """`X-Auth-Token: value` mid-line: masked when the key ends in a secret word (not `Unauthorized: ...`)."""
    key, value = m.group("key"), m.group("value")
    if not ends_secret(key) or keep(key, value) or value.lower() in KEEP_WORDS or value.lower() in SCHEMES:
        return m.group(0)
    return key + m.group("sep") + VALUE_MARKER


def _authorization(m: re.Match[str]) -> str:
    """The credential of an Authorization header goes; the header name and its scheme stay."""
    if marked(m.group("value")):
        return m.group(0)
    return m.group("head") + (m.group("scheme") or "") + VALUE_MARKER


def _bearer(m: re.Match[str]) -> str:
    """`Bearer X` where X looks like a token (a digit in it, or 20 characters: not `Bearer authentication`);
    `Basic X` where X is base64 of `user:password`."""
    value = m.group("value")
    if m.group("scheme").lower() == "basic":
        try:
            credential = ":" in base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            credential = False
    else:
        credential = any(c.isdigit() for c in value) or len(value) >= 20
    if not credential:
        return m.group(0)
    return m.group(0)[: m.start("value") - m.start(0)] + VALUE_MARKER  # the scheme and its blank stay


def _xml(m: re.Match[str]) -> str:
    tag = m.group("tag")
    return m.group(0) if not secret_name(tag) or keep(tag, m.group("value")) else f"<{tag}>{VALUE_MARKER}</{tag}>"


def _flag(m: re.Match[str]) -> str:
    name, value = m.group("flag").lstrip("-"), m.group("value")
    if not secret_name(name) or (m.group("sep") != "=" and value.startswith("-")) or keep(name, value.strip("\"'")):
        return m.group(0)
    return m.group("flag") + m.group("sep") + replacement(value)
