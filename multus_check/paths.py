"""Whether this user can tell if a path exists, and if not, why: one line instead of a traceback.

Why it exists: below a directory the user may not enter, `Path.exists()` and `Path.is_file()` raise
PermissionError (a traceback, exit 1), while `os.path.exists()` says False, and "does not exist" is
then a wrong cause. Every command-line path (--snapshot, --kubeconfig, --report-dir, --output,
`snapshot DIR`, `undo`) is looked at through `unreachable` first, and a small text file named on the
command line is read through `read_small_text` (too large, not text, not UTF-8: one line). Reads
metadata and the files it is asked to read; writes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from multus_check.errors import UsageError


def unreachable(path: str | os.PathLike[str], *, follow: bool = True) -> str | None:
    """Why this user cannot look at `path` at all (a directory above it it may not enter, a symlink
    loop, a name too long), or None: then it exists or plainly does not, and Path.exists() answers."""
    try:
        os.stat(path) if follow else os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError:
        return _denied(Path(path))
    except OSError as exc:  # ELOOP, ENAMETOOLONG, EIO
        return f"{path} cannot be looked at: {exc.strerror or exc}"
    except ValueError as exc:  # an embedded NUL
        return f"{path!r} is not a usable path: {exc}"
    return None


def _denied(path: Path) -> str:
    """Name the first directory on the way that this user may not enter."""
    absolute = Path(os.path.abspath(path))
    for parent in reversed(absolute.parents):
        if not os.access(parent, os.X_OK):
            return f"permission denied: this user may not enter {parent} (give it x permission, or run as its owner)"
    return f"permission denied looking up {path}"


def read_small_text(path: str, what: str, limit: int = 1 << 20) -> str:
    """The UTF-8 text of a small file named on the command line; UsageError naming `what` and the cause."""
    if (blocked := unreachable(path)) is not None:
        raise UsageError(f"cannot read {what} {path}: {blocked}")
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise UsageError(f"{what} {path} is larger than {limit} bytes; it should be a small text file")
    if b"\x00" in data:
        raise UsageError(f"{what} {path} is binary data, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
