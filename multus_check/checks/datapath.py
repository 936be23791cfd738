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
    "second default route, prepended before eth0's (flannel-k3s.md §3.3). Its IPv6 twin: an IPv6 default route "
    "net1 learns from an RA (`proto ra`, `accept_ra_defrtr=1`) competes with eth0's in a dual-stack cluster; "
    "the warning names the tuning patch `net.ipv6.conf.IFNAME.accept_ra_defrtr=0`.")

MDNS = active_check(
    "datapath.mdns", "mDNS queries from net1 get multicast answers", Severity.HIGH, "node",
    "PTR _services._dns-sd._udp.local (QM), then the service types found; QU and a legacy-unicast query "
    "tell \"multicast is dropped\" apart from \"nothing answers\" (netns-lab.md §3.2, pitfall 12).")

SSDP = active_check(
    "datapath.ssdp", "an SSDP M-SEARCH from net1 gets answers", Severity.MEDIUM, "node",
    "M-SEARCH ssdp:all to 239.255.255.250:1900; replies are unicast, so an answer also proves the query's "
    "multicast left the node.")

IPV6 = active_check(
    "datapath.ipv6", "net1 has IPv6: a link-local and, when the LAN advertises a prefix, a SLAAC address",
    Severity.HIGH, "node",
    "Matter is IPv6 only. Reads net1's IPv6 sysctls and addresses and sends a Router Solicitation: IPv6 must be "
    "on (`disable_ipv6=1` fails naming the sysctl), the link-local usable, and every prefix an RA advertises for "
    "SLAAC must give an address (else the blocking sysctl is named). Judged by the one IPv6 verdict "
    "(checks/ipv6.py) that e2e.ipv6 uses too (matter-thread-ipv6.md).")

THREAD_ROUTES = active_check(
    "datapath.thread-routes", "the routes Thread border routers advertise (RIO) are installed on net1",
    Severity.HIGH, "node",
    "Thread devices sit behind border routers that announce the mesh prefix as a Route Information Option "
    "(RFC 4191) in their RAs. A fresh pod namespace has `accept_ra_rt_info_max_plen=0`, so the kernel ignores "
    "the route: RIO seen and no route fails naming the sysctl, its value and the NAD's tuning patch. No RIO at "
    "all is no fault of the pod (skip; warn when net1 would ignore one). A route that appears only after the "
    "probe's own Router Solicitation passes with a note: a new pod gets it with the next periodic RA.")

MATTER = active_check(
    "datapath.matter", "Matter devices are discovered over IPv6 mDNS and answer a round trip", Severity.HIGH, "node",
    "PTR queries for `_matter._tcp`, `_matterc._udp` and `_meshcop._udp` on ff02::fb (QM, then QU), then one "
    "unsecured reliable Matter message (test vendor) to a discovered node, which acks it, across the Thread route "
    "when the node is a Thread device. IPv6 mDNS silent while IPv4 mDNS answers fails as \"IPv6 multicast "
    "dropped\" (MLD snooping).")

CLEANUP = active_check(
    "datapath.cleanup", "CNI DEL and removal of the throwaway namespace", Severity.LOW, "node",
    "DEL releases the lease; removing the namespace also removes a macvlan link the plugin leaked after "
    "an IPAM failure (netns-lab.md §4).")

#: the layers in the order a pod's attachment goes through them
LAYERS = (PLUGINS, DHCP_DAEMON, MASTER, ATTACH, LEASE, ROUTES, MDNS, SSDP, IPV6, THREAD_ROUTES, MATTER)
