"""Invoke CNI plugin binaries the way a runtime (or Multus) does: env vars + config on stdin.

Why it exists: the node data-path probe must exercise the node's own plugins exactly as
Multus would, so a failure shows the same error text a pod sandbox would get. Per the CNI
spec (v0.3.1-1.0.0): CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH in the
environment, the network config as JSON on stdin, the result or error as JSON on stdout.
For a conflist, each plugin is called in order with `prevResult` (DEL in reverse order). As
libcni does, each plugin's config goes on stdin with its keys sorted (libcni re-encodes it from a
Go map), and a plugin's `type` is read in any capitalisation, as Go's structs read it.

What it touches: it executes plugin binaries, optionally inside a named network namespace
(`ip netns exec`) so that names like the macvlan `master` resolve there (netns-lab.md §5.1).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from dataclasses import dataclass, field, replace
from typing import Any

from multus_check.domain.cniconf import NetConf, plugin_type

log = logging.getLogger(__name__)
PLUGIN_TIMEOUT = 300.0  # a dhcp IPAM with default daemon flags can block ~208 s (multus-cni.md F9)


def find_plugin(name: str, cni_path: list[str]) -> str | None:
    """The first executable `name` in the CNI_PATH dirs (what libcni's FindInPath does)."""
    for d in cni_path:
        candidate = os.path.join(d, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_in_path_error(name: str, cni_path: list[str]) -> str:
    """libcni's exact message for a missing binary (invoke.FindInPath, multus-cni.md F1)."""
    return f'failed to find plugin "{name}" in path [{" ".join(cni_path)}]'


@dataclass(frozen=True)
class CniCall:
    """One plugin invocation and what came back."""

    plugin: str
    command: str
    rc: int
    seconds: float
    result: dict[str, Any] | None = None
    error_code: int | None = None
    error_msg: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.rc == 0 and self.error_code is None

    def to_dict(self) -> dict[str, Any]:
        return {"plugin": self.plugin, "command": self.command, "rc": self.rc, "seconds": round(self.seconds, 3),
                "error_code": self.error_code, "error": self.error_msg or None, "stderr": self.stderr[-2000:] or None}


@dataclass
class Attachment:
    """Where to attach: the container id, its netns path, the interface name and the plugin dirs."""

    container_id: str
    netns_path: str
    ifname: str
    cni_path: list[str]
    run_in_netns: str | None = None  # named netns to exec the plugin in (None: this one)
    calls: list[CniCall] = field(default_factory=list)

    def env(self, command: str) -> dict[str, str]:
        return {"CNI_COMMAND": command, "CNI_CONTAINERID": self.container_id, "CNI_NETNS": self.netns_path,
                "CNI_IFNAME": self.ifname, "CNI_PATH": ":".join(self.cni_path),
                "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}


def _exec(att: Attachment, command: str, plugin: dict[str, Any], binary: str) -> CniCall:
    argv = [binary] if att.run_in_netns is None else ["ip", "netns", "exec", att.run_in_netns, binary]
    t0 = time.monotonic()
    try:
        out = subprocess.run(argv, input=json.dumps(plugin, sort_keys=True), env=att.env(command), capture_output=True, text=True,
                             timeout=PLUGIN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return CniCall(plugin_type(plugin), command, -1, time.monotonic() - t0,
                       error_msg=f"plugin did not return within {PLUGIN_TIMEOUT:.0f} s")
    except OSError as exc:
        return CniCall(plugin_type(plugin), command, -1, time.monotonic() - t0, error_msg=f"exec {binary}: {exc}")
    seconds = time.monotonic() - t0
    data = _json_or_none(out.stdout)
    if out.returncode == 0:
        return CniCall(plugin_type(plugin), command, 0, seconds, result=data, stderr=out.stderr)
    code = data.get("code") if isinstance(data, dict) else None
    msg = str(data.get("msg", "")) if isinstance(data, dict) else (out.stdout.strip() or out.stderr.strip())
    details = str(data.get("details", "")) if isinstance(data, dict) else ""
    if details:
        msg = f"{msg}: {details}"
    return CniCall(plugin_type(plugin), command, out.returncode, seconds, None,
                   int(code) if isinstance(code, int) else None, msg, out.stderr)


def _json_or_none(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def add(att: Attachment, conf: NetConf) -> CniCall:
    """CNI ADD of every plugin in order, each given the previous result (`prevResult`).

    Stops at the first failure, which it returns. On success it returns the last plugin's
    result (the chain's result) with the whole chain's time, named after every plugin.
    """
    prev: dict[str, Any] | None = None
    calls: list[CniCall] = []
    for plugin in conf.plugins:
        calls.append(_call(att, "ADD", plugin, prev))
        if not calls[-1].ok:
            return calls[-1]
        prev = calls[-1].result
    assert calls  # parse_netconf guarantees at least one plugin
    if len(calls) == 1:
        return calls[0]
    return replace(calls[-1], plugin="+".join(c.plugin for c in calls), seconds=sum(c.seconds for c in calls),
                   stderr="".join(c.stderr for c in calls))


def delete(att: Attachment, conf: NetConf, prev: dict[str, Any] | None) -> list[CniCall]:
    """CNI DEL of every plugin in reverse order; all are tried even when one fails."""
    return [_call(att, "DEL", plugin, prev) for plugin in reversed(conf.plugins)]


def _call(att: Attachment, command: str, plugin: dict[str, Any], prev: dict[str, Any] | None) -> CniCall:
    stdin = dict(plugin)
    if prev is not None:
        stdin["prevResult"] = prev
    binary = find_plugin(plugin_type(plugin), att.cni_path)
    if binary is None:
        call = CniCall(plugin_type(plugin), command, -1, 0.0, error_code=None,
                       error_msg=find_in_path_error(plugin_type(plugin), att.cni_path))
    else:
        call = _exec(att, command, stdin, binary)
    log.debug("CNI %s %s -> rc %s in %.3f s %s", command, plugin_type(plugin), call.rc, call.seconds, call.error_msg)
    att.calls.append(call)
    return call
