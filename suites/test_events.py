"""Conformance suite: the events prerequisites (check ids events.known-failures)."""

import pytest

from multus_check.plugin import assert_no_failures


@pytest.mark.check("events.known-failures")
def test_events_known_failures(check_findings):
    assert_no_failures(check_findings)
