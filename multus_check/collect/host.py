"""Collect this host's node facts (files, dir listings, links, routes) in the snapshot format.

Why it exists: `multus-check node` judges the host it runs on, and the live collector pod
(issue 3) runs the same function inside its pod, so it is standard-library only and runnable
as `python3 -m multus_check.collect.host --node NAME` (prints the facts as JSON).

What it touches: it only reads. It lists the CNI/k3s/flannel dirs and /sys/class/net, copies
the CNI configs (also Multus's confDir) and a few k3s/flannel files, connects to (never writes
to) unix sockets it finds to tell a live daemon from a stale socket, runs `ip -j addr` / `ip -j
route`, and asks the reference CNI plugins in the bin dirs for their versions (collect/cniprobe.py).
Credentials never leave: kubeconfig files (anything under multus.d/ or named *kubeconfig*)
and token files are replaced by REDACTED_MARKER, and every other file passes through
`collect.redact` (secret-named keys, URL user info, secret flags, JWTs and PEM blocks become
the value marker, the rest of the file unchanged). `root` lets tests point it at a fake tree.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from multus_check.collect.cniprobe import annotate_plugins
from multus_check.collect.redact import credential_file, redact_file
from multus_check.snapshot.data import REDACTED_MARKER, DirEntry, NodeFacts

CONF_DIRS = ("/etc/cni/net.d", "/var/lib/rancher/k3s/agent/etc/cni/net.d")
MULTUS_CONF_DIR = "/etc/cni/multus/net.d"  # Multus's confDir: configs of NADs without spec.config
BIN_DIRS = ("/opt/cni/bin", "/var/lib/rancher/k3s/data/cni", "/var/lib/rancher/k3s/data/current/bin", "/usr/lib/cni")
LISTED_DIRS = (
    *CONF_DIRS, *(f"{d}/multus.d" for d in CONF_DIRS), MULTUS_CONF_DIR, *BIN_DIRS,
    "/run/cni", "/run/flannel", "/sys/class/net",
)
COPIED_FILES = (
    "/run/flannel/subnet.env", "/var/lib/rancher/k3s/agent/etc/flannel/net-conf.json",
    "/var/lib/rancher/k3s/agent/etc/containerd/config.toml",
)
CONF_SUFFIXES = (".conf", ".conflist", ".json")
MAX_FILE = 1 << 20


def _host(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _entry(root: str, dirpath: str, name: str) -> DirEntry:
    full = _host(root, f"{dirpath}/{name}")
    mode = os.lstat(full).st_mode
    if stat.S_ISLNK(mode):
        return DirEntry(name, "symlink", target=os.readlink(full))
    if stat.S_ISSOCK(mode):
        return DirEntry(name, "socket", live=_socket_live(full))
    kind = "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"
    return DirEntry(name, kind)


def _socket_live(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2.0)
        try:
            s.connect(path)
        except OSError:
            return False
    return True


def list_dir(root: str, path: str) -> list[DirEntry] | None:
    """The entries of a host dir, sorted by name; None when it does not exist. OSError if unreadable."""
    full = _host(root, path)
    if not os.path.lexists(full):
        return None
    names = sorted(os.listdir(full))
    out = []
    for name in names:
        try:
            out.append(_entry(root, path, name))
        except FileNotFoundError:
            continue  # vanished while listing
    return out


def read_file(root: str, path: str) -> str | None:
    """A host file's text with its credentials redacted (REDACTED_MARKER for a credential file);
    None when absent. OSError if unreadable."""
    full = _host(root, path)
    if not os.path.isfile(full):
        return None
    if credential_file(path):
        return REDACTED_MARKER
    with open(full, "rb") as f:
        data = f.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise OSError(f"{path} is larger than {MAX_FILE} bytes")
    return redact_file(path, data.decode("utf-8", errors="replace"))


def _collect_dirs(facts: NodeFacts, root: str) -> None:
    paths = list(LISTED_DIRS)
    try:
        ifaces = [e.name for e in list_dir(root, "/sys/class/net") or []]
    except OSError:
        ifaces = []
    paths += [f"/sys/class/net/{i}" for i in ifaces]
    for path in paths:
        try:
            facts.dirs[path] = list_dir(root, path)
        except OSError as exc:
            facts.unreadable[path] = exc.strerror or str(exc)
    for name in ifaces:
        _copy(facts, root, f"/sys/class/net/{name}/uevent")
    annotate_plugins(facts, root, BIN_DIRS)


def _copy(facts: NodeFacts, root: str, path: str) -> None:
    try:
        text = read_file(root, path)
    except OSError as exc:
        facts.unreadable[path] = exc.strerror or str(exc)
        return
    if text is not None:
        facts.files[path] = text


def _collect_files(facts: NodeFacts, root: str) -> None:
    for conf_dir in CONF_DIRS:
        for sub in (conf_dir, f"{conf_dir}/multus.d"):
            for entry in facts.dirs.get(sub) or []:
                if entry.type in ("file", "symlink") and (sub.endswith("multus.d") or entry.name.endswith(CONF_SUFFIXES)
                                                          or credential_file(entry.name)):
                    _copy(facts, root, f"{sub}/{entry.name}")
    for entry in facts.dirs.get(MULTUS_CONF_DIR) or []:
        if entry.type in ("file", "symlink") and entry.name.endswith(CONF_SUFFIXES):
            _copy(facts, root, f"{MULTUS_CONF_DIR}/{entry.name}")
    for path in COPIED_FILES:
        _copy(facts, root, path)


def _ip_json(args: Sequence[str], netns: str | None) -> list[dict[str, Any]]:
    argv = ["ip", *(["-n", netns] if netns else []), "-j", *args]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    if out.returncode != 0:
        raise OSError(out.stderr.strip() or f"{' '.join(argv)} exited {out.returncode}")
    data = json.loads(out.stdout or "[]")
    if not isinstance(data, list):
        raise OSError(f"{' '.join(argv)} printed no JSON list")
    return data


def collect_host_facts(node_name: str, root: str = "/", netns: str | None = None) -> NodeFacts:
    """This host's node facts; `netns` reads links/routes of a named namespace (the lab's node)."""
    facts = NodeFacts(node_name)
    _collect_dirs(facts, root)
    _collect_files(facts, root)
    for attr, args, key in (("ip_addr", ["addr", "show"], "ip-addr.json"), ("ip_route", ["route", "show"], "ip-route.json")):
        try:
            setattr(facts, attr, _ip_json(args, netns))
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            facts.unreadable[key] = str(exc)
    return facts


def facts_to_dict(facts: NodeFacts) -> dict[str, Any]:
    """The JSON form the collector pod prints (the same keys as a snapshot's node dir)."""
    return {"name": facts.name, "files": facts.files,
            "dirs": {p: None if e is None else [x.to_dict() for x in e] for p, e in sorted(facts.dirs.items())},
            "ip_addr": facts.ip_addr, "ip_route": facts.ip_route, "unreadable": facts.unreadable}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Print this host's multus-check node facts as JSON.")
    ap.add_argument("--node", required=True, help="the node name to record")
    ap.add_argument("--root", default="/", help="where the host's file system is mounted (default /)")
    a = ap.parse_args(argv)
    json.dump(facts_to_dict(collect_host_facts(a.node, a.root)), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
