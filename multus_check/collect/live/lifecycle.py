"""Create a run's objects, and remove them on every way out: success, failure, Ctrl-C, SIGTERM.

A run owns one ConfigMap and its pods (collector or sample pods), in its own namespace (created,
and removed at the end, unless it already existed). Every create goes through the run, which keeps
a ledger of what exists (and what may exist: a create or a delete that got no answer), so that a
second Ctrl-C or SIGTERM during cleanup names exactly what was left behind, or says that nothing
was. Cleanup deletes by label (`run_selector`), so even objects whose create got no answer go.
`multus-check cleanup` (leftovers.py) finds the leftovers of any earlier run the same way.
Signals themselves are handled in `multus_check.signals`.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from multus_check import signals
from multus_check.collect.live.bundle import Bundle
from multus_check.collect.live.podspec import (
    configmap_manifest,
    namespace_manifest,
    run_selector,
)
from multus_check.errors import ClusterAccessError, Forbidden, NotFound, Terminated, Unreachable
from multus_check.kube import Gateway
from multus_check.kube.resources import CONFIGMAPS, NAMESPACES, PODS, Resource

log = logging.getLogger(__name__)

__all__ = ["Run", "Terminated", "delete_run_objects", "finish", "new_run_id"]

#: ledger states: a create was sent (no answer yet); it succeeded; it got no clear answer (it may have
#: happened); a delete was sent (no answer yet); it is gone
CREATING, CREATED, MAYBE, DELETING, REMOVED = "creating", "created", "maybe", "deleting", "removed"
_LIVE = (CREATING, CREATED, MAYBE, DELETING)
_SHOWN_NAMES = 5


def new_run_id() -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


@dataclass
class _Entry:
    kind: str  # "pod", "ConfigMap", "namespace"
    name: str
    state: str = CREATING


@dataclass
class Run:
    gateway: Gateway
    namespace: str
    run_id: str = field(default_factory=new_run_id)
    created_namespace: bool = False
    removed: bool = False
    _ledger: list[_Entry] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- creating -------------------------------------------------------------------------------

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
            self.create_namespace()
        self.create(CONFIGMAPS, configmap_manifest(self.namespace, self.run_id, bundle))

    def create_namespace(self) -> None:
        self._create(NAMESPACES, None, namespace_manifest(self.namespace, self.run_id), "namespace")
        self.created_namespace = True
        log.info("created namespace %s for run %s", self.namespace, self.run_id)

    def create(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        """Create a pod or ConfigMap of this run in its namespace, keeping the ledger."""
        return self._create(resource, self.namespace, obj, "pod" if resource is PODS else resource.kind)

    def _create(self, resource: Resource, namespace: str | None, obj: dict[str, Any], kind: str) -> dict[str, Any]:
        entry = _Entry(kind, str(obj["metadata"]["name"]))
        with self._lock:
            self._ledger.append(entry)
        try:
            answer = self.gateway.create(resource, namespace, obj)
        except Unreachable:
            entry.state = MAYBE  # no clear answer: it may exist (cleanup by label removes it if so)
            raise
        except BaseException:
            with self._lock:
                self._ledger = [e for e in self._ledger if e is not entry]
            raise
        entry.state = CREATED
        return answer

    # -- removing -------------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Delete everything of this run; raises ClusterAccessError if something could not go."""
        for resource, kind in ((PODS, "pod"), (CONFIGMAPS, "ConfigMap")):
            with self._deleting(kind):
                delete_run_objects(self.gateway, self.namespace, run_selector(self.run_id), (resource,))
        if self.created_namespace:
            with self._deleting(None), contextlib.suppress(NotFound):
                self.gateway.delete(NAMESPACES, None, self.namespace)
        self.removed = True

    @contextlib.contextmanager
    def _deleting(self, kind: str | None) -> Iterator[None]:
        """Mark the entries of `kind` (None: all, the namespace takes everything along) deleting, then removed."""
        with self._lock:
            entries = [e for e in self._ledger if (kind is None or e.kind == kind) and e.state in _LIVE]
            before = {id(e): e.state for e in entries}
            for e in entries:
                e.state = DELETING
        try:
            yield
        except Unreachable:
            raise  # no clear answer: they stay "deletion requested"
        except BaseException:
            for e in entries:
                e.state = before[id(e)]
            raise
        for e in entries:
            e.state = REMOVED

    # -- describing -----------------------------------------------------------------------------

    def left_behind(self) -> str:
        """What of this run is in the cluster now, exactly ("" when nothing), with the command that removes it."""
        with self._lock:
            live = [_Entry(e.kind, e.name, e.state) for e in self._ledger if e.state in _LIVE]
        if not live:
            return ""
        namespace = next((e for e in live if e.kind == "namespace"), None)
        inside = _summary([e for e in live if e.kind != "namespace"])
        if namespace is not None:
            what = f"namespace {self.namespace} (created by this run{_qualifier(namespace.state)})"
            what += f" with {inside}" if inside else ""
        else:
            what = f"{inside} in namespace {self.namespace}"
        return f"{what}; remove with: multus-check cleanup --namespace {self.namespace}" + _context_hint(self.gateway)

    def leftovers_text(self) -> str:
        return self.left_behind() or "nothing (everything this run created is removed)"

    def removed_text(self) -> str:
        """After a successful cleanup: what it removed."""
        with self._lock:
            gone = [e for e in self._ledger if e.state == REMOVED]
        if not gone:
            return "this run had created nothing in the cluster yet"
        return f"removed what this run had created: {_summary(gone, names=False)}"

    def keep_text(self) -> str:
        sel = run_selector(self.run_id)
        return (f"kept for debugging: {self.leftovers_text()}\n"
                f"  or: kubectl delete pods,configmaps -n {self.namespace} -l '{sel}'"
                + (f" && kubectl delete namespace {self.namespace}" if self.created_namespace else ""))


