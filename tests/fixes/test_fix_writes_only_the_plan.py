"""Property test over every fix: what `--fix` writes is exactly what its plan shows.

Each fix scenario runs against the write-aware emulator. For every generated example the objects
the fix touches first get "extras" a real cluster has and the fixture lacks: secret env values
(named like secrets, and innocently named ones carrying `--bearer ...` or a URL with a password),
a sidecar container with `--token` args, annotations with credentials, tolerations, volumes, and,
for a ConfigMap or a NAD, secret data keys. Then: collect (credentials redacted), plan, apply, and
compare the live object before and after: the fields that changed are inside the plan's diff, every
extra survives byte for byte (the secret values above all, never replaced by the redaction
marker), the printed plan shows no secret, and undo restores the live object exactly.
"""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multus_check.collect.redact import VALUE_MARKER
from multus_check.fixes.apply import apply
from multus_check.fixes.attach import attach_plan
from multus_check.fixes.fields import changed_paths, comparable, covered, show
from multus_check.fixes.journal import Journal
from multus_check.fixes.plan import Action, Plan
from multus_check.fixes.render import render_plan
from multus_check.fixes.undo import undo
from multus_check.pipeline.fix_run import static_findings
from multus_check.snapshot import Snapshot, load_snapshot
from tests.api.scenario import FIXTURES
from tests.fixes.emulator_writes import REVISION, TEMPLATE_GENERATION
from tests.fixes.test_flannel_fix import kubeadm_shaped
from tests.fixes.world import World, comparable_plans, variant, world

Key = tuple[str, str, str]
FLANNEL_CM: Key = ("v1/configmaps", "kube-flannel", "kube-flannel-cfg")
FLANNEL_DS: Key = ("apps/v1/daemonsets", "kube-flannel", "kube-flannel-ds")
MULTUS_DS: Key = ("apps/v1/daemonsets", "kube-system", "kube-multus-ds")
DHCP_DS: Key = ("apps/v1/daemonsets", "kube-system", "cni-dhcp-daemon")
NAD: Key = ("k8s.cni.cncf.io/v1/network-attachment-definitions", "default", "macvlan-lan")
DEPLOY: Key = ("apps/v1/deployments", "default", "home-assistant")
SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))


@dataclass(frozen=True)
class Case:
    fix: str
    snapshot: Callable[[Path], Path]
    targets: tuple[Key, ...]


CASES = [
    Case("flannel-service-routes", lambda _: FIXTURES / "cidr-service-routing", (FLANNEL_CM, FLANNEL_DS, MULTUS_DS)),
    Case("flannel-service-routes", lambda tmp: variant("cidr-service-routing", tmp, kubeadm_shaped),
         (FLANNEL_CM, FLANNEL_DS, MULTUS_DS)),
    Case("nad-repair", lambda tmp: variant("healthy-k3s", tmp, _nad_master_missing), (NAD,)),
    Case("multus-nesting", lambda _: FIXTURES / "multus-nested-delegates", (MULTUS_DS,)),
    Case("multus-k3s-kubeconfig", lambda _: FIXTURES / "multus-kubeconfig-missing", (MULTUS_DS,)),
    Case("install-cni-plugins", lambda _: FIXTURES / "plugins-missing", (MULTUS_DS, DHCP_DS)),
    Case("install-multus", lambda _: FIXTURES / "multus-missing", (FLANNEL_DS, DHCP_DS)),
    Case("attach", lambda _: FIXTURES / "healthy-k3s", (DEPLOY,)),
    Case("nad-ipv6-ready", lambda _: FIXTURES / "nad-ipv6-not-ready", (NAD,)),
    Case("nad-ipv6-ready", lambda tmp: variant("healthy-k3s", tmp, _tuning_without_rio), (NAD,)),
]


