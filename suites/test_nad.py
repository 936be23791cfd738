"""Conformance suite: the nad prerequisites (check ids nad.crd, nad.config-valid, nad.master, nad.ipv6-ready)."""

import pytest

from multus_check.plugin import assert_no_failures


@pytest.mark.check("nad.crd")
def test_nad_crd(check_findings):
    assert_no_failures(check_findings)


@pytest.mark.check("nad.config-valid")
def test_nad_config_valid(check_findings):
    assert_no_failures(check_findings)


@pytest.mark.check("nad.master")
def test_nad_master(check_findings):
    assert_no_failures(check_findings)


@pytest.mark.check("nad.ipv6-ready")
def test_nad_ipv6_ready(check_findings):
    assert_no_failures(check_findings)
