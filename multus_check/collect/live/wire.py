"""Read a collector pod's log back into NodeFacts.

The pod prints one JSON document between two marker lines (pod_entry.py). A log without the
closing marker was cut short; a document with `error` is the collector's own failure report.
Either way the caller gets a `CollectorOutputError` whose message says what happened.
"""

from __future__ import annotations

import json
from typing import Any

from multus_check.collect.live.pod_entry import BEGIN, END
from multus_check.snapshot.data import DirEntry, NodeFacts


class CollectorOutputError(Exception):
    """The collector's log holds no usable facts; the message says why."""


def error_in_log(text: str) -> str:
    """The collector's own failure report in a log, or the log's last line; "" if neither."""
    start, end = text.rfind(BEGIN), text.rfind(END)
    if 0 <= start < end:
        try:
            doc = json.loads(text[start + len(BEGIN):end])
        except json.JSONDecodeError:
            return ""
        return f"the collector reported: {doc['error']}" if isinstance(doc, dict) and "error" in doc else ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return f"its log ends with: {lines[-1][:300]}" if lines else ""


def parse_collector_log(text: str, node: str) -> NodeFacts:
    start, end = text.rfind(BEGIN), text.rfind(END)
    if start < 0:
        tail = text.strip().splitlines()[-3:]
        ends = f"; its log ends with: {' | '.join(tail)}" if tail else ""
        raise CollectorOutputError("the collector printed no facts" + ends)
    if end < start:
        raise CollectorOutputError("the collector's output is cut short (no end marker); the log was truncated")
    try:
        doc = json.loads(text[start + len(BEGIN):end])
    except json.JSONDecodeError as exc:
        raise CollectorOutputError(f"the collector's output is not valid JSON: {exc.msg}") from exc
    if not isinstance(doc, dict):
        raise CollectorOutputError("the collector's output is not a JSON object")
    if "error" in doc:
        raise CollectorOutputError(f"the collector failed on the node: {doc['error']}")
    if doc.get("name") != node:
        raise CollectorOutputError(f"the collector reported facts for node {doc.get('name')!r}, not {node!r}")
    return _facts(doc, node)


def _facts(doc: dict[str, Any], node: str) -> NodeFacts:
    facts = NodeFacts(name=node)
    facts.files = {str(k): str(v) for k, v in (doc.get("files") or {}).items()}
    facts.unreadable = {str(k): str(v) for k, v in (doc.get("unreadable") or {}).items()}
    for path, listing in (doc.get("dirs") or {}).items():
        facts.dirs[str(path)] = None if listing is None else [_entry(e) for e in listing if isinstance(e, dict)]
    for key, attr in (("ip_addr", "ip_addr"), ("ip_route", "ip_route")):
        value = doc.get(key)
        if isinstance(value, list):
            setattr(facts, attr, [v for v in value if isinstance(v, dict)])
    return facts


def _entry(item: dict[str, Any]) -> DirEntry:
    return DirEntry.from_dict(item)
