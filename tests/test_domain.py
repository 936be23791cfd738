"""Domain rules checked against the facts in ../shared/docs/reference/."""

from __future__ import annotations

import json

import pytest

from multus_check.checks.spec import DuplicateCheckError, check
from multus_check.domain import k3s
from multus_check.domain.cniconf import parse_multus_config, plugin_types
from multus_check.domain.ipnet import parse_net, supernet, waste
from multus_check.domain.known_failures import CATALOG, cause_text, match
from multus_check.model import Severity


@pytest.mark.parametrize("parts, expected, extra", [
    (["10.42.0.0/16", "10.43.0.0/16"], "10.42.0.0/15", 0),          # k3s defaults: aligned siblings
    (["10.42.0.0/16", "10.96.0.0/12"], "10.0.0.0/9", 7_274_496),     # flannel-k3s.md §6 computed example
    (["10.244.0.0/16", "10.96.0.0/12"], "10.0.0.0/8", None),
])
def test_supernet_and_waste_match_the_reference_examples(parts: list[str], expected: str, extra: int | None) -> None:
    nets = [parse_net(p) for p in parts]
    sup = supernet(nets)
    assert str(sup) == expected
    left = sum(n.num_addresses for n in waste(sup, nets))
    if extra is not None:
        assert left == extra


def test_k3s_node_args_parse_pairs_equals_and_boolean_flags() -> None:
    role, flags = k3s.parse_node_args(json.dumps(
        ["server", "--flannel-backend", "none", "--disable-network-policy", "true", "--cluster-cidr=10.50.0.0/16", "--debug"]))
    assert role == "server"
    assert flags == {"--flannel-backend": "none", "--disable-network-policy": "true",
                     "--cluster-cidr": "10.50.0.0/16", "--debug": "true"}
    assert k3s.parse_node_args("not json") == ("", {})


K3S_NESTED = {  # multus-cni.md §2.4, k3s shape after one restart of thin v4.0.2
    "cniVersion": "1.0.0", "name": "multus-cni-network", "plugins": [{
        "type": "multus", "capabilities": {"bandwidth": True, "portMappings": True},
        "kubeconfig": "/etc/cni/net.d/multus.d/multus.kubeconfig",
        "delegates": [{"cniVersion": "1.0.0", "name": "multus-cni-network", "plugins": [{
            "capabilities": {"bandwidth": True, "portMappings": True},
            "delegates": [{"cniVersion": "1.0.0", "name": "cbr0", "plugins": [{"type": "flannel"}]}],
            "kubeconfig": "/etc/cni/net.d/multus.d/multus.kubeconfig", "type": "multus"}]}]}]}
CILIUM_NESTED = {"cniVersion": "0.3.1", "name": "multus-cni-network", "type": "multus", "delegates": [
    {"cniVersion": "0.3.1", "delegates": [{"cniVersion": "0.3.1", "name": "cilium", "type": "cilium-cni"}],
     "kubeconfig": "/etc/cni/net.d/multus.d/multus.kubeconfig", "name": "multus-cni-network", "type": "multus"}]}


@pytest.mark.parametrize("conf, depth", [(K3S_NESTED, 1), (CILIUM_NESTED, 1)])
def test_nesting_is_detected_in_the_reported_shapes(conf: dict[str, object], depth: int) -> None:
    assert parse_multus_config(json.dumps(conf), "00-multus").nesting_depth == depth


def test_a_healthy_thick_config_is_not_nested() -> None:
    thick = {"capabilities": {"portMappings": True}, "cniVersion": "0.3.1", "name": "multus-cni-network",
             "clusterNetwork": "/host/etc/cni/net.d/10-flannel.conflist", "type": "multus-shim"}
    conf = parse_multus_config(json.dumps(thick), "00-multus.conf")
    assert conf.mode == "thick" and conf.nesting_depth == 0 and conf.cluster_network.endswith("10-flannel.conflist")


def test_plugin_types_include_ipam_and_chained_plugins() -> None:
    conf = {"cniVersion": "1.0.0", "plugins": [{"type": "macvlan", "ipam": {"type": "dhcp"}}, {"type": "tuning"}]}
    assert plugin_types(conf) == ["macvlan", "dhcp", "tuning"]


