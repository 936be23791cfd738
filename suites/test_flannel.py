"""Conformance suite: the flannel prerequisites.

Check ids flannel.installed, flannel.k3s-embedded, flannel.conf-surfaced, flannel.network-contains-pod-cidrs.
"""

import pytest

from multus_check.plugin import assert_no_failures


@pytest.mark.check("flannel.installed")
def test_flannel_installed(check_findings):
    assert_no_failures(check_findings)


@pytest.mark.check("flannel.k3s-embedded")
def test_flannel_k3s_embedded(check_findings):
    assert_no_failures(check_findings)


@pytest.mark.check("flannel.conf-surfaced")
def test_flannel_conf_surfaced(check_findings):
    assert_no_failures(check_findings)


@pytest.mark.check("flannel.network-contains-pod-cidrs")
def test_flannel_network_contains_pod_cidrs(check_findings):
    assert_no_failures(check_findings)
