"""Conformance suite: the plugins prerequisites (check ids plugins.present)."""

import pytest

from multus_check.plugin import assert_no_failures


@pytest.mark.check("plugins.present")
def test_plugins_present(check_findings):
    assert_no_failures(check_findings)
