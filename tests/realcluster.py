"""One throwaway real cluster (k3d, else kind) through pytest-kubernetes, shared by the
real-cluster modules (`tests/cluster`, `tests/e2e`) for the whole session: creating one takes
minutes. Where no Docker engine and k3d/kind exist, those modules skip with `REASON`."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def _why_not() -> str | None:
    if shutil.which("docker") is None:
        return "no docker CLI on this machine"
    if subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False).returncode != 0:
        return "no Docker engine is reachable (docker info failed)"
    if shutil.which("k3d") is None and shutil.which("kind") is None:
        return "neither k3d nor kind is installed"
    return None


REASON = _why_not()
needs_real_cluster = pytest.mark.skipif(REASON is not None,
                                        reason=f"real-cluster tests need Docker and k3d/kind: {REASON}")


@contextmanager
def throwaway_cluster(name: str = "multus-check-test") -> Iterator[Path]:
    from pytest_kubernetes.providers import select_provider_manager

    provider: Any = select_provider_manager("k3d" if shutil.which("k3d") else "kind")(name)
    provider.create(timeout=300)
    try:
        yield Path(provider.kubeconfig)
    finally:
        provider.delete()
