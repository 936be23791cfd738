"""What counts as a credential for `collect.redact`: the secret names, the markers, the values kept.

Why it exists: the structural rules (`redact.py`, JSON-like values) and the line rules
(`redact_lines.py`, YAML/TOML/INI/env text) must agree on one vocabulary, so it lives here once.
Standard library only (shipped to the collector pod with redact.py); touches nothing.
"""

from __future__ import annotations

import re
from typing import Any

#: what a redacted value becomes (the key stays)
VALUE_MARKER = "<redacted by multus-check>"
#: what a file that is a credential as a whole becomes (equal to snapshot.data.REDACTED_MARKER)
FILE_MARKER = "# multus-check: REDACTED (file present on the host; credentials never leave the node)\n"
#: psk/presharedkey: flannel's ipsec and wireguard `Backend.PSK` (k3s renders it into net-conf.json),
#: WireGuard's `PresharedKey`; pwd: `MYSQL_PWD` and kin (the shell's own PWD is not one, see NOT_SECRET)
SECRET_WORDS = ("token", "auth", "password", "passwd", "passphrase", "secret", "credential", "apikey", "private",
                "bearer", "certdata", "keydata", "certificatedata", "psk", "presharedkey", "cookie", "pwd")
NOT_SECRET = frozenset({"pwd", "oldpwd"})  # the shell's working directories
PATH_WORDS = ("file", "path", "dir")
#: under a secret-named mapping, keys whose values name a thing or tag a schema stay readable
PLAIN_SUFFIXES = ("name", "type", "kind", "apiversion")
#: HTTP authorization schemes: the word stays, the credential after it goes
SCHEMES = ("bearer", "basic", "digest", "token", "negotiate")
#: scalars that hide nothing, under any name
KEEP_WORDS = frozenset({"true", "false", "null", "none", "~", "yes", "no", "on", "off"})

_ABS_PATH = re.compile(r"^/[\w.@+/-]*$")
_SCHEME_THEN_MARKER = re.compile(rf"(?i)(?:(?:{'|'.join(SCHEMES)})[ \t]+)?{re.escape(VALUE_MARKER)}")


def norm(name: str) -> str:
    """A name lower-cased without `-_.` and blanks: `X-Auth-Token` -> `xauthtoken`."""
    return re.sub(r"[-_.\s]", "", name.lower())


def secret_name(name: str) -> bool:
    """Does a key, env variable or flag name say its value is a credential? (`secretName` and other
    `...name` keys name an object, they do not hold a credential.)"""
    n = norm(name)
    return n not in NOT_SECRET and not n.endswith("name") and any(word in n for word in SECRET_WORDS)


def plain_key(name: str) -> bool:
    """A key that names a thing or tags a schema: readable even under a secret-named mapping."""
    return norm(name).endswith(PLAIN_SUFFIXES)


def ends_secret(name: str) -> bool:
    """A secret name ending in its secret word (`X-Auth-Token`, `password`, `PrivateKey`, `cookies`), as
    header and flow-mapping keys do; not `Unauthorized` or `author`, which prose uses mid-line."""
    return secret_name(name) and norm(name).removesuffix("s").endswith((*SECRET_WORDS, "key"))


def reference(name: str, keys: Any) -> bool:
    """A secret-named mapping (with these keys) that refers to a Secret or configures a projected token,
    holding no credential: `secretKeyRef`/`secretRef`/`...Refs`, a Pod's `secret` volume (with its
    `secretName`), a projected `serviceAccountToken`."""
    n, keys = norm(name), set(keys)
    return n.endswith(("ref", "refs")) or (n == "secret" and "secretName" in keys) or (
        n == "serviceaccounttoken" and keys <= {"audience", "expirationSeconds", "path"})


def marked(value: str) -> bool:
    """Is this value (quoted or not) already the marker?"""
    return value.strip("\"'").startswith("<redacted")


def marked_after_scheme(value: str) -> bool:
    """`Bearer <redacted by multus-check>`: a value whose credential is already gone, its scheme kept."""
    return bool(_SCHEME_THEN_MARKER.fullmatch(value.strip().strip("\"'")))


def keep(name: str, value: Any) -> bool:
    """Values a secret-named key may keep: nothing to hide, already redacted, or a path the name calls one."""
    if value is None or isinstance(value, bool) or value == "":
        return True
    if not isinstance(value, str):
        return False
    if marked(value) or value == FILE_MARKER:
        return True
    return any(w in name.lower() for w in PATH_WORDS) and bool(_ABS_PATH.match(value))


def replacement(value: str) -> str:
    """The marker, in the quotes the value had."""
    if value[:1] in ("'", '"'):
        return value[0] + VALUE_MARKER + value[0]
    return VALUE_MARKER
