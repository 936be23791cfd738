"""A sample pod whose sandbox fails, on the API emulator: shared by tests/e2e/test_sandbox_failure.py
and bench/bench_sandbox_failure.py.

`FailingSandboxKubelet` plays kubelet + containerd + Multus for every sample pod: it leaves the
pod ContainerCreating and, `add_seconds` after the pod appears, posts the FailedCreatePodSandBox
event the kubelet posts when the CNI ADD fails, with Multus's own error text; then, like the real
kubelet retrying the sandbox, bumps the event's count every second for as long as the pod
exists. `failing_run` runs the e2e phase (the real runner, over real HTTP) against it, with a decoy
event of another pod in the same namespace whose message the catalog knows. Touches nothing
outside the emulator it starts.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multus_check.e2e.phase import run_e2e
from multus_check.e2e.sample_manifest import COMPONENT
from multus_check.kube import Gateway, load_target
from multus_check.model import Finding
from multus_check.snapshot.data import NodeFacts, Section, SectionState, Snapshot
from tests.api.emulator import ClusterEmulator
from tests.api.harness import EmulatorHarness
from tests.api.scenario import FAST_RETRIES
from tests.e2e.world import e2e_args, node

NAD = {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
       "metadata": {"name": "macvlan-lan", "namespace": "default"},
       "spec": {"config": '{"cniVersion": "0.3.1", "name": "macvlan-lan", "type": "macvlan", "master": "eth0", '
                          '"mode": "bridge", "ipam": {"type": "dhcp"}}'}}
TIMEOUT = 60.0  # --e2e-timeout: the run must end long before it


def multus_forbidden(ns: str, pod: str, uid: str) -> str:
    """Multus v4.2.3 thin's error when its ServiceAccount may not update pods/status: cmdErr's prefix,
    then SetPodNetworkStatusAnnotation's and the NAD client's wrappers around the API's 403 text."""
    return (f"Multus: [{ns}/{pod}/{uid}]: error setting the networks status: SetPodNetworkStatusAnnotation: failed "
            f"to update the pod {pod} in out of cluster comm: SetNetworkStatus: failed to update the pod {pod} in out "
            f'of cluster comm: pods "{pod}" is forbidden: User "system:serviceaccount:kube-system:multus" cannot '
            f'update resource "pods/status" in API group "" in the namespace "{ns}"')


def not_catalogued(ns: str, pod: str, uid: str) -> str:
    return (f'[{ns}/{pod}/{uid}:macvlan-lan]: error adding container to network "macvlan-lan": netplugin v9 says: '
            "the switch port refused a second MAC (port-security violation)")


