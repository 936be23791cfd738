"""Ask the node's CNI plugin binaries which version they are and which CNI spec versions they accept.

Why it exists: a NAD whose cniVersion the node's plugin does not know fails every pod with
`incompatible CNI versions`, and only the binary itself can tell (releases differ, and so do
plugins within a release: containernetworking/plugins #668). A reference plugin run without
CNI_COMMAND prints `CNI macvlan plugin v1.6.2` and `CNI protocol versions supported: 0.1.0, ...`
and does nothing else; older ones answer `CNI_COMMAND=VERSION` with JSON instead.

What it touches: it executes only binaries named like a reference plugin (REFERENCE_PLUGINS)
in the listed CNI bin dirs, with an empty environment apart from PATH (and CNI_COMMAND=VERSION
for the fallback), no stdin, a short timeout, and never a shell. Standard library only: it runs
inside the collector pod (collect/live/bundle.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess

from multus_check.domain.refplugins import REFERENCE_PLUGINS
from multus_check.snapshot.data import DirEntry, NodeFacts

TIMEOUT = 3.0
_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
_ABOUT = re.compile(r"^CNI \S+ plugin (.+?)\s*$", re.MULTILINE)
_SUPPORTED = re.compile(r"^CNI protocol versions supported: (.+?)\s*$", re.MULTILINE)


def _run(path: str, name: str, env: dict[str, str]) -> str:
    try:
        out = subprocess.run([name], executable=path, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return ""
    return (out.stdout or "") + "\n" + (out.stderr or "")


def probe(path: str, name: str) -> tuple[str | None, tuple[str, ...] | None]:
    """(version, accepted CNI spec versions) of one plugin binary; None for what it did not say."""
    text = _run(path, name, _ENV)
    about, supported = _ABOUT.search(text), _SUPPORTED.search(text)
    version = about.group(1).removeprefix("version ") if about else None
    if supported:
        return version, tuple(v.strip() for v in supported.group(1).split(",") if v.strip())
    try:
        data = json.loads(_run(path, name, {**_ENV, "CNI_COMMAND": "VERSION"}))
    except ValueError:
        return version, None
    versions = data.get("supportedVersions") if isinstance(data, dict) else None
    if isinstance(versions, list) and all(isinstance(v, str) for v in versions):
        return version, tuple(versions)
    return version, None


def _binary(root: str, dirpath: str, entry: DirEntry) -> str | None:
    """The host file an entry runs, under `root` (absolute symlink targets are re-rooted too)."""
    path = os.path.join(root, dirpath.lstrip("/"), entry.name)
    if entry.type == "symlink" and entry.target:
        base = root if entry.target.startswith("/") else os.path.join(root, dirpath.lstrip("/"))
        path = os.path.join(base, entry.target.lstrip("/"))
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def annotate_plugins(facts: NodeFacts, root: str, bin_dirs: tuple[str, ...]) -> None:
    """Add version and accepted CNI versions to the reference-plugin entries of the listed bin dirs."""
    seen: dict[str, tuple[str | None, tuple[str, ...] | None]] = {}
    for d in bin_dirs:
        entries = facts.dirs.get(d)
        if not entries:
            continue
        out = []
        for entry in entries:
            path = _binary(root, d, entry) if entry.name in REFERENCE_PLUGINS and entry.type in ("file", "symlink") else None
            if path is not None:
                key = f"{os.path.realpath(path)}\0{entry.name}"
                if key not in seen:
                    seen[key] = probe(path, entry.name)
                entry = dataclasses.replace(entry, version=seen[key][0], cni_versions=seen[key][1])
            out.append(entry)
        facts.dirs[d] = out
