"""`python -m multus_check` runs the CLI."""

from multus_check.cli import entrypoint

entrypoint()
