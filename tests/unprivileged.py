"""Run a piece of a test as an unprivileged user, for file modes and read-only places root ignores.

Root reads a mode-000 file and writes into a 0555 directory, so those cases are tried in a forked
child that drops to the `nobody` user (the function and the modules it needs are already in the
parent's memory; nothing is exec'd). Run as a non-root user, the function simply runs here. The
paths it touches must be reachable by `nobody`: `shared_dir` makes such a temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def shared_dir() -> Iterator[Path]:
    """A temporary directory `nobody` may enter (pytest's tmp_path lies under a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix="mcd-unpriv-"))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        for p in [path, *path.rglob("*")]:  # restore modes a test took away, so the removal works
            with contextlib.suppress(OSError):
                if p.is_dir() and not p.is_symlink():
                    os.chmod(p, 0o755)
        shutil.rmtree(path, ignore_errors=True)


def as_unprivileged(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) as the `nobody` user: its result, or the exception it raised, comes back here."""
    if os.geteuid() != 0:
        return fn(*args)
    nobody = pwd.getpwnam("nobody")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges for good, run, report, and leave without cleanup handlers
        code = 0
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            outcome: tuple[str, Any] = ("value", fn(*args))
        except BaseException as exc:
            outcome = ("raised", exc)
        try:
            data = pickle.dumps(outcome)
        except Exception as exc:
            data = pickle.dumps(("raised", RuntimeError(f"unpicklable outcome: {exc!r}")))
            code = 1
        with os.fdopen(write, "wb") as fh:
            fh.write(data)
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "raised":
        raise value
    result: T = value
    return result


def readonly_command(directory: Path, argv: list[str]) -> list[str]:
    """A command line that runs `argv` with `directory` read-only: a private read-only bind mount
    (root, in a mount namespace of its own, so nothing changes outside it), or mode 0555 (others)."""
    if os.geteuid() != 0:
        os.chmod(directory, 0o555)
        return argv
    inner = f'mount --bind -o ro "{directory}" "{directory}" && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner, "sh", *argv]


def can_make_readonly() -> bool:
    if os.geteuid() != 0:
        return True
    return shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "--mount", "true"], capture_output=True, check=False).returncode == 0
