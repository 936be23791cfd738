"""The reference CNI plugins (containernetworking/plugins): the binaries whose config rules
multus-check knows and which the node collector may ask for their version. Standard library
only (the collector pod imports it)."""

REFERENCE_PLUGINS = ("macvlan", "ipvlan", "vlan", "bridge", "host-device", "ptp", "tap", "dummy", "loopback",
                     "tuning", "portmap", "bandwidth", "firewall", "sbr", "vrf", "static", "host-local", "dhcp")
