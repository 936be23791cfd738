"""A fake kubelet that attaches sample pods FOR REAL, in a netns lab, as Multus would.

When the e2e runner creates a sample pod in the emulator, this kubelet:
1. makes a pod network namespace (named with the lab's pod prefix, so `lab down` also finds it);
2. gives it an eth0 like flannel does: a veth to a "cluster" namespace (bridge cni0 10.42.0.1/24,
   the cluster DNS 10.43.0.10 served by dnsmasq, the kubernetes Service IP 10.43.0.1), routes
   `10.42.0.0/16` and `default` via 10.42.0.1, plus `10.43.0.0/16` via eth0 unless
   `service_route=False` (then net1's DHCP default route, prepended later, takes Service traffic);
3. runs the REAL CNI macvlan plugin with the NAD's config in the lab's node namespace, with the
   lab's real DHCP daemon; on failure posts the FailedCreatePodSandBox event Multus/containerd
   would (exact Multus prefix, multus-cni.md §4) and leaves the pod ContainerCreating;
4. writes `network-status` from the CNI result, sets the pod Running, runs the pod's command
   inside the namespace (ConfigMap files written out, /etc/resolv.conf bind-mounted in a private
   mount namespace), serves stdout as the pod's log, sets Succeeded/Failed;
5. runs CNI DEL and removes the pod namespace right after.

All traffic stays inside namespaces it or the lab made; it ends only the processes it started
(dnsmasq, by PID) and removes its namespaces also on failure.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from multus_check.domain.cniconf import NetConf, parse_netconf
from multus_check.e2e.sample_manifest import COMPONENT, NETWORKS_ANNOTATION, STATUS_ANNOTATION
from multus_check.lab.config import LabState
from multus_check.probes import cni, netns
from tests.api.emulator import ClusterEmulator

CLUSTER_GW, DNS_IP, API_IP, SERVICE_CIDR = "10.42.0.1", "10.43.0.10", "10.43.0.1", "10.43.0.0/16"


def ip(*args: str) -> None:
    out = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {out.stderr.strip()}")


@dataclass
class LabKubelet:
    emulator: ClusterEmulator
    lab: LabState
    service_route: bool = True
    probe_timeout: float = 60.0
    #: node name -> that node's own master NIC (tests/e2e/switch.py); else the NAD's master everywhere
    masters: dict[str, str] = field(default_factory=dict)
    pods_run: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a kubelet bug must fail the test, not hang it
    timings: dict[str, float] = field(default_factory=dict)
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _index: int = 0
    _dns_pid: int | None = None
    _workdir: Path | None = None

    @property
    def cluster_ns(self) -> str:
        return f"{self.lab.pod_ns_prefix}cl"

    # -- the "cluster" side: bridge, cluster DNS --------------------------------------------------

    def start(self) -> None:
        """Build the cluster namespace; call before the harness starts (blocking)."""
        self._workdir = Path(tempfile.mkdtemp(prefix="mce2e", dir="/tmp"))
        try:
            netns.create(self.cluster_ns)
            ip("-n", self.cluster_ns, "link", "add", "cni0", "type", "bridge")
            ip("-n", self.cluster_ns, "addr", "add", f"{CLUSTER_GW}/24", "dev", "cni0")
            ip("-n", self.cluster_ns, "link", "set", "cni0", "up")
            for addr in (DNS_IP, API_IP):
                ip("-n", self.cluster_ns, "addr", "add", f"{addr}/32", "dev", "lo")
            proc = subprocess.Popen(
                ["ip", "netns", "exec", self.cluster_ns, "dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground",
                 "--no-resolv", "--no-hosts", f"--listen-address={DNS_IP}", "--bind-interfaces",
                 "--local=/cluster.local/", f"--address=/kubernetes.default.svc.cluster.local/{API_IP}",
                 f"--pid-file={self._workdir}/dns.pid"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            self._dns_pid = proc.pid
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._dns_pid is not None:
            try:
                os.kill(self._dns_pid, signal.SIGTERM)
                os.waitpid(self._dns_pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self._dns_pid = None
        for name in netns.listed(self.lab.pod_ns_prefix):
            for pid in netns.pids_in(name):  # only processes inside our own namespaces
                os.kill(pid, signal.SIGKILL)
            netns.remove(name)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    # -- the kubelet loop (runs in the emulator's event loop) ----------------------------------------

    async def run(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                for (res, ns, name), obj in list(self.emulator.objects.items()):
                    if res.plural != "pods" or obj.deleted or (ns, name) in self._seen:
                        continue
                    raw = obj.raw
                    if (raw["metadata"].get("labels") or {}).get("app.kubernetes.io/component") != COMPONENT:
                        continue
                    self._seen.add((ns, name))
                    self._index += 1
                    task = asyncio.create_task(self._run_pod(ns, name, raw, self._index))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                await asyncio.sleep(0.02)
        finally:
            # let running pods finish their CNI DEL (a thread cannot be cancelled), then give up
            if tasks:
                await asyncio.wait(set(tasks), timeout=15)
            for task in tasks:
                task.cancel()

    def _patch(self, ns: str, name: str, changes: dict[str, Any]) -> None:
        obj = self.emulator.objects["v1/pods", ns, name]
        if not obj.deleted:
            obj.patch(changes)

    async def _run_pod(self, ns: str, name: str, pod: dict[str, Any], index: int) -> None:
        t0 = time.monotonic()
        pod_ns = f"{self.lab.pod_ns_prefix}e{index}{secrets.token_hex(2)}"
        nad_ns, nad_name = _nad_of(pod)
        nad = next((o for o in self.emulator.live("k8s.cni.cncf.io/v1/network-attachment-definitions", nad_ns)
                    if o["metadata"]["name"] == nad_name), None)
        self._patch(ns, name, {"status": {"phase": "Pending", "containerStatuses": [_waiting("ContainerCreating")]}})
        try:
            conf_text = self._node_conf((nad or {}).get("spec", {}).get("config", ""), pod)
            att = cni.Attachment(uuid.uuid4().hex, netns.netns_path(pod_ns), "net1", [str(self.lab.cni_bin)],
                                 run_in_netns=self.lab.node_ns)
            conf = parse_netconf(conf_text, f"NAD {nad_ns}/{nad_name}")
            call = await asyncio.to_thread(self._sandbox, pod_ns, index, att, conf)
            self.timings.setdefault("add", time.monotonic() - t0)
            if not call.ok:
                uid = pod["metadata"].get("uid", "")
                message = (f'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for '
                           f'sandbox "{att.container_id}": plugin type="multus" name="multus-cni-network" failed (add): '
                           f'[{ns}/{name}/{uid}:{nad_name}]: error adding container to network "{nad_name}": '
                           f"{call.error_msg}")
                self.emulator.put({"apiVersion": "v1", "kind": "Event", "type": "Warning",
                                   "reason": "FailedCreatePodSandBox", "message": message,
                                   "metadata": {"name": f"{name}.{secrets.token_hex(4)}", "namespace": ns},
                                   "involvedObject": {"kind": "Pod", "name": name, "namespace": ns}})
                await asyncio.to_thread(self._teardown, pod_ns, att, conf, None)
                return
            result = call.result or {}
            self._patch(ns, name, {"metadata": {"annotations": {STATUS_ANNOTATION: _network_status(
                pod_ns, f"{nad_ns}/{nad_name}", result)}}})
            self._patch(ns, name, {"status": {"phase": "Running", "containerStatuses": [
                {"name": "probe", "ready": True, "state": {"running": {}}}]}})
            self.pods_run.append(name)
            code, output = await asyncio.to_thread(self._exec, pod_ns, pod)
            self.emulator.logs[(ns, name)] = output
            self._patch(ns, name, {"status": {"phase": "Succeeded" if code in (0, 3) else "Failed", "containerStatuses": [
                {"name": "probe", "ready": False, "state": {"terminated": {
                    "exitCode": code, "reason": "Completed" if code == 0 else "Error"}}}]}})
            self.timings.setdefault("pod", time.monotonic() - t0)
            await asyncio.to_thread(self._teardown, pod_ns, att, conf, result)
        except Exception as exc:
            self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            raise
        finally:
            await asyncio.to_thread(_remove_netns, pod_ns)

    def _node_conf(self, conf_text: str, pod: dict[str, Any]) -> str:
        """The NAD as Multus on the pod's node applies it: `master` names that node's own NIC."""
        master = self.masters.get(str(pod["spec"].get("nodeName", "")))
        if master is None:
            return conf_text
        conf = json.loads(conf_text)
        main = conf["plugins"][0] if isinstance(conf.get("plugins"), list) else conf  # a conflist: its macvlan
        main["master"] = master
        return json.dumps(conf)

    # -- blocking parts (threads) --------------------------------------------------------------------

    def _sandbox(self, pod_ns: str, index: int, att: cni.Attachment, conf: NetConf) -> cni.CniCall:
        """eth0 first (the cluster default network), then net1 through the real plugin."""
        # iproute2, not pyroute2: pyroute2's NetNS forks a helper, and forking from this worker
        # thread while the emulator's loop runs elsewhere can deadlock the child
        ip("netns", "add", pod_ns)
        ip("-n", pod_ns, "link", "set", "lo", "up")
        peer = f"vp{index}"
        addr = f"10.42.0.{10 + index}"
        ip("-n", pod_ns, "link", "add", "eth0", "type", "veth", "peer", "name", peer, "netns", self.cluster_ns)
        ip("-n", self.cluster_ns, "link", "set", peer, "master", "cni0", "up")
        ip("-n", pod_ns, "addr", "add", f"{addr}/24", "dev", "eth0")
        ip("-n", pod_ns, "link", "set", "eth0", "up")
        ip("-n", pod_ns, "route", "add", "10.42.0.0/16", "via", CLUSTER_GW, "dev", "eth0")
        if self.service_route:
            ip("-n", pod_ns, "route", "add", SERVICE_CIDR, "via", CLUSTER_GW, "dev", "eth0")
        ip("-n", pod_ns, "route", "add", "default", "via", CLUSTER_GW, "dev", "eth0")
        return cni.add(att, conf)

    def _exec(self, pod_ns: str, pod: dict[str, Any]) -> tuple[int, str]:
        assert self._workdir is not None
        root = Path(tempfile.mkdtemp(prefix="pod", dir=self._workdir))
        container = pod["spec"]["containers"][0]
        mounts: dict[str, Path] = {}
        for m in container.get("volumeMounts") or []:
            cm_name = next(v["configMap"]["name"] for v in pod["spec"]["volumes"] if v["name"] == m["name"])
            cm = next(o for o in self.emulator.live("v1/configmaps", pod["metadata"]["namespace"])
                      if o["metadata"]["name"] == cm_name)
            target = root / m["mountPath"].lstrip("/")
            target.mkdir(parents=True)
            for key, text in cm["data"].items():
                (target / key).write_text(text)
            mounts[m["mountPath"]] = target
        argv = [sys.executable if a == "python3" else _rebase(a, mounts) for a in container["command"]]
        resolv = root / "resolv.conf"
        resolv.write_text(f"nameserver {DNS_IP}\nsearch {pod['metadata']['namespace']}.svc.cluster.local "
                          "svc.cluster.local cluster.local\noptions ndots:5 timeout:1 attempts:1\n")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "MULTUS_CHECK_NODE": str(pod["spec"].get("nodeName", ""))}
        # ip netns exec gives the command a private mount namespace: the bind mount stays in it
        shell = ['ip', 'netns', 'exec', pod_ns, 'sh', '-c', f'mount --bind {resolv} /etc/resolv.conf && exec "$@"',
                 "sh", *argv]
        try:
            out = subprocess.run(shell, capture_output=True, text=True, timeout=self.probe_timeout, env=env, check=False)
        except subprocess.TimeoutExpired as exc:
            return 137, str(exc.stdout or "")
        return out.returncode, out.stdout + out.stderr[-2000:]

    def _teardown(self, pod_ns: str, att: cni.Attachment, conf: NetConf, result: dict[str, Any] | None) -> None:
        cni.delete(att, conf, result)
        _remove_netns(pod_ns)  # also removes a macvlan the plugin leaked after an IPAM failure


def _nad_of(pod: dict[str, Any]) -> tuple[str, str]:
    entries = json.loads(pod["metadata"]["annotations"][NETWORKS_ANNOTATION])
    return str(entries[0].get("namespace") or pod["metadata"]["namespace"]), str(entries[0]["name"])


def _network_status(pod_ns: str, nad_ref: str, result: dict[str, Any]) -> str:
    """The annotation Multus writes after a successful ADD (multus-cni.md §3.3, §11)."""
    shown = subprocess.run(["ip", "-n", pod_ns, "-j", "-4", "addr", "show", "dev", "eth0"], capture_output=True,
                           text=True, timeout=10, check=False).stdout
    eth0_ips = [a["local"] for link in json.loads(shown or "[]") for a in link.get("addr_info") or []]
    mac = next((i.get("mac") for i in result.get("interfaces") or [] if i.get("name") == "net1"), None)
    ips = [str(i["address"]).split("/")[0] for i in result.get("ips") or []]
    gws = [str(i["gateway"]) for i in result.get("ips") or [] if i.get("gateway")]
    return json.dumps([
        {"name": "cbr0", "interface": "eth0", "ips": eth0_ips,
         "default": True, "dns": {}, "gateway": [CLUSTER_GW]},
        {"name": nad_ref, "interface": "net1", "ips": ips, "mac": mac, "dns": {}, "gateway": gws},
    ])


def _remove_netns(name: str) -> None:
    if netns.exists(name):
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10, check=False)


def _rebase(arg: str, mounts: dict[str, Path]) -> str:
    for mount, target in mounts.items():
        if arg.startswith(mount.rstrip("/") + "/"):
            return str(target / arg[len(mount.rstrip("/")) + 1:])
    return arg


def _waiting(reason: str) -> dict[str, Any]:
    return {"name": "probe", "ready": False, "state": {"waiting": {"reason": reason, "message": ""}}}
