"""The simulated home LAN (`multus-check lab`): namespaces, daemons and faults, on this machine.

Everything it creates lives in network namespaces named mcl-<name>-*; see docs/LAB.md.
"""
