"""A small fake kubelet: runs each collector pod's job against a fake host tree.

It watches the emulator for pods bound to a node (`spec.nodeName`), and plays the kubelet's
part: mounts (ConfigMap items are written out, hostPaths point into the node's fake tree;
`DirectoryOrCreate` makes a missing directory as the real kubelet does, `Directory` on a
missing path leaves the pod stuck in ContainerCreating), runs the container's command with
container paths rebased onto a per-pod directory, enforces `activeDeadlineSeconds`, sets the
pod phase and container state, and serves the output as the pod's log.

Per-node behaviours simulate collectors that cannot run: `never` (the kubelet never acts),
`image-pull` (ImagePullBackOff), `reject` (Failed: OutOfcpu), `crash` (exit 1 with a message).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.api.emulator import ClusterEmulator
from tests.api.hosttree import HostTree, fake_image_bin


@dataclass
class FakeKubelet:
    emulator: ClusterEmulator
    hosts: dict[str, HostTree]
    workdir: Path
    behaviour: dict[str, str] = field(default_factory=dict)
    job_seconds: float = 0.0
    cache_output: bool = False  # run the real job once per host tree, then reuse (benchmarks)
    started: list[str] = field(default_factory=list)
    pod_roots: list[Path] = field(default_factory=list)
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _cache: dict[str, str] = field(default_factory=dict)

    async def run(self) -> None:
        bin_dir = fake_image_bin(self.workdir / "image")
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                for (res, ns, name), obj in list(self.emulator.objects.items()):
                    if res.plural != "pods" or obj.deleted or (ns, name) in self._seen:
                        continue
                    raw = obj.raw
                    phase = (raw.get("status") or {}).get("phase", "Pending")
                    if not (raw.get("spec") or {}).get("nodeName") or phase != "Pending":
                        continue  # unbound, or a recorded pod that already runs
                    self._seen.add((ns, name))
                    task = asyncio.create_task(self._run_pod(ns, name, raw, bin_dir))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                await asyncio.sleep(0.02)
        finally:
            for task in tasks:
                task.cancel()
            for root in self.pod_roots:
                shutil.rmtree(root, ignore_errors=True)

    def _patch(self, ns: str, name: str, status: dict[str, Any]) -> None:
        obj = self.emulator.objects["v1/pods", ns, name]
        if not obj.deleted:
            obj.patch({"status": status})

    async def _run_pod(self, ns: str, name: str, pod: dict[str, Any], bin_dir: Path) -> None:
        node = pod["spec"]["nodeName"]
        mode = self.behaviour.get(node, "run" if node in self.hosts else "never")
        if mode == "never":
            return
        if mode == "image-pull":
            image = pod["spec"]["containers"][0]["image"]
            self._patch(ns, name, {"phase": "Pending", "containerStatuses": [_waiting(
                "ImagePullBackOff", f'Back-off pulling image "{image}"')]})
            return
        if mode == "reject":
            self._patch(ns, name, {"phase": "Failed", "reason": "OutOfcpu",
                                   "message": "Pod was rejected: Node didn't have enough resource: cpu"})
            return
        self.started.append(node)
        # a short path: unix socket paths under it must stay within 107 bytes, as /host/run/cni/... does
        croot = Path(tempfile.mkdtemp(prefix="mcp", dir="/tmp"))
        self.pod_roots.append(croot)
        replay = self.cache_output and str(self.hosts[node].root) in self._cache
        if not replay and not self._mount(pod, croot, self.hosts[node]):
            self._patch(ns, name, {"phase": "Pending", "containerStatuses": [_waiting("ContainerCreating", "")]})
            return
        self._patch(ns, name, {"phase": "Running", "containerStatuses": [
            {"name": "collector", "ready": True, "state": {"running": {}}}]})
        deadline = float(pod["spec"].get("activeDeadlineSeconds") or 3600)
        try:
            code, output = await asyncio.wait_for(self._job(pod, croot, bin_dir, node, mode), deadline)
        except TimeoutError:
            self._patch(ns, name, {"phase": "Failed", "reason": "DeadlineExceeded",
                                   "message": "Pod was active on the node longer than the specified deadline"})
            return
        self.emulator.logs[(ns, name)] = output
        self._patch(ns, name, {"phase": "Succeeded" if code == 0 else "Failed", "containerStatuses": [
            {"name": "collector", "ready": False,
             "state": {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}}]})

    def prime(self, pod: dict[str, Any], configmap: dict[str, Any]) -> None:
        """Run the real collector once for this pod's host tree and cache its output (benchmarks:
        the time measured is then the pods' `job_seconds`, not this machine starting pythons)."""
        croot = Path(tempfile.mkdtemp(prefix="mcp", dir="/tmp"))
        self.pod_roots.append(croot)
        node = pod["spec"]["nodeName"]
        assert self._mount(pod, croot, self.hosts[node], configmap)
        bin_dir = fake_image_bin(self.workdir / "image")
        saved, self.job_seconds = self.job_seconds, 0.0
        try:
            code, _ = asyncio.run(self._job(pod, croot, bin_dir, node, "run"))
        finally:
            self.job_seconds = saved
        assert code == 0 and str(self.hosts[node].root) in self._cache

    def _mount(self, pod: dict[str, Any], croot: Path, host: HostTree, configmap: dict[str, Any] | None = None) -> bool:
        volumes = {v["name"]: v for v in pod["spec"].get("volumes") or []}
        configmaps = {(o.raw["metadata"].get("namespace"), o.raw["metadata"]["name"]): o.raw
                      for (r, _, _), o in self.emulator.objects.items() if r.plural == "configmaps" and not o.deleted}
        if configmap is not None:
            configmaps[(pod["metadata"]["namespace"], configmap["metadata"]["name"])] = configmap
        for mount in pod["spec"]["containers"][0].get("volumeMounts") or []:
            vol = volumes[mount["name"]]
            target = croot / mount["mountPath"].lstrip("/")
            if "configMap" in vol:
                cm = configmaps.get((pod["metadata"]["namespace"], vol["configMap"]["name"]))
                if cm is None:
                    return False
                for item in vol["configMap"].get("items") or [{"key": k, "path": k} for k in cm["data"]]:
                    dest = target / item["path"]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_text(cm["data"][item["key"]])
            elif "hostPath" in vol:
                source = host.root / vol["hostPath"]["path"].lstrip("/")
                if not source.exists():
                    if vol["hostPath"].get("type") == "Directory":
                        return False
                    source.mkdir(parents=True)
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.exists():
                    os.symlink(source, target)
        return True

    async def _job(self, pod: dict[str, Any], croot: Path, bin_dir: Path, node: str, mode: str) -> tuple[int, str]:
        if self.job_seconds:
            await asyncio.sleep(self.job_seconds)
        if mode == "crash":
            return 1, "Traceback (most recent call last):\nRuntimeError: simulated collector crash\n"
        host = self.hosts[node]
        if self.cache_output and str(host.root) in self._cache:
            return 0, self._cache[str(host.root)].replace('"name":"@NODE@"', f'"name":"{node}"')
        container = pod["spec"]["containers"][0]
        mounts = [m["mountPath"] for m in container.get("volumeMounts") or []]
        argv = [self._rebase(a, croot, mounts) for a in container["command"] + (container.get("args") or [])]
        if argv[0] == "python3":
            argv[0] = sys.executable
        if self.cache_output:
            argv = [("@NODE@" if a == node else a) for a in argv]
        env = {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin", "FAKE_IP_DIR": str(host.ip_dir)}
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env, cwd=str(croot))
        out, _ = await proc.communicate()
        text = out.decode()
        if self.cache_output and proc.returncode == 0:
            self._cache[str(host.root)] = text
            text = text.replace('"name":"@NODE@"', f'"name":"{node}"')
        return proc.returncode or 0, text

    @staticmethod
    def _rebase(arg: str, croot: Path, mounts: list[str]) -> str:
        for m in sorted(mounts, key=len, reverse=True):
            if arg == m or arg.startswith(m.rstrip("/") + "/"):
                return str(croot / arg.lstrip("/"))
        if arg == "/host":
            return str(croot / "host")
        return arg


def _waiting(reason: str, message: str) -> dict[str, Any]:
    return {"name": "collector", "ready": False, "state": {"waiting": {"reason": reason, "message": message}}}


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
