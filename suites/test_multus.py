"""Conformance suite: the multus prerequisites (check ids multus.installed, multus.conf-first, multus.nested-delegates, multus.kubeconfig)."""

import pytest

from multus_check.plugin import assert_no_failures


@pytest.mark.check("multus.installed")
def test_multus_installed(check_findings):
    assert_no_failures(check_findings)


@pytest.mark.check("multus.conf-first")
def test_multus_conf_first(check_findings):
    assert_no_failures(check_findings)


@pytest.mark.check("multus.nested-delegates")
def test_multus_nested_delegates(check_findings):
    assert_no_failures(check_findings)


@pytest.mark.check("multus.kubeconfig")
def test_multus_kubeconfig(check_findings):
    assert_no_failures(check_findings)
