"""`netns.call_in_netns`: a forked child enters a named namespace through pyroute2's setns.

Lab tier (root, iproute2): the namespaces are real and named with the lab prefix plus `t`, so the
session's leak check (`lab_leak_check`) sees any that would be left. What must hold: the child runs
in the namespace and the caller stays where it was; a namespace that vanished is an error naming it
and is never created again (pyroute2's setns creates a missing namespace by default); a file that is
not a namespace, an exception in the child and a child that overruns its timeout are each one
HostError; no descriptor of the caller leaks and no child is left unreaped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from multus_check.errors import HostError
from multus_check.lab import config
from multus_check.probes import netns
from tests.lab.conftest import TEST_PREFIX

pytestmark = [pytest.mark.lab,
              pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root")]


@pytest.fixture
def space(request: pytest.FixtureRequest) -> Iterator[str]:
    request.getfixturevalue("lab_leak_check")
    name = f"{config.NS_PREFIX}{TEST_PREFIX}netns-{os.getpid()}"
    netns.remove(name)
    netns.create(name)
    try:
        yield name
    finally:
        netns.remove(name)


def _own_netns() -> dict[str, int]:
    st = os.stat("/proc/self/ns/net")
    return {"dev": st.st_dev, "ino": st.st_ino}


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def _children() -> set[str]:
    """This process's children, zombies included (a child stays listed until it is reaped)."""
    out: set[str] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            out |= set((task / "children").read_text().split())
        except OSError:  # the thread ended meanwhile
            continue
    return out


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Every call leaves the caller's descriptors as they were and its child reaped."""
    fds, children = _open_fds(), _children()
    yield
    assert _open_fds() == fds, "a file descriptor leaked"
    assert _children() <= children, "a child process was left (or left unreaped)"


def test_the_function_runs_inside_the_namespace_and_the_caller_stays_where_it_was(space: str) -> None:
    before = _own_netns()
    inside = netns.call_in_netns(space, _own_netns, timeout=10)
    target = os.stat(netns.netns_path(space))
    assert inside == {"dev": target.st_dev, "ino": target.st_ino} != before
    assert _own_netns() == before


def test_a_namespace_that_vanished_is_an_error_naming_it_and_is_not_created_again(space: str) -> None:
    netns.remove(space)
    with pytest.raises(HostError, match=rf"FileNotFoundError: .*No such file or directory: '{netns.netns_path(space)}'"):
        netns.call_in_netns(space, _own_netns, timeout=10)
    assert not netns.exists(space)


def test_a_file_that_is_not_a_namespace_is_refused_by_setns_naming_it(space: str) -> None:
    fake = Path(netns.NETNS_DIR) / f"{space}-plain"
    fake.write_text("")
    try:
        with pytest.raises(HostError, match=rf"OSError: \[Errno 22\] setns\({fake}\): Invalid argument"):
            netns.call_in_netns(fake.name, _own_netns, timeout=10)
    finally:
        fake.unlink()


def test_an_exception_in_the_child_comes_back_as_one_host_error(space: str) -> None:
    def boom() -> dict[str, int]:
        raise ValueError("the probe broke")

    with pytest.raises(HostError, match=r"^ValueError: the probe broke$"):
        netns.call_in_netns(space, boom, timeout=10)


def test_a_child_that_overruns_its_timeout_is_killed_and_reaped(space: str) -> None:
    def hang() -> dict[str, int]:
        time.sleep(30)
        return {}

    started = time.monotonic()
    with pytest.raises(HostError, match=r"did not finish within 1 s; killed"):
        netns.call_in_netns(space, hang, timeout=1)
    assert time.monotonic() - started < 5
