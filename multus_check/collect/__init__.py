"""Collectors: the only code that reads a cluster (live/) or a host (host.py) into a Snapshot."""
