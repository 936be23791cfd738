"""The node data-path checks, which `multus-check node` (and `lab run`) evaluate by probing.

One check per layer of the path a Multus pod"s net1 takes, in order; when a layer fails, the
layers after it are `skip` (not reached), never `pass`. The verdicts are probes/datapath_verdicts.py;
every piece of metadata (id, title, severity, description) is here, registered with the checks"
decorator family (checks/spec.py).
"""

from __future__ import annotations

from multus_check.checks.spec import active_check
from multus_check.model import Severity

PLUGINS = active_check(
    "datapath.plugins", "the NAD's plugin binaries are in the CNI bin dir", Severity.CRITICAL, "node",
    "Every plugin type the NAD names (main plugin and IPAM) must be an executable in CNI_PATH, else ADD "
    "fails with `failed to find plugin \"X\" in path [...]` (multus-cni.md F1).")

DHCP_DAEMON = active_check(
    "datapath.dhcp-daemon", "the CNI DHCP daemon answers on its socket", Severity.CRITICAL, "node",
    "The dhcp IPAM only forwards to `dhcp daemon` over a unix socket: a missing socket gives `connect: no "
    "such file or directory`, a stale one left by a dead daemon `connect: connection refused` (F3, F4).")

MASTER = active_check(
    "datapath.master", "the macvlan master exists and is up", Severity.CRITICAL, "node",
    "A missing master fails with a bare `Link not found`; a DOWN master only shows as `no more tries` "
    "after ~35 s, so its operstate is checked before the plugin runs (F20, netns-lab.md b2).")

ATTACH = active_check(
    "datapath.attach", "CNI ADD creates the interface in a pod namespace", Severity.HIGH, "node",
    "The node's own plugin is run per the CNI spec on a throwaway namespace; its exact error is reported.")

LEASE = active_check(
    "datapath.lease", "DHCP gives a lease in the master's subnet", Severity.HIGH, "node",
    "The address must come from the LAN's DHCP server (no offer: `no more tries`, F8) and lie in the "
    "subnet of the master NIC (or --lan-subnet).")

ROUTES = active_check(
    "datapath.routes", "the routes the IPAM installed", Severity.MEDIUM, "node",
    "The dhcp IPAM installs a default route via the DHCP router (option 3); in a Multus pod that is a "
    "second default route, prepended before eth0's (flannel-k3s.md §3.3).")

MDNS = active_check(
    "datapath.mdns", "mDNS queries from net1 get multicast answers", Severity.HIGH, "node",
    "PTR _services._dns-sd._udp.local (QM), then the service types found; QU and a legacy-unicast query "
    "tell \"multicast is dropped\" apart from \"nothing answers\" (netns-lab.md §3.2, pitfall 12).")

SSDP = active_check(
    "datapath.ssdp", "an SSDP M-SEARCH from net1 gets answers", Severity.MEDIUM, "node",
    "M-SEARCH ssdp:all to 239.255.255.250:1900; replies are unicast, so an answer also proves the query's "
    "multicast left the node.")

CLEANUP = active_check(
    "datapath.cleanup", "CNI DEL and removal of the throwaway namespace", Severity.LOW, "node",
    "DEL releases the lease; removing the namespace also removes a macvlan link the plugin leaked after "
    "an IPAM failure (netns-lab.md §4).")

#: the layers in the order a pod's attachment goes through them
LAYERS = (PLUGINS, DHCP_DAEMON, MASTER, ATTACH, LEASE, ROUTES, MDNS, SSDP)
