"""Entry point of the collector pod: gather this node's facts and print them to the log.

Shipped to the pod in a ConfigMap together with `multus_check.collect.host` (see bundle.py),
and run by a plain python3 with `-S -E`: standard library only, no site-packages. It never
writes to the host (every host mount is read-only) and never prints a credential: every file
passes through `multus_check.collect.redact` before anything is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from typing import Any

BEGIN = "----- multus-check node facts v1 -----"
END = "----- end of multus-check node facts -----"
#: An empty mounted directory this young was made by the runtime for the hostPath mount
#: (DirectoryOrCreate), not found on the host: report it as absent.
CREATED_BY_MOUNT_WINDOW = 300.0
_FALLBACK_MARKER = "# multus-check: REDACTED (file present on the host; credentials never leave the node)\n"


def redact(doc: dict[str, Any]) -> list[str]:
    """Redact every file once more before anything is printed (collect.redact; host.py did it
    already, and redaction is idempotent); returns the paths that hold a redaction.

    Should the redaction code be missing from the bundle, every file becomes the marker: the
    node's facts are then useless, but no credential is printed.
    """
    try:
        from multus_check.collect.redact import is_redacted, redact_file
    except ImportError:
        doc["files"] = {path: _FALLBACK_MARKER for path in doc["files"]}
        return sorted(doc["files"])
    done = []
    for path, text in list(doc["files"].items()):
        doc["files"][path] = redact_file(path, text or "")
        if is_redacted(doc["files"][path]):
            done.append(path)
    return done


def unmask_created_mounts(doc: dict[str, Any], root: str, mounts: list[str], now: float) -> list[str]:
    """Report mounted directories that did not exist on the host (made by the mount) as absent."""
    absent = []
    for path in mounts:
        listing = doc["dirs"].get(path)
        if listing != []:
            continue
        try:
            st = os.stat(os.path.join(root, path.lstrip("/")))
        except OSError:
            continue
        if now - st.st_mtime <= CREATED_BY_MOUNT_WINDOW:
            doc["dirs"][path] = None
            absent.append(path)
    return absent


def _fill_ip_without_iproute2(doc: dict[str, Any], root: str) -> str:
    """Where links and routes came from: `ip -j`, else sysfs/ioctl//proc (collect/netinfo.py)."""
    if doc.get("ip_addr") is not None and doc.get("ip_route") is not None:
        return "ip -j"
    try:
        from multus_check.collect import netinfo
    except ImportError:
        return "none"
    used = []
    for key, part in (("ip_addr", "ip-addr.json"), ("ip_route", "ip-route.json")):
        if doc.get(key) is None:
            try:
                doc[key] = netinfo.ip_addr(os.path.join(root, "sys/class/net")) if key == "ip_addr" else netinfo.ip_route()
            except OSError as exc:
                doc["unreadable"][part] += f"; fallback failed too: {exc}"
                continue
            doc["unreadable"].pop(part, None)
            used.append(key)
    return "sysfs, ioctl and /proc/net/route (no iproute2 in the image): " + ", ".join(used) if used else "none"


def _emit(doc: dict[str, Any]) -> None:
    sys.stdout.write(BEGIN + "\n" + json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n" + END + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="multus-check-collector")
    p.add_argument("--node", required=True)
    p.add_argument("--root", default="/")
    p.add_argument("--mount", action="append", default=[], help="a host path mounted under --root")
    args = p.parse_args(argv)
    started = time.time()
    try:
        from multus_check.collect.host import collect_host_facts, facts_to_dict

        doc = facts_to_dict(collect_host_facts(args.node, root=args.root))
    except Exception as exc:  # reported to the tool through the log, never swallowed
        _emit({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-2000:]})
        return 1
    ip_source = _fill_ip_without_iproute2(doc, args.root)
    doc["collector"] = {
        "ip_source": ip_source,
        "redacted": redact(doc),
        "created_by_mount": unmask_created_mounts(doc, args.root, args.mount, time.time()),
        "seconds": round(time.time() - started, 3),
        "python": sys.version.split()[0],
    }
    _emit(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
