"""A fake node file system built from a snapshot's `nodes/<node>/` directory.

`files/` is copied under its host paths; `dirs.json` recreates every listed entry (files,
dirs, symlinks with their targets, sockets: a `live` socket gets a real listener, a stale one
is left bound but closed); `ip-addr.json`/`ip-route.json` go to a side directory that the fake
`ip` command of the fake image prints. The tree lives under a short /tmp path because unix
socket paths are limited to 107 bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class HostTree:
    node: str
    root: Path
    ip_dir: Path
    listeners: list[socket.socket] = field(default_factory=list)

    def close(self) -> None:
        for s in self.listeners:
            s.close()


def _inside(root: Path, host_path: str) -> Path:
    return root / host_path.lstrip("/")


def _make_dirs(path: Path) -> None:
    """mkdir -p that also creates the missing target of a dangling relative symlink on the way."""
    parts = path.parts
    cur = Path(parts[0])
    for part in parts[1:]:
        cur = cur / part
        if cur.is_symlink() and not cur.exists():
            target = (cur.parent / os.readlink(cur)).resolve()
            target.mkdir(parents=True, exist_ok=True)
        elif not cur.exists():
            cur.mkdir()


def build_host_tree(node_dir: Path, base: Path | None = None, k3s: bool = False) -> HostTree:
    node = node_dir.name
    top = Path(tempfile.mkdtemp(prefix="mc", dir=str(base or "/tmp")))
    tree = HostTree(node, top / "r", top / "ip")
    tree.root.mkdir()
    tree.ip_dir.mkdir()
    dirs_file = node_dir / "dirs.json"
    listings = json.loads(dirs_file.read_text()) if dirs_file.exists() else {}
    # A snapshot records only the dirs the collector lists; these exist on every Linux host,
    # and the k3s ones on every k3s node (the collector pod mounts them with type Directory).
    base = ["/sys/class/net", "/sys/devices"]
    if any(p.startswith("/var/lib/rancher/k3s") for p in listings) or k3s:
        base += ["/var/lib/rancher/k3s/agent/etc", "/var/lib/rancher/k3s/data"]
    for path in base:
        _make_dirs(_inside(tree.root, path))
    for host_path in sorted(listings):
        entries = listings[host_path]
        if entries is None:
            continue
        where = _inside(tree.root, host_path)
        _make_dirs(where)
        for entry in entries:
            _make_entry(tree, where / entry["name"], entry)
    files = node_dir / "files"
    if files.exists():
        for src in sorted(p for p in files.rglob("*") if p.is_file()):
            dest = tree.root / src.relative_to(files)
            _make_dirs(dest.parent)
            if dest.is_symlink():
                dest.unlink()
            shutil.copyfile(src, dest)
    for name in ("ip-addr.json", "ip-route.json"):
        if (node_dir / name).exists():
            shutil.copyfile(node_dir / name, tree.ip_dir / name)
    _age(tree.root)
    return tree


def _age(root: Path, seconds: float = 86400) -> None:
    """Backdate every directory: these existed on the host long before any collector ran."""
    old = os.stat(root).st_mtime - seconds
    for dirpath, _, _ in os.walk(root):
        os.utime(dirpath, (old, old))


def _make_entry(tree: HostTree, path: Path, entry: dict[str, object]) -> None:
    if os.path.lexists(path):
        return
    kind = entry.get("type", "file")
    if kind == "dir":
        path.mkdir()
    elif kind == "symlink":
        os.symlink(str(entry.get("target") or "missing"), path)
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        if entry.get("live"):
            sock.listen(64)
            tree.listeners.append(sock)
        else:
            sock.close()  # the file stays: a stale socket nobody listens on
    else:
        path.touch()


FAKE_IP = """#!/bin/sh
# The fake image's `ip`: prints the node's recorded `ip -j` output.
case "$*" in
  *addr*) f="$FAKE_IP_DIR/ip-addr.json" ;;
  *route*) f="$FAKE_IP_DIR/ip-route.json" ;;
  *) echo "ip: unsupported in the fake image: $*" >&2; exit 2 ;;
esac
if [ -f "$f" ]; then cat "$f"; else echo "ip: no such data on this fake host" >&2; exit 1; fi
"""


def fake_image_bin(where: Path) -> Path:
    """A bin dir with the fake `ip` (python3 itself comes from the test's interpreter)."""
    bin_dir = where / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    ip = bin_dir / "ip"
    ip.write_text(FAKE_IP)
    ip.chmod(0o755)
    return bin_dir
