"""The catalog of recognised pod-sandbox and Multus error messages (multus-cni.md §4).

Data, not code: each entry maps a message pattern to its cause, the check that owns that
prerequisite, and the fix. `match` returns the first entry whose pattern is found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownFailure:
    id: str
    pattern: re.Pattern[str]
    cause: str
    check: str
    fix: str


def _k(id: str, pattern: str, cause: str, check: str, fix: str) -> KnownFailure:
    return KnownFailure(id, re.compile(pattern), cause, check, fix)


CATALOG: tuple[KnownFailure, ...] = (
    _k("F19", r"validateIfName: interface name \S+ already exists|ifname \S+ is already exist",
       "nested Multus config (thin v4.0.0-v4.0.2 self-delegation) or a duplicate interface name",
       "multus.nested-delegates", "Upgrade Multus thin to v4.1.0+ and delete the nested 00-multus file."),
    _k("F2", r'failed to find plugin "multus(-shim)?" in path',
       "the Multus binary is not in the bin dir the runtime uses", "multus.installed",
       "Mount the runtime's CNI bin dir as the Multus cnibin hostPath (k3s: /var/lib/rancher/k3s/data/cni)."),
    _k("F1", r'failed to find plugin "[^"]+" in path',
       "a CNI plugin binary (macvlan, dhcp, ...) is missing from the dirs Multus searches", "plugins.present",
       "Install the reference CNI plugins into the bin dir Multus uses."),
    _k("F3", r"error dialing DHCP daemon: dial unix \S+: connect: no such file or directory",
       "no CNI DHCP daemon runs on the node (socket missing)", "dhcp.daemon",
       "Run `dhcp daemon` on every node (DaemonSet with /run/cni and /run/netns mounts)."),
    _k("F4", r"error dialing DHCP daemon: dial unix \S+: connect: connection refused",
       "stale DHCP daemon socket: the daemon died", "dhcp.daemon",
       "`rm -f /run/cni/dhcp.sock` and restart the DHCP daemon."),
    _k("F5", r"listen unix \S*dhcp\.sock: bind: address already in use",
       "the DHCP daemon cannot start: an old socket is in the way (plugins < v1.2.0)", "dhcp.daemon",
       "Remove the socket before starting the daemon (init container `rm -f /host/run/cni/dhcp.sock`)."),
    _k("F6", r'error calling DHCP\.Allocate: failed to Statfs "[^"]*netns',
       "the containerised DHCP daemon cannot see the pod's netns (/run/netns not mounted)", "dhcp.daemon",
       "Mount hostPath /run/netns into the daemon with mountPropagation: HostToContainer."),
    _k("F7", r"error calling DHCP\.Allocate: unknown FS magic",
       "/run/netns mounted into the DHCP daemon without HostToContainer propagation", "dhcp.daemon",
       "Add mountPropagation: HostToContainer to the daemon's /run/netns mount."),
    _k("F8", r"error calling DHCP\.Allocate: no more tries|no DHCP packet received|unable to receive an offer",
       "no DHCP server answered: wrong or down master, Wi-Fi master, hypervisor MAC filtering, or no server on that VLAN",
       "nad.master", "Check the master NIC, allow foreign MACs (promiscuous/forged transmits/MAC spoofing), watch the DHCP "
       "server log for the DISCOVER."),
    _k("F10", r"cannot find a network-attachment-definition \(\S+\) in namespace \(\S+\)",
       "the NAD named in the pod annotation does not exist in that namespace", "nad.config-valid",
       "Create the NAD in the pod's namespace or reference it as <namespace>/<name>."),
    _k("F11", r"namespace isolation enabled, annotation violates permission",
       "Multus --namespace-isolation forbids cross-namespace NADs", "nad.config-valid",
       "Move the NAD or list its namespace in --global-namespaces."),
    _k("F12", r"GetK8sClient: failed to get context for the kubeconfig \S+: stat",
       "the kubeconfig path in the Multus config does not exist (k3s paths)", "multus.kubeconfig",
       "Pass --multus-kubeconfig-file-host=/var/lib/rancher/k3s/agent/etc/cni/net.d/multus.d/multus.kubeconfig."),
    _k("F13", r"error (waiting for|getting) pod: Unauthorized",
       "Multus's kubeconfig token expired (thin without the watch loop)", "multus.installed",
       "Use Multus v4.1.0+ with --cleanup-config-on-exit=true, or restart the Multus pods."),
    _k("F14", r"still waiting for readinessindicatorfile",
       "the readiness indicator file never appeared", "flannel.conf-surfaced",
       "Fix the readinessindicatorfile path (k3s flannel writes /run/flannel/subnet.env) or drop the option."),
    _k("F15", r'unsupported CNI result version "1\.0\.0"',
       "Multus v3 cannot handle k3s's cniVersion 1.0.0 flannel config", "multus.installed", "Use Multus v4."),
    _k("F16", r"Multus cni version is \S+ while master plugin cni version is",
       "--cni-version from a v3 manifest contradicts flannel's cniVersion", "multus.installed",
       "Remove --cni-version from the Multus args."),
    _k("F17", r"cannot find (valid )?master CNI config in|could not find a plugin configuration in",
       "Multus finds no default network config in its conf dir (wrong hostPath on k3s, or no CNI yet)",
       "flannel.conf-surfaced", "Fix the Multus cni hostPath or install flannel first."),
    _k("F20", r"(failed to lookup master \S*: )?Link not found",
       "the macvlan master interface does not exist on this node", "nad.master",
       "Use per-node NADs, rename NICs, or omit master."),
    _k("F21", r"invalid MTU \d+, must be \[0, master MTU",
       "the NAD's mtu exceeds the master's MTU", "nad.config-valid", "Lower or remove mtu in the NAD."),
    _k("F22", r'unknown macvlan mode: "', "invalid macvlan mode in the NAD", "nad.config-valid",
       "Use bridge, private, vepa or passthru."),
    _k("F23", r"failed to create macvlan: ", "the kernel refused the macvlan (master busy or unsupported)",
       "nad.master", "Use one link type (macvlan or ipvlan) per master."),
    _k("F24", r"no IP addresses available in range set",
       "host-local IPAM pool exhausted", "nad.config-valid", "Enlarge the range or switch to dhcp IPAM."),
    _k("F25", r"failed to unmarshal Spec\.Config",
       "the NAD's spec.config is not valid JSON", "nad.config-valid", "Fix the NAD's JSON."),
    _k("F26", r"No networks found in /etc/cni/multus/net\.d", "the NAD has no spec.config",
       "nad.config-valid", "Add spec.config to the NAD."),
    _k("F27", r"cannot create regular file '\S*multus-shim': Text file busy",
       "thick init container copies over a running shim (manifests <= v4.2.2)", "multus.installed",
       "Use the v4.2.3+ thick manifest (install_multus) or `cp -f`."),
    _k("F28", r'exec: "cp": executable file not found|/entrypoint\.sh.*(no such file|not found)',
       "a v3 manifest runs the distroless v4 image", "multus.installed", "Use the v4 manifests."),
    _k("F29", r"failed to add route '\{0\.0\.0\.0 00000000\} via \S+ dev \S+': file exists",
       "CNI plugins < v1.0.0 cannot add a second default route", "plugins.present", "Upgrade the CNI plugins to v1.0.0+."),
    _k("F30", r"multus does not support ECMP for default-route",
       "two default-route gateways requested in the pod annotation", "cidr.service-routing",
       "Request default-route on one network only."),
    _k("F31", r"DHCP option Subnet Mask not found in DHCPACK", "the DHCP server omits the subnet mask",
       "nad.master", "Configure the DHCP server to send option 1."),
)


def match(message: str) -> KnownFailure | None:
    return next((k for k in CATALOG if k.pattern.search(message)), None)
