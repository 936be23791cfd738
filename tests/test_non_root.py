"""Issue 10 §14: the tests that once assumed root pass or skip cleanly as a non-root user.

As root, pytest runs them again as `nobody`, with an interpreter `nobody` may execute and this
checkout's packages: the node command's API test (which once expected the API error before the
root check) must pass, the lab tier must skip with its reason, and its session leak check must not
run. As another user the same run happens as that user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import ROOT

ONCE_ROOT_ONLY = ["tests/api/test_node_nad.py", "tests/lab", "tests/e2e/test_e2e_lab.py"]


def _as_nobody(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *argv] if os.geteuid() == 0 else argv


def _interpreter() -> str | None:
    """This Python, or the system's of the same version, if the test's user may run it."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, shutil.which(version, path="/usr/local/bin:/usr/bin")):
        if candidate and subprocess.run(_as_nobody([candidate, "-c", "pass"]), capture_output=True,
                                        check=False).returncode == 0:
            return candidate
    return None


@pytest.mark.skipif(os.geteuid() == 0 and shutil.which("runuser") is None, reason="needs runuser to switch user")
def test_the_tests_that_once_assumed_root_pass_or_skip_cleanly_as_a_non_root_user() -> None:
    python = _interpreter()
    if python is None:
        pytest.skip("no Python of this version that the nobody user may execute")
    base = Path("/tmp") / f"mcd-nonroot-{os.getpid()}"
    base.mkdir(mode=0o777)
    os.chmod(base, 0o777)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(base),
           "PYTHONPATH": f"{sysconfig.get_paths()['purelib']}:{ROOT}",
           **{k: v for k, v in os.environ.items() if k.startswith("MULTUS_CHECK_LAB_")}}
    try:
        done = subprocess.run(_as_nobody([python, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                                          f"--basetemp={base / 'tmp'}", f"--rootdir={ROOT}", "-c", str(ROOT / "pyproject.toml"),
                                          *(str(ROOT / p) for p in ONCE_ROOT_ONLY)]),
                              cwd=base, env=env, capture_output=True, text=True, timeout=300, check=False)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    assert " passed" in report and "failed" not in report and " error" not in report, report
    assert "lab needs: root" in report, report