def _qualifier(state: str) -> str:
    return {CREATING: ", creation in flight", MAYBE: ", possibly: its create got no answer",
            DELETING: ", deletion requested, not confirmed"}.get(state, "")


def _summary(entries: list[_Entry], names: bool = True) -> str:
    """'3 pods (a, b, c; deletion requested, not confirmed) and 1 ConfigMap (x)' for the entries given."""
    parts = []
    for kind in dict.fromkeys(e.kind for e in entries):
        group = [e for e in entries if e.kind == kind]
        if kind == "namespace":
            parts.append(f"namespace {group[0].name}")
            continue
        text = f"{len(group)} {kind if len(group) == 1 else kind + 's'}"
        if names:
            shown = ", ".join(e.name for e in group[:_SHOWN_NAMES])
            if len(group) > _SHOWN_NAMES:
                shown += f" and {len(group) - _SHOWN_NAMES} more"
            notes = sorted({_qualifier(e.state).removeprefix(", ") for e in group if _qualifier(e.state)})
            text += f" ({shown}{''.join('; ' + n for n in notes)})"
        parts.append(text)
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def _context_hint(gw: Gateway) -> str:
    return f" --context {gw.target.context}" if gw.target.context else ""


def delete_run_objects(gw: Gateway, namespace: str, selector: str,
                       resources: tuple[Resource, ...] = (PODS, CONFIGMAPS)) -> None:
    for resource in resources:
        gw.request("DELETE", resource.path(namespace), query={"labelSelector": selector},
                   verb="deletecollection", resource=resource.rbac_name, namespace=namespace)


def finish(run: Run, keep: bool, notify: Callable[[str], None]) -> None:
    """End a run: keep (and say how to remove), or clean up, telling the user what is left on failure.

    While a Ctrl-C or SIGTERM unwinds, the outcome goes into the one final line instead.
    """
    if keep:
        notify(run.keep_text())
        return
    tell = signals.report if signals.interrupted() else notify
    with signals.cleaning():
        try:
            run.cleanup()
        except ClusterAccessError as exc:
            tell(f"cleanup failed ({exc}); left behind: {run.leftovers_text()}")
            return
    if signals.interrupted():
        signals.report(run.removed_text())