def _tuning_without_rio(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """The seed conflist whose tuning sets other sysctls but not accept_ra_rt_info_max_plen."""
    for obj in items:
        if obj["kind"] == "NetworkAttachmentDefinition":
            conf = json.loads(obj["spec"]["config"])
            conf["plugins"][1]["sysctl"] = {"net.core.somaxconn": "500", "net.ipv6.conf.IFNAME.accept_ra": "1"}
            obj["spec"]["config"] = json.dumps(conf)


def _nad_master_missing(items: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """The NAD names a master no node has (a valid config nad-repair edits in place)."""
    for obj in items:
        if obj["kind"] == "NetworkAttachmentDefinition":
            obj["spec"]["config"] = obj["spec"]["config"].replace('"eth0"', '"enp9s0"')


@dataclass
class Extras:
    secrets: list[str]
    env: list[dict[str, Any]]
    sidecar: dict[str, Any] | None
    annotations: dict[str, str]
    tolerations: list[dict[str, Any]]
    volumes: list[dict[str, Any]]
    data: dict[str, str] = field(default_factory=dict)


tokens = st.text(alphabet=string.ascii_letters + string.digits, min_size=10, max_size=16).map(lambda s: f"PLANTED-{s}")


@st.composite
def extras(draw: st.DrawFn) -> Extras:
    s = draw(st.lists(tokens, min_size=7, max_size=7, unique=True))
    env_choices = [{"name": "MULTUS_TOKEN", "value": s[0]}, {"name": "EXTRA_FLAGS", "value": f"--bearer {s[1]}"},
                   {"name": draw(st.sampled_from(["UPSTREAM", "REGISTRY_URL", "A"])), "value": f"https://u:{s[2]}@registry.lan"},
                   {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "multus-token", "key": "token"}}}]
    env = [e for e in env_choices if draw(st.booleans())] or env_choices[:1]
    sidecar = {"name": "sidecar", "image": "busybox:1.36", "args": ["--token", s[3], f"--password={s[4]}"],
               "env": [{"name": "API_KEY", "value": s[5]}]} if draw(st.booleans()) else None
    annotations = {"example.com/webhook": f"https://bot:{s[6]}@hooks.example.com/x",
                   "example.com/settings": json.dumps({"token": s[0], "level": draw(st.integers(0, 9))}),
                   "kubectl.kubernetes.io/last-applied-configuration": json.dumps({"env": [{"name": "MULTUS_TOKEN", "value": s[0]}]})}
    tolerations = draw(st.lists(st.sampled_from([{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"},
                                                 {"key": "edge", "operator": "Equal", "value": "yes", "effect": "NoExecute"}]),
                                max_size=2, unique_by=lambda t: t["key"]))
    volumes = [{"name": "creds", "secret": {"secretName": "multus-token"}}] + (
        [{"name": "extra-host", "hostPath": {"path": "/var/lib/extra"}}] if draw(st.booleans()) else [])
    data = {"token": s[1], "registry.toml": f'[auth]\n  password = "{s[2]}"\n'}
    return Extras(s, env, sidecar, annotations, tolerations, volumes, data)


def plant(obj: dict[str, Any], ex: Extras) -> dict[str, Any]:
    """The object with the extras a real cluster has (a copy)."""
    out = copy.deepcopy(obj)
    out["metadata"].setdefault("annotations", {}).update(ex.annotations)
    kind = out["kind"]
    if kind == "ConfigMap":
        out["data"].update(ex.data)
    elif kind == "NetworkAttachmentDefinition":
        conf = json.loads(out["spec"]["config"]) if out["spec"]["config"].lstrip().startswith("{") else None
        if isinstance(conf, dict):
            conf["bearerToken"] = ex.secrets[3]
            out["spec"]["config"] = json.dumps(conf)
    else:
        template = out["spec"]["template"]
        template.setdefault("metadata", {}).setdefault("annotations", {}).update(ex.annotations)
        pod = template["spec"]
        for container in pod["containers"]:
            container["env"] = [*(container.get("env") or []), *copy.deepcopy(ex.env)]
        if ex.sidecar:
            pod["containers"] = [*pod["containers"], copy.deepcopy(ex.sidecar)]
        pod["tolerations"] = [*(pod.get("tolerations") or []), *copy.deepcopy(ex.tolerations)]
        pod["volumes"] = [*(pod.get("volumes") or []), *copy.deepcopy(ex.volumes)]
    return out


def _deployment() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "home-assistant", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "ha"}}, "template": {
                "metadata": {"labels": {"app": "ha"}},
                "spec": {"hostNetwork": True, "dnsPolicy": "ClusterFirstWithHostNet",
                         "containers": [{"name": "ha", "image": "ghcr.io/home-assistant/home-assistant:2026.11"}]}}}}


def _snapshot_api_only(w: World, nodes_from: Snapshot) -> Snapshot:
    """A fresh API read (through the real collector and its redaction); node facts from the first collection."""
    snap = w.sc.collect(node_facts=False)
    snap.nodes = nodes_from.nodes
    snap.sections.update({k: v for k, v in nodes_from.sections.items() if k.startswith("node/")})
    snap.invalidate()
    return snap


def _plans(case: Case, w: World, nodes_from: Snapshot) -> list[Plan]:
    if case.fix == "attach":
        return [attach_plan(w.writer.get("Deployment", "default", "home-assistant"), "macvlan-lan", "default", None)]
    snap = _snapshot_api_only(w, nodes_from)
    return [p for p in w.plans(snap, static_findings(snap)) if p.fix_id == case.fix]


def _kind_of(key: Key) -> str:
    return {"configmaps": "ConfigMap", "daemonsets": "DaemonSet", "deployments": "Deployment",
            "network-attachment-definitions": "NetworkAttachmentDefinition"}[key[0].rsplit("/", 1)[1]]


