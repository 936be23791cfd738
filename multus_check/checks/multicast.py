"""The one verdict on a multicast probe's result, for datapath.mdns/ssdp (`node`, `lab run`) and e2e.mdns/ssdp.

Both paths run the same probe (probes/probe_script.py: on the node's throwaway namespace, or inside
the sample pod) and judge its `mdns` and `ssdp` sections with this rule, so the same observation
gets the same status wherever it was made (docs/ARCHITECTURE.md, "One multicast verdict"):

- the query could not be sent (`send-error`): `error`, never a verdict on the LAN;
- every query answered: `pass`; some answered, some not (`--trials N`): `warn`, lossy multicast
  (Wi-Fi, IGMP snooping) that works often enough to be found, but not reliably;
- no answer to mDNS: `fail`; a legacy-unicast answer tells "multicast towards the node is dropped"
  (`unicast-only`) apart from "nothing answers" (`silent`);
- no answer to SSDP: `warn` when mDNS was answered on the same interface (multicast demonstrably gets
  out and back, and many LANs have no UPnP/DLNA device), else `fail`.

Each path words the finding for its subject (a node, a sample pod); the status and its reason come
from here. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from multus_check.model import Status

ANSWERED = "answered"
LOSSY = "lossy"
UNICAST_ONLY = "unicast-only"
SILENT = "silent"
QUIET = "quiet"  # SSDP silent while mDNS answered: maybe no UPnP/DLNA device on the LAN
SEND_ERROR = "send-error"


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str


def answered(section: Mapping[str, Any] | None) -> bool:
    """Did the probe section get at least one answer?"""
    return bool(section) and (section or {}).get("outcome") == "answered"


def _heard(section: Mapping[str, Any]) -> Verdict | None:
    if section.get("outcome") == "send-error":
        return Verdict(Status.ERROR, SEND_ERROR)
    if answered(section):
        return Verdict(Status.WARN, LOSSY) if section.get("loss") else Verdict(Status.PASS, ANSWERED)
    return None


def mdns_verdict(section: Mapping[str, Any]) -> Verdict:
    """The verdict on probe_script's `mdns` section."""
    heard = _heard(section)
    if heard is not None:
        return heard
    legacy = section.get("legacy_unicast") or {}
    return Verdict(Status.FAIL, UNICAST_ONLY if legacy.get("outcome") == "answered" else SILENT)


def ssdp_verdict(section: Mapping[str, Any], mdns_answered: bool) -> Verdict:
    """The verdict on probe_script's `ssdp` section; `mdns_answered`: mDNS got answers on the same interface."""
    heard = _heard(section)
    if heard is not None:
        return heard
    return Verdict(Status.WARN, QUIET) if mdns_answered else Verdict(Status.FAIL, SILENT)
