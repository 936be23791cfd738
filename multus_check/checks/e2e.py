"""The end-to-end checks, which the sample-pod run evaluates (not the engine).

Their ids are a public contract (ARCHITECTURE.md); every piece of their metadata is here, registered
with the checks' decorator family (checks/spec.py); the verdicts are e2e/pod_verdicts.py. Layers after
a failed one are `skip` ("not reached"), never `pass`.
"""

from __future__ import annotations

from multus_check.checks.spec import active_check
from multus_check.model import Severity

ATTACH = active_check(
    "e2e.attach", "a sample pod using the NAD starts with net1", Severity.CRITICAL, "e2e",
    "A sample pod naming the NAD in `k8s.v1.cni.cncf.io/networks` must reach Running, its "
    "`network-status` annotation must list net1 with an IP and a MAC, and the probe inside the pod must "
    "see that same net1. The annotation alone proves nothing: a failed ADD can leave a stale one "
    "(multus-cni.md §11). The wait for the pod ends at its first FailedCreatePodSandBox event: the "
    "finding shows the part of the message that names the cause (after the last `failed (add):`, without "
    "Multus's prefixes) whole, maps it to the known-failures catalog where it can, and keeps the full "
    "event text in the evidence.")

LEASE = active_check(
    "e2e.lease", "net1's address is a real lease from the LAN", Severity.HIGH, "e2e",
    "net1's IPv4 address must lie in the subnet of the NAD's master NIC on the pod's node (from the node "
    "facts), i.e. it came from the LAN's DHCP server.")

SERVICE_DNS = active_check(
    "e2e.service-dns", "inside the pod, Service traffic leaves via eth0 and cluster DNS resolves", Severity.HIGH, "e2e",
    "Ground truth from the pod's own kernel: the route chosen for the cluster DNS IP and the `kubernetes` "
    "Service IP must leave via eth0, and `kubernetes.default.svc` must resolve. A net1 default route "
    "prepended before eth0's sends Service traffic to the LAN router, past kube-proxy (flannel-k3s.md "
    "§3.3-3.4).")

MDNS = active_check(
    "e2e.mdns", "mDNS queries from the pod's net1 get answers", Severity.HIGH, "e2e",
    "PTR _services._dns-sd._udp.local from net1 (joined to 224.0.0.251, not promiscuous); the report "
    "lists who answered and the service types and instances seen.")

SSDP = active_check(
    "e2e.ssdp", "an SSDP M-SEARCH from the pod's net1 gets answers", Severity.MEDIUM, "e2e",
    "M-SEARCH ssdp:all to 239.255.255.250:1900 from net1; the report lists the responders and devices "
    "(USN, SERVER, LOCATION).")

IPV6 = active_check(
    "e2e.ipv6", "the pod's net1 has IPv6: a link-local and, when the LAN advertises a prefix, a SLAAC address",
    Severity.HIGH, "e2e",
    "The meaning of datapath.ipv6, observed inside the sample pod (probe_ipv6.py: net1's sysctls, addresses, a "
    "Router Solicitation) and judged by the same IPv6 verdict (checks/ipv6.py).")

THREAD_ROUTES = active_check(
    "e2e.thread-routes", "the routes Thread border routers advertise (RIO) are installed on the pod's net1",
    Severity.HIGH, "e2e",
    "The meaning of datapath.thread-routes inside the sample pod: an RIO seen without a route fails naming "
    "`accept_ra_rt_info_max_plen`, its value and the NAD's tuning patch; no RIO at all is skipped (warned when "
    "net1 would ignore one).")

MATTER = active_check(
    "e2e.matter", "from the pod's net1, Matter devices are discovered over IPv6 mDNS and answer a round trip",
    Severity.HIGH, "e2e",
    "The meaning of datapath.matter inside the sample pod: mDNS for `_matter._tcp`/`_matterc._udp`/`_meshcop._udp` "
    "on ff02::fb and a Matter round trip to a discovered node; IPv6 mDNS silent while IPv4 mDNS answers fails as "
    "\"IPv6 multicast dropped\".")

POD_MULTICAST = active_check(
    "e2e.pod-multicast", "sample pods on different nodes hear each other's multicast on net1", Severity.HIGH, "e2e",
    "With one sample pod per node (--all-nodes), each pod joins 224.0.0.251 on net1 with a plain UDP "
    "socket and sends mDNS queries naming itself; the finding is a sender-by-receiver matrix per NAD. A "
    "pair whose listening windows never overlapped (pods started far apart) is 'not measured', never "
    "'missed'. With fewer than two nodes reached it is skipped with the reason.")

#: judged per sample pod (one finding per NAD on a node)
PER_POD_CHECKS = (ATTACH, LEASE, SERVICE_DNS, MDNS, SSDP, IPV6, THREAD_ROUTES, MATTER)
#: every e2e check; e2e.pod-multicast is judged per NAD across the sample pods of several nodes
E2E_CHECKS = (*PER_POD_CHECKS, POD_MULTICAST)
