"""Runs last in this directory: no namespace, link, state dir or process of a test lab remains."""

from __future__ import annotations

import pytest

from tests.lab.conftest import leftovers, root_links

pytestmark = pytest.mark.lab


def test_no_lab_namespace_process_or_state_dir_remains() -> None:
    assert leftovers() == {"namespaces": [], "state_dirs": [], "processes": []}


def test_no_link_was_added_to_the_root_namespace(root_netns_baseline: set[str]) -> None:
    assert root_links() == root_netns_baseline
