"""multus-check: diagnose, gate and repair Multus + flannel + macvlan/DHCP clusters.

Importing the package stays cheap (no kubernetes client, no scapy) so that
`multus-check --help` and `--version` answer at once.
"""

__version__ = "0.1.0"
