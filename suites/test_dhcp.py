"""Conformance suite: the dhcp prerequisites (check ids dhcp.daemon)."""

import pytest

from multus_check.plugin import assert_no_failures


@pytest.mark.check("dhcp.daemon")
def test_dhcp_daemon(check_findings):
    assert_no_failures(check_findings)
