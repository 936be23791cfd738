"""The catalog of recognised pod-sandbox and Multus error messages (multus-cni.md §4).

Data, not code: each entry maps a message pattern to its cause, the check that owns that
prerequisite, and the fix. `match` returns the first entry whose pattern is found, so more
specific entries come first. Each pattern is anchored on the text that names the cause: a bare
`Link not found` means a missing master only where the plugin's own text starts with it, not
inside `error looking up "net1": Link not found` (DHCP) or `SetDefaultGW: Error getting link`.
F1-F31 are the reference's numbering; F32 on were added from the plugins' and Multus's sources
and checked against the real Debian plugins where the lab can produce them.

`cause_text` cuts the runtime's and Multus's prefixes off a sandbox error, so that what is
shown is the part that names the cause, whole. Pure; touches nothing.
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
    _k("F41", r'(?:error calling DHCP\.Allocate: |failed to set "[^"]+" UP: )address already in use',
       "another pod on this node's master already uses the same static MAC (a rolling update keeps the old pod "
       "while the new one starts)", "e2e.attach",
       "Delete the old pod first: `strategy: type: Recreate` in the Deployment (StatefulSets already replace "
       "pods one at a time), or drop the static MAC."),
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
    _k("F39", r'error calling DHCP\.Allocate: error looking up "[^"]*": Link not found',
       "the DHCP daemon found no such interface in the network namespace it opened (a containerised daemon "
       "resolving the pod's netns path in its own view, or an interface renamed by another plugin)", "dhcp.daemon",
       "Run the DHCP daemon with the host's /run/netns (and /proc, for /proc/<pid>/ns paths) mounted under its "
       "-hostprefix with mountPropagation: HostToContainer, and read its log for the netns it opened."),
    _k("F40", r"SetDefaultGW: Error getting link",
       "Multus cannot find the pod interface named for the `default-route` request in the pod annotation",
       "cidr.service-routing", "Request default-route only on an attachment whose interface exists (check its "
       "\"interface\" name), or drop default-route from the annotation."),
    _k("F20", r'(?:failed to lookup master "[^"]*": |error adding container to network "[^"]*": |AddNetwork: '
       r"|failed \(add\): )Link not found",
       "the NAD's master interface (macvlan, ipvlan) does not exist on this node", "nad.master",
       "Use per-node NADs, rename NICs, or omit master."),
    _k("F21", r"invalid MTU \d+, must be \[0, master MTU",
       "the NAD's mtu exceeds the master's MTU", "nad.master", "Lower or remove mtu in the NAD."),
    _k("F22", r'unknown macvlan mode: "', "invalid macvlan mode in the NAD", "nad.config-valid",
       "Use bridge, private, vepa or passthru."),
    _k("F33", r'unknown ipvlan mode: "', "invalid ipvlan mode in the NAD", "nad.config-valid",
       "Use l2, l3 or l3s (lower case)."),
    _k("F34", r"failed to create ipvlan: device or resource busy",
       "the master already carries macvlan interfaces (or is a bridge/bond port): one master cannot host both "
       "macvlan and ipvlan", "nad.master", "Use one link type (macvlan or ipvlan) per master."),
    _k("F42", r"failed to create ipvlan: operation not supported",
       "the node's kernel has no ipvlan support (module not available)", "nad.master",
       "Load the ipvlan kernel module (`modprobe ipvlan`) or use macvlan."),
    _k("F35", r'"master" field is required\. It specifies the host interface name to create the VLAN for',
       "a vlan NAD without master", "nad.config-valid", "Add \"master\" (the host NIC that carries the VLAN) to the NAD."),
    _k("F32", r"incompatible CNI versions",
       "the config's cniVersion is one the plugin binary does not support (the message lists those it does)",
       "nad.config-valid", "Set cniVersion to one the plugin lists (0.3.1 and 1.0.0 work with plugins >= v1.0.0), "
       "or upgrade the CNI plugins."),
    _k("F36", r"loadFlannelSubnetEnv failed",
       "flanneld has not written /run/flannel/subnet.env on this node (flannel not running there yet, or "
       "crash-looping)", "flannel.installed",
       "Make the flannel pod on that node run: `kubectl -n kube-flannel get pods -o wide` and its logs; "
       "see flannel.installed and flannel.network-contains-pod-cidrs."),
    _k("F37", r"failed to send CNI request: .*?dial unix \S*multus\.sock: connect: "
       r"(?:connection refused|no such file or directory)",
       "the Multus thick daemon is not running on this node (its socket refuses connections or is missing)",
       "multus.installed", "Check the thick daemon pod on that node: `kubectl -n kube-system get pods -l "
       "app=multus -o wide` and its logs."),
    _k("F38", r'pods "[^"]*" is forbidden: User "system:serviceaccount:[^"]*" cannot \w+ resource "pods',
       "Multus's ServiceAccount is not allowed to read or update pods (its ClusterRole lacks the rules of "
       "the release it runs, e.g. update on pods/status)", "multus.installed",
       "Apply the ClusterRole `multus` of the Multus release you run (pods and pods/status: get, list, "
       "update, watch) and check that the ClusterRoleBinding names the ServiceAccount in the message."),
    _k("F23", r"failed to create macvlan: (?:device or resource busy|operation not supported)",
       "the kernel refused the macvlan on its master: the master already carries ipvlan (busy) or is a link type "
       "that cannot host macvlan", "nad.master", "Use one link type (macvlan or ipvlan) per master, on a NIC."),
    _k("F43", r"failed to create macvlan: cannot assign requested address",
       "the MAC requested for net1 (the pod annotation's \"mac\", or the NAD's mac) is a multicast or all-zero "
       "address, which no link may have", "nad.config-valid",
       "Request a unicast MAC: the first octet even, e.g. a locally administered 02:xx:xx:xx:xx:xx."),
    _k("F44", r'failed to (?:create (?:macvlan|ipvlan|vlan)|make veth pair): invalid argument'
       r'|could not add "[^"]*": invalid argument',
       "the kernel refused the new link's settings: an mtu below 68 in the NAD, or a master that cannot carry it "
       "(the loopback device)", "nad.config-valid",
       "Drop \"mtu\" from the NAD or set at least 68 (at most the master's MTU), and name a NIC as master."),
    _k("F45", r"failed to move link invalid argument",
       "host-device names a device the kernel never moves into another namespace (loopback, a bridge, a bond)",
       "nad.master", "Name a physical NIC (or a VF) as the host-device \"device\"."),
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


_LAST_PLUGIN_ERROR = re.compile(r"failed \((?:add|delete|check)\): ")
_THICK_ERRORED = " ERRORED: "
#: wrappers in front of the plugin's own text: Multus's thick shim, its per-pod and
#: per-attachment prefixes (`Multus: [ns/pod/uid]: `, `[ns/pod/uid:net]: `), thick's pod prefix
_WRAPPERS = re.compile(
    r"^(?:CmdAdd \(shim\): |CmdDel \(shim\): |error configuring pod \[[^\]]*\] networking: "
    r"|Multus: (?:\[[^\]]*\]: )?|\[[^\]/]*/[^\]]*\]: )")


def cause_text(message: str) -> str:
    """The part of a pod sandbox error that names the cause: what follows the last
    `failed (add):` (containerd's wrapper), and in Multus thick's answer what follows `ERRORED:`,
    without Multus's own prefixes. Never empty: an unknown shape comes back whole."""
    text = message.strip()
    ends = [m.end() for m in _LAST_PLUGIN_ERROR.finditer(text)]
    if ends:
        text = text[ends[-1]:]
    if _THICK_ERRORED in text:
        text = text.rsplit(_THICK_ERRORED, 1)[1]
        text = re.sub(r"'(?::\s*StdinData:.*)?\s*$", "", text, flags=re.DOTALL)
    while (m := _WRAPPERS.match(text)) is not None and m.end() < len(text):
        text = text[m.end():]
    return text.strip() or message.strip()