EXAMPLES = {  # exact messages from multus-cni.md §4 and netns-lab.md §4
    "F1": 'failed to find plugin "macvlan" in path [/opt/cni/bin /opt/cni/bin]',
    "F2": 'failed to find plugin "multus" in path [/var/lib/rancher/k3s/data/3ccf8a82/bin]',
    "F3": "error dialing DHCP daemon: dial unix /run/cni/dhcp.sock: connect: no such file or directory",
    "F4": "error dialing DHCP daemon: dial unix /run/cni/dhcp.sock: connect: connection refused",
    "F8": "error calling DHCP.Allocate: no more tries",
    "F10": ("getKubernetesDelegate: cannot find a network-attachment-definition (macvlan-conf) in namespace (default): "
            'network-attachment-definitions.k8s.cni.cncf.io "macvlan-conf" not found'),
    "F12": ("Multus: error getting k8s client: GetK8sClient: failed to get context for the kubeconfig "
            "/etc/cni/net.d/multus.d/multus.kubeconfig: stat /etc/cni/net.d/multus.d/multus.kubeconfig: no such file or directory"),
    "F13": "Multus: [default/p/u]: error waiting for pod: Unauthorized",
    "F15": 'error adding container to network "cbr0": unsupported CNI result version "1.0.0"',
    "F19": ('DelegateAdd: cannot set "macvlan" interface name to "net1": validateIfName: interface name net1 already exists'),
    "F20": 'error adding container to network "macvlan-lan": Link not found',
    "F25": "GetCNIConfig: err in getCNIConfigFromSpec: failed to unmarshal Spec.Config: invalid character",
    "F30": "multus does not support ECMP for default-route",
    # F32-F42: the texts the real Debian 1.1.1 plugins printed in a throwaway netns (F32, F33, F35, F41, F42, and
    # F20's ipvlan form), or the format strings of the upstream sources with the kernel's errno text (F34, F36-F40)
    "F32": ('error adding container to network "macvlan-lan": incompatible CNI versions; config is "1.1.0", plugin '
            'supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0"]'),
    "F33": 'error adding container to network "ipvlan-lan": unknown ipvlan mode: "l4"',
    "F34": 'error adding container to network "ipvlan-lan": failed to create ipvlan: device or resource busy',
    "F35": ('error adding container to network "vlan-5": "master" field is required. It specifies the host interface '
            "name to create the VLAN for."),
    "F36": "loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory",
    "F37": ('CmdAdd (shim): failed to send CNI request: Post "http://dummy/cni": dial unix /run/multus/multus.sock: '
            "connect: connection refused"),
    "F38": ("Multus: [default/plex-0/4f6c]: error setting the networks status: SetPodNetworkStatusAnnotation: failed to "
            "update the pod plex-0 in out of cluster comm: SetNetworkStatus: failed to update the pod plex-0 in out of "
            'cluster comm: pods "plex-0" is forbidden: User "system:serviceaccount:kube-system:multus" cannot update '
            'resource "pods/status" in API group "" in the namespace "default"'),
    "F39": 'error adding container to network "macvlan-lan": error calling DHCP.Allocate: error looking up "net1": Link not found',
    "F40": "Multus: [default/plex-0/4f6c]: error setting default gateway: SetDefaultGW: Error getting link Link not found",
    "F41": 'error adding container to network "macvlan-lan": error calling DHCP.Allocate: address already in use',
    "F42": 'error adding container to network "ipvlan-lan": failed to create ipvlan: operation not supported',
    # F43-F45: what Debian 1.1.1's plugins printed in throwaway namespaces (audit 10 item 3; the corpus NADs
    # mut-macvlan-mac-multicast, mut-macvlan-mtu-67, mut-bridge-mtu-50, mut-hostdevice-lo hold them)
    "F43": 'error adding container to network "lan": failed to create macvlan: cannot assign requested address',
    "F44": 'error adding container to network "lan": failed to create macvlan: invalid argument',
    "F45": 'error adding container to network "lan": failed to move link invalid argument',
}


@pytest.mark.parametrize("fid", sorted(EXAMPLES))
def test_known_failure_catalog_recognises_the_real_messages(fid: str) -> None:
    hit = match("Failed to create pod sandbox: ... failed (add): " + EXAMPLES[fid])
    assert hit is not None and hit.id == fid


@pytest.mark.parametrize(("message", "fid"), [
    ('plugin type="macvlan" failed (add): Link not found', "F20"),
    ('error adding container to network "ipvlan-lan": failed to lookup master "eth9": Link not found', "F20"),
    ('AddNetwork: failed to lookup master "": Link not found', "F20"),
    ('error adding container to network "lan": failed to set "net1" UP: address already in use', "F41"),
    ("Error getting listener: listen unix /run/cni/dhcp.sock: bind: address already in use", "F5"),
])
def test_catalog_patterns_are_anchored_on_the_text_that_names_the_cause(message: str, fid: str) -> None:
    hit = match(message)
    assert hit is not None and hit.id == fid, hit


