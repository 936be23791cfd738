"""Fixtures for the API tier: an emulated API server on 127.0.0.1 and a kubeconfig for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.emulator import ClusterEmulator
from tests.api.harness import EmulatorHarness


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmulatorHarness]:
    with EmulatorHarness(ClusterEmulator(), tmp_path / "kubeconfig") as harness:
        yield harness
