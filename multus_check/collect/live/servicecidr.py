"""Find the Service CIDR(s) of a live cluster, and record how (flannel-k3s.md §5).

In order of preference: the ServiceCIDR API objects; a server-side dry-run Service with a
clusterIP outside any range, whose refusal names the range; the kube-apiserver mirror pod's
`--service-cluster-ip-range`; k3s server node-args `--service-cidr`; the kubeadm-config
ConfigMap. The result goes to `facts["serviceCIDR"]` as {"cidrs", "source", "tried"}; when
nothing answers, `cidrs` is empty and the checks fall back to documented defaults themselves.
The dry run creates nothing; it is sent only where the preflight found `create services` granted
(the run's namespace with node facts, else only where `--cidr-probe-namespace` asks for it).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from multus_check.errors import ClusterAccessError, Forbidden, Invalid
from multus_check.kube.resources import SERVICES

if TYPE_CHECKING:
    from multus_check.kube import Gateway

PROBE_IP = "1.1.1.1"
PROBE_NAME = "multus-check-cidr-probe"
_RANGE = re.compile(r"The range of valid IPs is (\S+)")
_APISERVER_FLAG = re.compile(r"--service-cluster-ip-range=(\S+)")


def discover_service_cidr(
    gw: Gateway,
    objects: dict[str, list[dict[str, Any]]],
    control_plane_pods: list[dict[str, Any]],
    probe_namespace: str | None,
    servicecidr_version: str = "",
    probe_skipped: str = "skipped: no namespace to probe in",
) -> dict[str, Any]:
    """`probe_namespace` None: the dry-run probe is not sent, and `probe_skipped` says why."""
    tried: list[dict[str, str]] = []
    cidrs = [c for o in objects.get("servicecidrs", []) for c in (o.get("spec") or {}).get("cidrs") or []]
    if cidrs:
        try:
            return _found(cidrs, f"ServiceCIDR API ({servicecidr_version or 'networking.k8s.io'})", tried)
        except _NotAnswered as exc:
            tried.append({"method": "ServiceCIDR API", "result": str(exc)})
    else:
        tried.append({"method": "ServiceCIDR API", "result": "no ServiceCIDR objects"})
    methods: tuple[tuple[str, Callable[[], list[str]]], ...] = (
        ("server-side dry-run Service probe", lambda: _dry_run_probe(gw, probe_namespace, probe_skipped)),
        ("kube-apiserver --service-cluster-ip-range", lambda: _apiserver_flag(control_plane_pods)),
        ("k3s server node-args --service-cidr", lambda: _k3s_node_args(objects.get("nodes", []))),
        ("kubeadm-config ConfigMap networking.serviceSubnet", lambda: _kubeadm(objects.get("configmaps", []))),
    )
    for source, method in methods:
        try:
            return _found(method(), source, tried)
        except _NotAnswered as exc:
            tried.append({"method": source, "result": str(exc)})
    return {"cidrs": [], "source": "", "tried": tried}


class _NotAnswered(Exception):
    """This method could not tell; the message says why."""


def _found(cidrs: list[str], source: str, tried: list[dict[str, str]]) -> dict[str, Any]:
    valid = []
    for c in cidrs:
        try:
            valid.append(str(ipaddress.ip_network(str(c).strip(), strict=False)))
        except ValueError:
            continue
    if not valid:
        raise _NotAnswered(f"{source} gave no valid CIDR: {cidrs}")
    return {"cidrs": valid, "source": source, "tried": tried}


def _dry_run_probe(gw: Gateway, namespace: str | None, skipped: str) -> list[str]:
    if namespace is None:
        raise _NotAnswered(skipped)
    probe = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": PROBE_NAME, "namespace": namespace},
        "spec": {"type": "ClusterIP", "clusterIP": PROBE_IP, "clusterIPs": [PROBE_IP],
                 "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}]},
    }
    try:
        gw.create(SERVICES, namespace, probe, dry_run=True)
    except Invalid as exc:
        m = _RANGE.search(exc.server_message)
        if m:
            return [m.group(1)]
        raise _NotAnswered(f"refused without naming the range: {exc.server_message[:200]}") from exc
    except Forbidden as exc:
        raise _NotAnswered(f"forbidden (needs create services in {namespace}): {exc}") from exc
    except ClusterAccessError as exc:
        raise _NotAnswered(str(exc)) from exc
    raise _NotAnswered(f"{PROBE_IP} was accepted as a clusterIP, so the refusal could not name the range")


def _apiserver_flag(pods: list[dict[str, Any]]) -> list[str]:
    for pod in pods:
        for container in (pod.get("spec") or {}).get("containers") or []:
            for arg in list(container.get("command") or []) + list(container.get("args") or []):
                m = _APISERVER_FLAG.match(str(arg))
                if m:
                    return m.group(1).split(",")
    raise _NotAnswered("no kube-apiserver mirror pod with the flag")


def _k3s_node_args(nodes: list[dict[str, Any]]) -> list[str]:
    for node in nodes:
        raw = ((node.get("metadata") or {}).get("annotations") or {}).get("k3s.io/node-args")
        try:
            args = json.loads(raw) if raw else []
        except json.JSONDecodeError:
            continue
        for i, arg in enumerate(args if isinstance(args, list) else []):
            if arg == "--service-cidr" and i + 1 < len(args):
                return str(args[i + 1]).split(",")
            if isinstance(arg, str) and arg.startswith("--service-cidr="):
                return arg.split("=", 1)[1].split(",")
    raise _NotAnswered("no node's k3s.io/node-args sets --service-cidr")


def _kubeadm(configmaps: list[dict[str, Any]]) -> list[str]:
    for cm in configmaps:
        if (cm.get("metadata") or {}).get("name") == "kubeadm-config":
            text = str((cm.get("data") or {}).get("ClusterConfiguration", ""))
            m = re.search(r"^\s*serviceSubnet:\s*\"?([0-9a-fA-F.:/,]+)", text, re.MULTILINE)
            if m:
                return m.group(1).split(",")
    raise _NotAnswered("no kubeadm-config ConfigMap with networking.serviceSubnet")
