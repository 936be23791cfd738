"""Check permissions up front with SelfSubjectAccessReviews, and say in one message what is missing.

The review asks for every permission the chosen mode will use, before the first request that
needs it, so a documented mode under its documented RBAC never meets a 403. Three tiers. Without
what node facts need (read the run's namespace, create its ConfigMap and pods, read pod logs,
delete them; create the namespace if it does not exist) the run cannot work: it stops before
creating anything, naming every missing verb/resource and the manifest that grants them, or
`--no-node-facts`. Missing read permissions do not stop the run: they are reported together in
one warning, and those sections are marked forbidden so the checks that need them report
`error`. The Service CIDR dry-run probe is optional: without `create services` where it would
run, it is skipped (and says so in `facts.serviceCIDR.tried`) instead of being refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from multus_check.collect.live.api import READ_PERMISSIONS
from multus_check.errors import Forbidden
from multus_check.kube.access import Permission, allowed
from multus_check.kube.podrun import namespace_exists, node_facts_manifest, run_permissions
from multus_check.kube.resources import SERVICES

if TYPE_CHECKING:
    from multus_check.kube import Gateway

log = logging.getLogger(__name__)

__all__ = ["READS", "Permission", "PreflightResult", "preflight", "probe_permission"]

#: every read api.py makes (READ_PERMISSIONS says which read needs which)
READS = tuple(p for needs in READ_PERMISSIONS.values() for p in needs)


def probe_permission(namespace: str) -> Permission:
    """The Service CIDR probe: a server-side dry-run Service (creates nothing) in `namespace`."""
    return Permission("create", SERVICES, namespace)


@dataclass(frozen=True)
class PreflightResult:
    checked: bool
    missing_reads: tuple[Permission, ...] = ()
    namespace_exists: bool | None = None
    #: may the Service CIDR probe run (None: no probe wanted, or could not be checked)
    probe_allowed: bool | None = None


def preflight(gw: Gateway, node_facts: bool, namespace: str, probe_namespace: str | None = None) -> PreflightResult:
    """Raise Forbidden naming every missing permission node facts need; return missing reads."""
    wanted = list(READS)
    probe = probe_permission(probe_namespace) if probe_namespace else None
    if probe is not None:
        wanted.append(probe)
    try:
        if node_facts:
            answers, exists = run_permissions(gw, namespace, wanted)
        else:
            answers, exists = dict(zip(wanted, allowed(gw, wanted), strict=True)), None
    except Forbidden as exc:
        log.warning("cannot check permissions up front (%s); continuing, forbidden reads will be reported", exc)
        return PreflightResult(False, namespace_exists=namespace_exists(gw, namespace) if node_facts else None)
    missing = [p for p, ok in answers.items() if not ok]
    _stop_if_node_facts_impossible([p for p in missing if p not in READS and p != probe], namespace)
    optional = tuple(p for p in missing if p in READS or p == probe)
    if optional:
        log.warning(
            "RBAC forbids: %s. Those parts are marked forbidden and the checks that need them report error%s "
            "(fixtures/rbac/readonly.yaml grants the reads).", "; ".join(map(str, optional)),
            "; the Service CIDR dry-run probe is skipped" if probe in optional else "",
        )
    return PreflightResult(True, tuple(p for p in missing if p in READS), exists,
                           None if probe is None else answers[probe])


def _stop_if_node_facts_impossible(fatal: list[Permission], namespace: str) -> None:
    if fatal:
        raise Forbidden(
            "missing permissions for node facts: " + "; ".join(map(str, fatal))
            + f". Apply {node_facts_manifest(namespace)}; or run with --no-node-facts for an API-only diagnosis.",
            verb=fatal[0].verb, resource=fatal[0].rbac_resource,
        )
