"""Imports every built-in check module once, which registers their checks."""

from multus_check.checks import cidr, events, flannel, multus, nad, plugins  # noqa: F401
