"""Create a run's objects, and remove them on every way out: success, failure, Ctrl-C, SIGTERM.

A run owns one ConfigMap and its collector pods, in its own namespace (created, and removed at
the end, unless it already existed). Cleanup deletes by label (`run_selector`), so it needs no
memory of what was created, and `cleanup_leftovers` finds the leftovers of any earlier run the
same way. SIGTERM is turned into an exception so the same `finally` runs; during cleanup a
second Ctrl-C exits at once and says what was left behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from multus_check.collect.live.bundle import Bundle
from multus_check.collect.live.options import DEFAULT_NAMESPACE
from multus_check.collect.live.podspec import (
    MANAGED_SELECTOR,
    configmap_manifest,
    namespace_manifest,
    run_selector,
)
from multus_check.errors import ClusterAccessError, Forbidden, NotFound
from multus_check.kube import Gateway
from multus_check.kube.resources import CONFIGMAPS, NAMESPACES, PODS

log = logging.getLogger(__name__)


class Terminated(BaseException):
    """SIGTERM arrived; raised in the main thread so cleanup runs like for Ctrl-C."""


def new_run_id() -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


@dataclass
class Run:
    gateway: Gateway
    namespace: str
    run_id: str = field(default_factory=new_run_id)
    created_namespace: bool = False
    removed: bool = False

    def setup(self, bundle: Bundle, namespace_exists: bool | None = None) -> None:
        """Make sure the namespace exists (create it if needed), then the code ConfigMap."""
        if namespace_exists is None:
            try:
                self.gateway.get(NAMESPACES, None, self.namespace)
                namespace_exists = True
            except NotFound:
                namespace_exists = False
            except Forbidden:
                namespace_exists = True  # cannot look: assume the admin made it for us
        if not namespace_exists:
            self.gateway.create(NAMESPACES, None, namespace_manifest(self.namespace, self.run_id))
            self.created_namespace = True
            log.info("created namespace %s for run %s", self.namespace, self.run_id)
        self.gateway.create(CONFIGMAPS, self.namespace, configmap_manifest(self.namespace, self.run_id, bundle))

    def cleanup(self) -> None:
        """Delete everything of this run; raises ClusterAccessError if something could not go."""
        delete_run_objects(self.gateway, self.namespace, run_selector(self.run_id))
        if self.created_namespace:
            with contextlib.suppress(NotFound):
                self.gateway.delete(NAMESPACES, None, self.namespace)
        self.removed = True

    def leftovers_text(self) -> str:
        what = f"namespace {self.namespace}" if self.created_namespace else (
            f"the pods and ConfigMap labelled {RUN_HINT}{self.run_id} in namespace {self.namespace}")
        return f"{what}; remove with: multus-check cleanup --namespace {self.namespace}" + _context_hint(self.gateway)

    def keep_text(self) -> str:
        sel = run_selector(self.run_id)
        return (f"kept for debugging: {self.leftovers_text()}\n"
                f"  or: kubectl delete pods,configmaps -n {self.namespace} -l '{sel}'"
                + (f" && kubectl delete namespace {self.namespace}" if self.created_namespace else ""))


RUN_HINT = "multus-check.io/run-id="


def _context_hint(gw: Gateway) -> str:
    return f" --context {gw.target.context}" if gw.target.context else ""


def delete_run_objects(gw: Gateway, namespace: str, selector: str) -> None:
    for resource in (PODS, CONFIGMAPS):
        gw.request("DELETE", resource.path(namespace), query={"labelSelector": selector},
                   verb="deletecollection", resource=resource.rbac_name, namespace=namespace)


@dataclass
class CleanupReport:
    namespaces: list[str] = field(default_factory=list)
    objects: dict[str, int] = field(default_factory=dict)  # namespace -> pods+configmaps removed

    @property
    def empty(self) -> bool:
        return not self.namespaces and not self.objects


def cleanup_leftovers(gw: Gateway, namespace: str | None = None) -> CleanupReport:
    """Remove what any multus-check run left: its namespaces, and its labelled pods/ConfigMaps."""
    report = CleanupReport()
    try:
        owned = gw.list(NAMESPACES, label_selector=MANAGED_SELECTOR)
    except Forbidden as exc:
        log.warning("cannot list namespaces (%s); looking only inside namespaces", exc)
        owned = []
    for ns_obj in owned:
        name = str(ns_obj["metadata"]["name"])
        if namespace is None or name == namespace:
            gw.delete(NAMESPACES, None, name)
            report.namespaces.append(name)
    for resource in (PODS, CONFIGMAPS):
        try:
            found = gw.list(resource, namespace=namespace, label_selector=MANAGED_SELECTOR)
        except Forbidden:
            if namespace is not None:
                raise
            found = gw.list(resource, namespace=DEFAULT_NAMESPACE, label_selector=MANAGED_SELECTOR)
        for obj in found:
            where = str(obj["metadata"].get("namespace", ""))
            if where not in report.namespaces:
                report.objects[where] = report.objects.get(where, 0) + 1
    for where in report.objects:
        delete_run_objects(gw, where, MANAGED_SELECTOR)
    return report


@contextlib.contextmanager
def sigterm_as_exception() -> Iterator[None]:
    """While active, SIGTERM raises `Terminated` in the main thread (elsewhere: no change)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def second_interrupt_exits(left_behind: Callable[[], str]) -> Iterator[None]:
    """During cleanup: another Ctrl-C (or SIGTERM) exits at once, saying what was left."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        sys.stderr.write(f"\nmultus-check: cleanup interrupted; left behind: {left_behind()}\n")
        sys.stderr.flush()
        os._exit(130)

    previous: list[Any] = [signal.signal(signal.SIGINT, handler), signal.signal(signal.SIGTERM, handler)]
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def finish(run: Run, keep: bool, notify: Callable[[str], None]) -> None:
    """End a run: keep (and say how to remove), or clean up, telling the user what is left on failure."""
    if keep:
        notify(run.keep_text())
        return
    with second_interrupt_exits(run.leftovers_text):
        try:
            run.cleanup()
        except ClusterAccessError as exc:
            notify(f"cleanup failed ({exc}); left behind: {run.leftovers_text()}")
