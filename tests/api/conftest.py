"""Fixtures for the API tier: an emulated API server on 127.0.0.1 and a kubeconfig for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from multus_check.kube import Gateway, load_target
from tests.api.emulator import ClusterEmulator
from tests.api.harness import EmulatorHarness
from tests.api.scenario import FAST_RETRIES


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmulatorHarness]:
    with EmulatorHarness(ClusterEmulator(), tmp_path / "kubeconfig") as harness:
        yield harness


@pytest.fixture
def gateway(cluster: EmulatorHarness) -> Iterator[Gateway]:
    gw = Gateway(load_target(str(cluster.kubeconfig)), FAST_RETRIES, timeout=5)
    yield gw
    gw.close()


@pytest.fixture(scope="session")
def recorded_modes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every documented mode, run once per session under its shipped RBAC and recorded (tests/api/modes.py)."""
    from tests.api.modes import SESSIONS, run_session

    root = tmp_path_factory.mktemp("modes")
    return {record.step.name: record for session in SESSIONS for record in run_session(session, root / session.name)}
