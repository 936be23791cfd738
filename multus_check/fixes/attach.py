"""attach: move a workload off hostNetwork onto a NAD (the seed guide's patch, as a reversible plan).

The pod template gets the `k8s.v1.cni.cncf.io/networks` annotation (with an optional fixed MAC, so
the DHCP lease and mDNS identity survive restarts), `hostNetwork: false`, and `dnsPolicy:
ClusterFirst` where it was `ClusterFirstWithHostNet`. Pure: the command reads the objects and
applies the plan with the generic journal-first applier. The plan is shown on the workload with
its credentials redacted; the edit is applied to the live object when the change is written.
"""

from __future__ import annotations

import json
import re
from typing import Any

from multus_check.collect.redact import redact_object
from multus_check.domain import k8s
from multus_check.errors import UsageError
from multus_check.fixes.plan import Edit, Plan, ensure_dict, replace

ATTACHABLE = {"deployment": "Deployment", "statefulset": "StatefulSet", "daemonset": "DaemonSet"}
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def parse_target(text: str) -> tuple[str, str]:
    """`deployment/home-assistant` -> ("Deployment", "home-assistant")."""
    kind, _, name = text.partition("/")
    canonical = ATTACHABLE.get(kind.lower().rstrip("s")) or ATTACHABLE.get(kind.lower())
    if canonical is None or not name:
        raise UsageError(f"attach takes KIND/NAME with KIND one of {', '.join(ATTACHABLE)}, not {text!r}")
    return canonical, name


def check_mac(mac: str) -> str:
    value = mac.lower()
    if not _MAC.match(value):
        raise UsageError(f"--mac {mac!r} is not a MAC address like 02:42:c0:a8:01:50")
    if int(value[:2], 16) & 1:
        raise UsageError(f"--mac {mac} is a multicast address; use a unicast one (e.g. with 02 as first octet)")
    return value


def _networks(existing: str | None, entry: dict[str, str]) -> list[dict[str, str]]:
    """The annotation's entries with `entry` added (or replacing one for the same network)."""
    items: list[dict[str, str]] = []
    if existing:
        try:
            parsed = json.loads(existing)
            items = [dict(e) for e in parsed if isinstance(e, dict)] if isinstance(parsed, list) else []
        except json.JSONDecodeError:  # the comma form: "ns/name@if, other"
            for part in (p.strip() for p in existing.split(",") if p.strip()):
                ns, _, rest = part.rpartition("/")
                name, _, iface = rest.partition("@")
                items.append({"name": name, **({"namespace": ns} if ns else {}), **({"interface": iface} if iface else {})})
    same = [e for e in items if e.get("name") == entry["name"] and e.get("namespace", entry.get("namespace")) == entry.get("namespace")]
    return [entry if e in same else e for e in items] if same else [*items, entry]


def _attach_edit(network: str, network_namespace: str, mac: str | None) -> Edit:
    def edit(obj: dict[str, Any]) -> None:
        template = ensure_dict(ensure_dict(obj, "spec"), "template")
        annotations = ensure_dict(ensure_dict(template, "metadata"), "annotations")
        entry = {"name": network, "namespace": network_namespace, **({"mac": mac} if mac else {})}
        annotations[k8s.NETWORKS_ANNOTATION] = json.dumps(_networks(annotations.get(k8s.NETWORKS_ANNOTATION), entry))
        pod = ensure_dict(template, "spec")
        pod["hostNetwork"] = False
        if pod.get("dnsPolicy") == "ClusterFirstWithHostNet":
            pod["dnsPolicy"] = "ClusterFirst"

    return edit


def attach_plan(workload: dict[str, Any], network: str, network_namespace: str, mac: str | None, now: str = "") -> Plan:
    shown = redact_object(workload)
    pod = k8s.pod_spec(shown)
    what = ["hostNetwork: true -> false"] if pod.get("hostNetwork") else []
    if pod.get("dnsPolicy") == "ClusterFirstWithHostNet":
        what.append("dnsPolicy ClusterFirstWithHostNet -> ClusterFirst")
    ref = k8s.ref(workload)
    why = f"attach to NAD {network_namespace}/{network}" + (f" with MAC {mac}" if mac else "") + (
        "; " + "; ".join(what) if what else "")
    change = replace(shown, _attach_edit(network, network_namespace, mac), why)
    if change is None:
        return Plan("attach", frozenset(), f"{ref} already uses {network_namespace}/{network}")
    notes: tuple[str, ...] = ("The workload's pods are replaced by a rollout; the new pods get net1 from the NAD.",)
    if mac:
        notes += ("A fixed MAC needs \"capabilities\": {\"mac\": true} in the NAD's macvlan config.",)
    return Plan("attach", frozenset(), f"attach {ref} to {network_namespace}/{network}", (change,), notes=notes,
                risk="medium: the workload restarts and leaves the host network (ports on the node IP go away)")
