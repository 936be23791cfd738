"""Run short-lived pods in the cluster and remove them on every way out: success, failure, Ctrl-C, SIGTERM.

The one pod-run module, used by the node-facts collector (collect/live/collector_pods.py), the e2e
sample pods (e2e/sample_pods.py) and `multus-check cleanup` (leftovers.py). A run owns one ConfigMap
and its pods, in its own namespace (created, and removed at the end, unless it already existed),
all labelled `app.kubernetes.io/managed-by=multus-check` and with the run id. Every create goes
through the run, which keeps a ledger of what exists (and what may exist: a create or a delete that
got no answer), so that a second Ctrl-C or SIGTERM during cleanup names exactly what was left
behind, or says that nothing was. The run's pods are polled with one list call by label per poll
(`pods`), whatever their number, and each pod's log is read once with a byte limit (`log`). Cleanup
deletes by label (`run_selector`), so even objects whose create got no answer go. Signals themselves
are handled in `multus_check.signals`. May touch: the run's namespace and its labelled pods and
ConfigMaps, through the gateway.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from multus_check import signals
from multus_check.errors import ClusterAccessError, Conflict, Forbidden, NotFound, Unreachable
from multus_check.kube.access import Permission, allowed
from multus_check.kube.resources import CONFIGMAPS, NAMESPACES, PODS, Resource
from multus_check.model import new_run_id

if TYPE_CHECKING:
    from multus_check.kube.gateway import Gateway

log = logging.getLogger(__name__)

MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "multus-check"
RUN_LABEL = "multus-check.io/run-id"
COMPONENT_LABEL = "app.kubernetes.io/component"
MANAGED_SELECTOR = f"{MANAGED_BY}={MANAGER}"
#: container waiting reasons that do not resolve by themselves within a run (a pod that shows one is done)
UNRECOVERABLE_WAITING = frozenset({
    "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName",
    "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
})


def run_selector(run_id: str) -> str:
    return f"{MANAGED_SELECTOR},{RUN_LABEL}={run_id}"


def labels(run_id: str, component: str) -> dict[str, str]:
    return {MANAGED_BY: MANAGER, RUN_LABEL: run_id, COMPONENT_LABEL: component}


def namespace_manifest(name: str, run_id: str) -> dict[str, Any]:
    meta_labels = labels(run_id, "namespace")
    # hostNetwork and hostPath need the privileged Pod Security level in this namespace only.
    meta_labels["pod-security.kubernetes.io/enforce"] = "privileged"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": meta_labels}}


def run_once_spec(deadline: float) -> dict[str, Any]:
    """The pod spec fields every short-lived pod of a run shares (collector and sample pods): it runs
    once, is killed at its deadline, goes to any node whatever its taints, and gets no token."""
    return {"restartPolicy": "Never", "activeDeadlineSeconds": max(1, int(deadline)),
            "terminationGracePeriodSeconds": 1, "automountServiceAccountToken": False,
            "enableServiceLinks": False, "tolerations": [{"operator": "Exists"}]}


def pod_permissions(namespace: str, create_namespace: bool) -> tuple[Permission, ...]:
    """What a run's pods need in its namespace (read it, create the ConfigMap and pods, poll, read logs,
    delete them; create and remove the namespace when it does not exist)."""
    needed = [
        Permission("get", NAMESPACES, name=namespace),
        Permission("create", CONFIGMAPS, namespace),
        Permission("deletecollection", CONFIGMAPS, namespace),
        Permission("create", PODS, namespace),
        Permission("list", PODS, namespace),
        Permission("deletecollection", PODS, namespace),
        Permission("get", "pods/log", namespace),
    ]
    if create_namespace:
        needed += [Permission("create", NAMESPACES), Permission("delete", NAMESPACES, name=namespace)]
    return tuple(needed)


#: the namespace fixtures/rbac/node-facts.yaml creates and grants the run's pods in
RBAC_NAMESPACE = "multus-check"


def node_facts_manifest(namespace: str) -> str:
    """How to grant what the run's pods need in `namespace`: node-facts.yaml as shipped for its own namespace,
    else the exact edit that moves it (the Namespace, the Role and RoleBinding, the namespace `get`, and the
    name of that cluster-wide role, so the copy does not replace the shipped one)."""
    if namespace == RBAC_NAMESPACE:
        return "fixtures/rbac/node-facts.yaml (it grants them in namespace multus-check)"
    return (f"fixtures/rbac/node-facts.yaml adapted to namespace {namespace} (the file grants namespace multus-check): "
            f"sed -e 's/^  name: multus-check$/  name: {namespace}/' -e 's/namespace: multus-check,/namespace: {namespace},/' "
            f"-e 's/resourceNames: \\[multus-check\\]/resourceNames: [{namespace}]/' "
            f"-e 's/multus-check-namespace-get/multus-check-namespace-get-{namespace}/' fixtures/rbac/node-facts.yaml "
            "| kubectl apply -f -")


def run_permissions(gw: Gateway, namespace: str, extra: Sequence[Permission] = ()) -> tuple[dict[Permission, bool], bool | None]:
    """Reviews of what a run with pods in `namespace` needs (plus `extra`), and whether the namespace exists.

    Creating (and removing) the namespace is asked for only when it may not exist. Raises Forbidden
    when reviews cannot be asked at all.
    """
    wanted = [*extra, *pod_permissions(namespace, create_namespace=False)]
    answers = dict(zip(wanted, allowed(gw, wanted), strict=True))
    exists = namespace_exists(gw, namespace) if answers[Permission("get", NAMESPACES, name=namespace)] else None
    if exists is not True:  # it may have to be created (and then removed) by the run
        more = [p for p in pod_permissions(namespace, create_namespace=True) if p not in answers]
        answers.update(zip(more, allowed(gw, more), strict=True))
    return answers, exists


def namespace_exists(gw: Gateway, namespace: str) -> bool | None:
    try:
        gw.get(NAMESPACES, None, namespace)
    except NotFound:
        return False
    except ClusterAccessError:
        return None  # cannot tell (e.g. no `get namespaces`): assume it may need creating
    return True

#: ledger states: a create was sent (no answer yet); it succeeded; it got no clear answer (it may have
#: happened); a delete was sent (no answer yet); it is gone
CREATING, CREATED, MAYBE, DELETING, REMOVED = "creating", "created", "maybe", "deleting", "removed"
_LIVE = (CREATING, CREATED, MAYBE, DELETING)
_SHOWN_NAMES = 5


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

    def setup(self, code: dict[str, Any], namespace_exists: bool | None = None) -> None:
        """Make sure the namespace exists (create it if needed), then the ConfigMap with the pods' code."""
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
        self.create(CONFIGMAPS, code)

    def setup_waiting(self, code: dict[str, Any], wait: float = 60.0) -> None:
        """Like `setup`, but wait out a namespace still terminating from a previous run (the API refuses
        new objects in it), for at most `wait` seconds."""
        deadline = time.monotonic() + wait
        while True:
            try:
                existing = self.gateway.get(NAMESPACES, None, self.namespace)
            except NotFound:
                existing = None
            except Forbidden:
                break  # cannot look: assume an admin made it for us
            if existing is not None and (existing.get("status") or {}).get("phase") != "Terminating":
                break
            if existing is None:
                try:
                    self.create_namespace()
                    break
                except Conflict:
                    pass
            if time.monotonic() > deadline:
                raise ClusterAccessError(f"namespace {self.namespace} is still terminating after {wait:.0f} s")
            time.sleep(1.0)
        self.create(CONFIGMAPS, code)

    def create_namespace(self) -> None:
        self._create(NAMESPACES, None, namespace_manifest(self.namespace, self.run_id), "namespace")
        self.created_namespace = True
        log.info("created namespace %s for run %s", self.namespace, self.run_id)

    def create(self, resource: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        """Create a pod or ConfigMap of this run in its namespace, keeping the ledger."""
        return self._create(resource, self.namespace, obj, "pod" if resource is PODS else resource.kind)

    # -- watching -------------------------------------------------------------------------------

    def pods(self) -> dict[str, dict[str, Any]]:
        """This run's pods by name: one list call by label, however many there are."""
        return {str(p["metadata"]["name"]): p
                for p in self.gateway.list(PODS, namespace=self.namespace, label_selector=run_selector(self.run_id))}

    def log(self, pod: str, container: str, limit_bytes: int) -> str:
        """A pod's log (its last `limit_bytes`); the gateway's errors (Invalid: the container never started)."""
        return self.gateway.pod_log(self.namespace, pod, container, limit_bytes)

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
