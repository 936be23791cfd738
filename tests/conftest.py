"""Shared helpers for the project's own tests."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest

from multus_check.snapshot import Snapshot, load_snapshot

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOTS = ROOT / "fixtures" / "snapshots"
_CACHE: dict[str, Snapshot] = {}


def fixture_snapshot(name: str) -> Snapshot:
    """A fresh copy of an example snapshot (loading is cached, copies are independent)."""
    if name not in _CACHE:
        _CACHE[name] = load_snapshot(SNAPSHOTS / name)
    snap = copy.deepcopy(_CACHE[name])
    snap.invalidate()
    return snap


@pytest.fixture
def healthy() -> Snapshot:
    return fixture_snapshot("healthy-k3s")


@pytest.fixture(scope="session")
def real_cluster() -> Iterator[Path]:
    """The kubeconfig of the session's throwaway real cluster (tests/realcluster.py)."""
    from tests.realcluster import throwaway_cluster

    with throwaway_cluster() as kubeconfig:
        yield kubeconfig


@pytest.fixture(scope="session")
def lab_leak_check() -> Iterator[None]:
    """After the session's last test, no namespace, link, state dir or process of a test lab remains.

    Every lab test requests it (through `lab_fixture`, or `usefixtures`) once it is sure to run, so
    it exists only in sessions where the lab tier really ran, and its check runs when the session
    ends, whatever the order of the test files. A leak fails the session as an error at teardown.
    """
    from tests.lab.conftest import leftovers, root_links

    baseline = root_links()
    yield
    assert leftovers() == {"namespaces": [], "state_dirs": [], "processes": []}
    assert root_links() == baseline, "a test lab left a link in the root network namespace"