def sandbox_event(ns: str, pod: str, multus_text: str) -> dict[str, Any]:
    message = ("Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "
               f'"{secrets.token_hex(32)}": plugin type="multus" name="multus-cni-network" failed (add): {multus_text}')
    return {"apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "FailedCreatePodSandBox",
            "message": message, "count": 1, "source": {"component": "kubelet", "host": "node-1"},
            "metadata": {"name": f"{pod}.{secrets.token_hex(8)}", "namespace": ns},
            "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns}}


@dataclass
class FailingSandboxKubelet:
    """Leaves each sample pod ContainerCreating and reports its sandbox failure as the kubelet does."""

    emulator: ClusterEmulator
    multus_error: Callable[[str, str, str], str]  # (namespace, pod, uid) -> Multus's error text
    add_seconds: float = 0.8
    posted: dict[str, float] = field(default_factory=dict)  # pod -> time.monotonic() of its first event
    messages: dict[str, str] = field(default_factory=dict)

    async def run(self) -> None:
        seen: set[str] = set()
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                for (res, ns, name), obj in list(self.emulator.objects.items()):
                    labels = (obj.raw.get("metadata") or {}).get("labels") or {}
                    if res.plural == "pods" and not obj.deleted and name not in seen \
                            and labels.get("app.kubernetes.io/component") == COMPONENT:
                        seen.add(name)
                        tasks.add(asyncio.create_task(self._sandbox(str(ns), str(name), obj.raw)))
                await asyncio.sleep(0.02)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _sandbox(self, ns: str, name: str, pod: dict[str, Any]) -> None:
        key = ("v1/pods", ns, name)
        self.emulator.objects[key].patch({"status": {"phase": "Pending", "containerStatuses": [
            {"name": "probe", "ready": False, "state": {"waiting": {"reason": "ContainerCreating"}}}]}})
        self.emulator.put({"apiVersion": "v1", "kind": "Event", "type": "Normal", "reason": "Scheduled",
                           "message": f"Successfully assigned {ns}/{name} to node-1",
                           "metadata": {"name": f"{name}.scheduled", "namespace": ns},
                           "involvedObject": {"kind": "Pod", "name": name, "namespace": ns}})
        await asyncio.sleep(self.add_seconds)
        event = sandbox_event(ns, name, self.multus_error(ns, name, pod["metadata"].get("uid", "")))
        self.emulator.put(event)
        self.posted[name], self.messages[name] = time.monotonic(), event["message"]
        while not self.emulator.objects[key].deleted:  # the kubelet retries the sandbox with the same result
            await asyncio.sleep(1.0)
            stored = self.emulator.objects["v1/events", ns, event["metadata"]["name"]]
            stored.patch({"count": int(stored.raw.get("count") or 1) + 1})


def snapshot() -> Snapshot:
    snap = Snapshot(collected_at="now", source={"kind": "live", "description": "emulator"})
    snap.sections["cluster"] = Section(SectionState.OK)
    snap.objects.extend([node("node-1"), NAD,
                         {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": "kube-system"},
                          "spec": {"clusterIP": "10.43.0.10"}}])
    snap.nodes["node-1"] = NodeFacts("node-1", ip_addr=[{"ifname": "eth0", "flags": ["UP"], "operstate": "UP",
                                                         "addr_info": [{"family": "inet", "local": "192.168.1.10",
                                                                        "prefixlen": 24}]}])
    snap.sections["node/node-1"] = Section(SectionState.OK)
    return snap


@dataclass
class Outcome:
    findings: dict[str, Finding]
    kubelet: FailingSandboxKubelet
    returned: float  # time.monotonic() when run_e2e returned
    started: float
    pods_left: list[dict[str, Any]]

    def lag(self) -> float:
        """Seconds from the sample pod's first sandbox event to the findings."""
        (posted,) = self.kubelet.posted.values()
        return self.returned - posted


def failing_run(workdir: Path, multus_error: Callable[[str, str, str], str], timeout: float = TIMEOUT,
                poll_interval: float = 0.25, add_seconds: float = 0.8,
                notify: Callable[[str], None] | None = lambda _text: None) -> Outcome:
    """`notify=None`: the e2e phase reports on stderr as for the CLI (tests/e2e/test_e2e_progress.py)."""
    em = ClusterEmulator()
    em.install_nad_crd()
    em.put(dict(NAD))
    em.put(sandbox_event("multus-check", "home-assistant-0", "[multus-check/home-assistant-0/u:macvlan-lan]: error "
                         'adding container to network "macvlan-lan": error dialing DHCP daemon: dial unix '
                         "/run/cni/dhcp.sock: connect: no such file or directory"))
    kubelet = FailingSandboxKubelet(em, multus_error, add_seconds)
    harness = EmulatorHarness(em, workdir / "kubeconfig")
    harness.background.append(kubelet.run)
    with harness:
        gw = Gateway(load_target(str(harness.kubeconfig)), FAST_RETRIES, timeout=5)
        try:
            started = time.monotonic()
            got = run_e2e(e2e_args("--e2e-timeout", str(timeout)), snapshot(), [], gateway=gw,
                          notify=notify, poll_interval=poll_interval)
            returned = time.monotonic()
            pods_left = harness.sync(lambda: em.live("v1/pods"))
        finally:
            gw.close()
    return Outcome({f.check: f for f in got}, kubelet, returned, started, pods_left)
