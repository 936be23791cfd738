"""Where a run's files go, and writing them privately and whole: mode 0600, in directories created 0700.

Why it exists: reports and journals describe a cluster (node names, addresses, configs) and may be
kept as CI artifacts on shared machines, so every writer of a report file (results.json, junit.xml,
--output, the fix journal) goes through `write_private`, and every command finds a run's directory
with `report_dir`. A file is written to a temporary name beside its target and renamed over it, so a
crash or a full disk never leaves a truncated report. Directories this module creates are 0700; an
existing directory is the user's and keeps its mode. Standard library only (the lowest floor, beside
model.py); touches only the paths it is given.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from multus_check.paths import unreachable

FILE_MODE = 0o600
DIR_MODE = 0o700
#: where runs keep their report directories unless told otherwise (`reports/<run-id>/`)
REPORTS_ROOT = Path("reports")


def report_dir(explicit: str | None, run_id: str) -> Path:
    """A run's report directory: the one named with --report-dir, else `reports/<run-id>/`."""
    return Path(explicit) if explicit else REPORTS_ROOT / run_id


def make_private_dir(path: Path) -> Path:
    """Create `path` and its missing parents with mode 0700 (whatever the umask); OSError if impossible."""
    missing: list[Path] = []
    here = path
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile by someone else: theirs, left as it is
            directory.mkdir(mode=DIR_MODE)
            os.chmod(directory, DIR_MODE)
    if not path.is_dir():
        raise NotADirectoryError(20, "Not a directory", str(path))
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600, atomically; OSError names what failed.

    A path that exists and is not a regular file (a FIFO, /dev/stdout, a terminal) is written in
    place: renaming over it would replace the device rather than write to it.
    """
    target = Path(os.path.realpath(path))
    if target.exists() and not stat.S_ISREG(target.stat().st_mode):
        with open(target, "w") as fh:
            fh.write(text)
        return
    make_private_dir(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            os.fchmod(fh.fileno(), FILE_MODE)
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def writable_problem(path: Path, *, directory: bool) -> str | None:
    """Why `path` (a directory to write into, or a file to write) could not be written, or None.

    Looks without creating anything: the path itself when it exists, else its nearest existing
    parent. access(2) also reports a read-only file system, for root too.
    """
    if (blocked := unreachable(path)) is not None:
        return blocked
    if path.exists():
        if directory and not path.is_dir():
            return "it exists and is not a directory"
        if not directory and path.is_dir():
            return "it is a directory"
        if directory or not path.is_file():  # a directory, or a device/FIFO written in place
            return _access_reason(path) if not os.access(path, os.W_OK | (os.X_OK if directory else 0)) else None
    here = Path(os.path.realpath(path)).parent if path.exists() else path.absolute().parent
    while not here.exists() and here.parent != here:
        here = here.parent
    if not here.is_dir():
        return f"{here} is not a directory"
    if not os.access(here, os.W_OK | os.X_OK):
        return _access_reason(here)
    return None


def _access_reason(path: Path) -> str:
    try:
        st = os.statvfs(path)
    except OSError:
        return f"{path} is not writable"
    if st.f_flag & os.ST_RDONLY:
        return f"{path} is on a read-only file system"
    return f"permission denied writing in {path}" if path.is_dir() else f"permission denied writing {path}"
