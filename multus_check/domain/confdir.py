"""Where Multus finds a NAD's network config when its `spec.config` is empty: a file in Multus's
confDir (default /etc/cni/multus/net.d) whose network `name` equals the NAD's name.

Facts (network-attachment-definition-client `pkg/utils/cniconfig.go` GetCNIConfigFromFile, the
code Multus v4 calls): the files ending in .conf, .json or .conflist are read in name order; the
first whose `name` matches wins; a file that does not parse (libcni: a conf without `type`, a
conflist without `name` or `plugins`) stops the search with `Error loading CNI config file`; an
empty or missing dir gives `No networks found in <dir>`, no match `no network available in the
name <name> in cni dir <dir>`. The match is on the `name` inside the file, not the file name.
Pure functions of the node facts; no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from multus_check.domain import k8s
from multus_check.domain.cluster import Nad, k3s_info, multus_deployment
from multus_check.domain.cniconf import ConfigError, parse_multus_config
from multus_check.domain.gotypes import go_get
from multus_check.domain.node import NotCollected, cni_conf_files, listing, multus_files, runtime_dirs
from multus_check.snapshot.data import NodeFacts, Snapshot

MULTUS_CONF_DIR = "/etc/cni/multus/net.d"
SUFFIXES = (".conf", ".json", ".conflist")


@dataclass(frozen=True)
class Lookup:
    """What Multus finds for one NAD name on one node."""

    conf_dir: str
    config: dict[str, Any] | None = None
    file: str | None = None
    problem: str | None = None  # Multus's own words for why it finds nothing usable
    not_collected: str | None = None  # what the snapshot lacks to tell


def multus_conf_dir(facts: NodeFacts, runtime_conf_dir: str) -> str:
    """Multus's confDir on this node: the `confDir` of its own config when it sets one, else the default."""
    try:
        names = multus_files(cni_conf_files(facts, runtime_conf_dir))
    except NotCollected:
        return MULTUS_CONF_DIR
    text = facts.file(f"{runtime_conf_dir}/{names[0]}") if names else None
    if text is None:
        return MULTUS_CONF_DIR
    try:
        return parse_multus_config(text, names[0]).conf_dir or MULTUS_CONF_DIR
    except ConfigError:
        return MULTUS_CONF_DIR


def lookup(facts: NodeFacts, conf_dir: str, name: str) -> Lookup:
    """The config Multus would load for a NAD named `name` from `conf_dir` on this node."""
    try:
        entries = listing(facts, conf_dir)
    except NotCollected as exc:
        return Lookup(conf_dir, not_collected=str(exc))
    files = sorted(e.name for e in entries or [] if e.type in ("file", "symlink") and e.name.endswith(SUFFIXES))
    if not files:
        return Lookup(conf_dir, problem=f"No networks found in {conf_dir}")
    for fname in files:
        path = f"{conf_dir}/{fname}"
        text = facts.file(path)
        if text is None:
            return Lookup(conf_dir, not_collected=facts.unreadable.get(path, f"{path} was not copied"))
        conf, error = _load(text, fname)
        if error:
            return Lookup(conf_dir, file=path, problem=f"Error loading CNI config file {path}: {error}")
        if conf is not None and (conf.get("name") if fname.endswith(".conflist") else go_get(conf, "name")) == name:
            return Lookup(conf_dir, config=conf, file=path)
    return Lookup(conf_dir, problem=f"no network available in the name {name} in cni dir {conf_dir}")


def _load(text: str, fname: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        conf = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"error parsing configuration: {exc.msg}"
    if not isinstance(conf, dict):
        return None, "error parsing configuration: not a JSON object"
    if not fname.endswith(".conflist"):  # libcni decodes a single config into a struct: `Type` is its type too
        ptype = go_get(conf, "type")
        return (conf, None) if isinstance(ptype, str) and ptype else (None, "missing 'type'")
    if not isinstance(conf.get("name"), str):
        return None, "no name"
    plugins = conf.get("plugins")
    if not isinstance(plugins, list) or not plugins:
        return None, "no 'plugins' key" if plugins is None else "no plugins in list"
    if not all(isinstance(p, dict) and isinstance(p.get("type"), str) and p["type"] for p in plugins):
        return None, "missing 'type'"
    return conf, None


def spec_is_empty(nad: Nad) -> bool:
    """True when the NAD has no spec.config, so Multus looks in its confDir (NAD-client `emptySpec`)."""
    return not k8s.spec(nad.obj).get("config")


def find_for_node(snap: Snapshot, nad: Nad, facts: NodeFacts) -> Lookup:
    """What Multus on this node finds for a NAD without spec.config. The thick daemon reads its
    container's confDir, a host mount only in manifests since v4.2.1 (multus-cni.md §1.2)."""
    conf_dir = multus_conf_dir(facts, runtime_dirs(facts, k3s_info(snap)).conf_dir)
    dep = multus_deployment(snap)
    if dep is not None and dep.mode == "thick":
        host_dir = dep.host_paths.get(conf_dir)
        if host_dir is None:
            return Lookup(conf_dir, problem=f"the thick Multus daemon {k8s.ref(dep.daemonset)} does not mount "
                                            f"{conf_dir} from the host (manifests before v4.2.1), so it sees none of "
                                            f"its files: `No networks found in {conf_dir}`")
        conf_dir = host_dir
    return lookup(facts, conf_dir, k8s.name(nad.obj))


def nad_config(snap: Snapshot, nad: Nad, facts: NodeFacts) -> tuple[dict[str, Any] | None, Lookup | None]:
    """The config Multus runs for this NAD on this node: its spec.config, or the confDir file."""
    if not spec_is_empty(nad):
        return nad.config, None
    found = find_for_node(snap, nad, facts)
    return found.config, found
