"""Conformance suite: the cidr prerequisites (check ids cidr.service-routing, cidr.supernet-safety)."""

import pytest

from multus_check.plugin import assert_no_failures


@pytest.mark.check("cidr.service-routing")
def test_cidr_service_routing(check_findings):
    assert_no_failures(check_findings)


@pytest.mark.check("cidr.supernet-safety")
def test_cidr_supernet_safety(check_findings):
    assert_no_failures(check_findings)