@pytest.mark.parametrize(("message", "fid"), [
    ("failed to create macvlan: cannot assign requested address", "F43"),  # a multicast MAC, not a busy master
    ("failed to create macvlan: invalid argument", "F44"),  # mtu below 68, not a busy master
    ('failed to create bridge "br9": could not add "br9": invalid argument', "F44"),
    ("failed to create macvlan: device or resource busy", "F23"),
    ("failed to create macvlan: operation not supported", "F23"),
])
def test_a_refused_macvlan_is_mapped_by_the_errno_that_names_the_cause(message: str, fid: str) -> None:
    hit = match('error adding container to network "lan": ' + message)
    assert hit is not None and hit.id == fid, hit
    assert match('error adding container to network "lan": failed to create macvlan: no buffer space available') is None


def test_a_link_lookup_elsewhere_is_not_taken_for_a_missing_master() -> None:
    for text in ('error calling DHCP.Allocate: error looking up "net1": Link not found',
                 "SetDefaultGW: Error getting link Link not found", "Link not found"):
        hit = match(text)
        assert hit is None or hit.id != "F20", (text, hit)


THIN_FORBIDDEN = (
    'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox '
    '"4b1d0f2c9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c": plugin type="multus" '
    'name="multus-cni-network" failed (add): ' + EXAMPLES["F38"])
THICK_DHCP = (
    'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "9a1b": '
    'plugin type="multus-shim" name="multus-cni-network" failed (add): CmdAdd (shim): CNI request failed with status '
    '400: \'ContainerID:"9a1b" Netns:"/var/run/netns/cni-1" IfName:"eth0" Args:"K8S_POD_NAMESPACE=default;'
    'K8S_POD_NAME=plex-0" Path:"" ERRORED: error configuring pod [default/plex-0] networking: Multus: '
    '[default/plex-0/4f6c]: error adding container to network "macvlan-lan": error dialing DHCP daemon: dial unix '
    "/run/cni/dhcp.sock: connect: no such file or directory\n'")


@pytest.mark.parametrize(("message", "cause"), [
    (THIN_FORBIDDEN, EXAMPLES["F38"].split("]: ", 1)[1]),
    (THICK_DHCP, 'error adding container to network "macvlan-lan": error dialing DHCP daemon: dial unix '
                 "/run/cni/dhcp.sock: connect: no such file or directory"),
    ('Failed to create pod sandbox: ... failed (add): [default/plex-0/4f6c:macvlan-lan]: error adding container to '
     'network "macvlan-lan": Link not found', 'error adding container to network "macvlan-lan": Link not found'),
    ("0/3 nodes are available: 3 Insufficient memory.", "0/3 nodes are available: 3 Insufficient memory."),
])
def test_cause_text_keeps_the_plugins_own_words_whole_and_drops_the_runtime_prefixes(message: str, cause: str) -> None:
    assert cause_text(message) == cause


def test_catalog_entries_point_at_registered_checks_and_are_unique() -> None:
    from multus_check.checks import registry

    ids = {s.id for s in registry.all_checks()}
    assert all(k.check in ids for k in CATALOG)
    assert len({k.id for k in CATALOG}) == len(CATALOG)


def test_registry_rejects_duplicate_ids() -> None:
    from multus_check.checks import registry

    registry.all_checks()  # the built-in checks are registered first
    with pytest.raises(DuplicateCheckError):
        check("nad.crd", "again", Severity.LOW)(lambda snap: [])


def test_every_check_is_documented_in_the_catalog_and_readme() -> None:
    from multus_check.checks import registry
    from multus_check.report.checks_md import render_catalog
    from tests.conftest import ROOT

    catalog = (ROOT / "docs" / "CHECKS.md").read_text()
    assert catalog == render_catalog(), "regenerate: python -m multus_check.report.checks_md > docs/CHECKS.md"
    readme = (ROOT / "README.md").read_text()
    for spec in registry.all_checks():
        if spec.kind == "static":
            assert f"## `{spec.id}`" in catalog and f"`{spec.id}`" in readme


def test_pyproject_ships_every_package_of_the_source_tree() -> None:
    import tomllib

    from tests.conftest import ROOT

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "multus_check").rglob("__init__.py")
             if "__pycache__" not in p.parts}
    assert found | {"multus_check.suites"} == listed
