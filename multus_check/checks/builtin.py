"""Imports every built-in check module once, which registers their checks.

The static checks judge a snapshot; `multus_check.probes.checks` only registers the metadata of
the data-path checks that `multus-check node` evaluates by probing (it imports no scapy).
"""

from multus_check.checks import cidr, events, flannel, multus, nad, plugins  # noqa: F401
from multus_check.e2e import checks as _e2e_checks  # noqa: F401
from multus_check.probes import checks as _probe_checks  # noqa: F401