def _assert_extras_survive(before: dict[str, Any], after: dict[str, Any], ex: Extras) -> None:
    for key, value in ex.annotations.items():
        assert after["metadata"]["annotations"][key] == value
    if after["kind"] == "ConfigMap":
        assert {k: after["data"][k] for k in ex.data} == ex.data
        return
    if after["kind"] == "NetworkAttachmentDefinition":
        assert _nad_key(after, "bearerToken") == _nad_key(before, "bearerToken")
        return
    pod_before, pod_after = before["spec"]["template"]["spec"], after["spec"]["template"]["spec"]
    envs = {c["name"]: c.get("env") for c in pod_after["containers"]}
    assert all(envs[c["name"]] == c.get("env") for c in pod_before["containers"]), "env changed"
    assert [c for c in pod_after["containers"] if c["name"] == "sidecar"] == [c for c in pod_before["containers"]
                                                                             if c["name"] == "sidecar"]
    assert pod_after.get("tolerations") == pod_before.get("tolerations")
    assert pod_after.get("volumes") == pod_before.get("volumes")
    assert after["spec"]["template"]["metadata"]["annotations"]["example.com/webhook"] == ex.annotations["example.com/webhook"]


def _nad_key(nad: dict[str, Any], key: str) -> Any:
    """A key of the NAD's config, or of its main plugin (nad-ipv6-ready moves a single config's keys into
    the first plugin of the conflist it makes)."""
    conf = json.loads(nad["spec"]["config"])
    return conf[key] if key in conf else (conf.get("plugins") or [{}])[0].get(key)


def _check_example(case: Case, w: World, nodes_from: Snapshot, base: dict[Key, dict[str, Any]], ex: Extras, report: Path) -> None:
    for key, obj in base.items():
        live = w.stored(*key)
        w.writer.replace(plant(obj, ex), live["metadata"]["resourceVersion"])
    planted = {key: w.stored(*key) for key in base}
    everything_before = {k: json.dumps(v, sort_keys=True) for k, v in planted.items()}
    plans = _plans(case, w, nodes_from)
    assert plans and all(p.changes and p.refused is None for p in plans), render_plan(plans)
    shown = render_plan(plans)
    assert not any(s in shown for s in ex.secrets), "the printed plan shows a credential"

    outcome = apply(plans, w.writer, Journal.create(report, "prop"))

    assert outcome.ok, outcome.stopped
    planned: dict[str, set[tuple[str | int, ...]]] = {}
    for change in (c for p in plans for c in p.changes if c.action is Action.REPLACE):
        assert change.before is not None
        planned[change.ref] = changed_paths(comparable(change.before), comparable(change.after))
    for key, before in planted.items():
        after = w.stored(*key)
        ref = f"{_kind_of(key)} {key[1]}/{key[2]}"
        stray = [show(p) for p in changed_paths(comparable(before), comparable(after)) if not covered(p, planned.get(ref, set()))]
        assert stray == [], f"{ref}: fields outside the plan changed: {stray}"
        _assert_extras_survive(before, after, ex)
        text_before, text_after = json.dumps(before), json.dumps(after)
        assert VALUE_MARKER not in text_after
        assert all(text_after.count(s) == text_before.count(s) for s in ex.secrets), f"{ref}: a secret value changed"

    assert undo(Journal.load(report / "fix-journal.json"), w.writer).ok
    for key in planted:
        assert _as_written(w.stored(*key)) == _as_written(json.loads(everything_before[key])), \
            f"{key}: undo did not restore it exactly"


def _as_written(obj: dict[str, Any]) -> str:
    """An object without what the API server and the controllers maintain (the emulator plays them: see
    emulator_writes.py), every other byte kept: what an undo must restore exactly."""
    out = json.loads(json.dumps(obj))
    for key in ("resourceVersion", "generation"):
        out["metadata"].pop(key, None)
    for key in (TEMPLATE_GENERATION, REVISION):
        (out["metadata"].get("annotations") or {}).pop(key, None)
    (out.get("status") or {}).pop("observedGeneration", None)
    return json.dumps(out, sort_keys=True)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.fix}-{i}" for i, c in enumerate(CASES)])
def test_a_fix_writes_only_the_fields_its_plan_shows_and_every_secret_survives(case: Case, tmp_path: Path) -> None:
    snapshot_dir = case.snapshot(tmp_path)
    with world(snapshot_dir, tmp_path / "w") as w:
        if case.fix == "attach":
            w.writer.create(_deployment())
        nodes_from = w.collect()
        if case.fix != "attach":  # the same cluster plans the same live and offline
            assert comparable_plans(nodes_from) == comparable_plans(load_snapshot(snapshot_dir))
        base = {key: w.stored(*key) for key in case.targets}
        runs = iter(range(10_000))

        @SETTINGS
        @given(extras())
        def example(ex: Extras) -> None:
            _check_example(case, w, nodes_from, base, ex, tmp_path / f"r{next(runs)}")

        example()
