"""The fix journal: the state of every object before a fix touched it, written before the change.

One JSON file per run under the run's report directory (`<report-dir>/fix-journal.json`). An
entry is written (and flushed to disk with fsync and an atomic rename) *before* its change is
sent, with state `pending`; it becomes `applied` with the resourceVersion the server gave the new
object, `failed` when the server refused it (nothing was written), `rolled-back` when a later step
failed, and `undone` after `multus-check undo`. A create that found its object already there is
written as `skipped` (with the live object as `before`) and is never undone.

The states are honest about a write whose answer never came. `unknown`: the request was sent and
the run was interrupted (SIGTERM, Ctrl-C) or lost the answer (timeout, dropped connection, a
conflict after a retry) and could not read the object back, so the server may have applied it; an
entry a killed run left `pending` is the same. Undo and rollback read such an object: if it holds
what was sent they restore it like an applied one, if it is as it was before they change nothing
and mark the entry `not-applied`. `undo` needs nothing but this file and the cluster.

The journal holds the live objects as they were, credentials included (undo must restore them
exactly), so it is written with mode 0600 inside a 0700 directory: a directory it creates is
made 0700, and the run's own report directory (holding nothing but this run's report files) is
tightened to 0700; any other existing directory is left as it is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from multus_check.errors import UsageError
from multus_check.files import REPORTS_ROOT
from multus_check.paths import unreachable

JOURNAL_NAME = "fix-journal.json"
#: states of an entry whose write may have taken effect without an answer saying so
IN_FLIGHT = ("pending", "unknown")
#: states `undo` acts on
UNDOABLE = ("applied", *IN_FLIGHT)
FORMAT = "multus-check/fix-journal/v1"
#: files a run writes into its report directory: a directory holding only these is the run's own
RUN_FILES = frozenset({"results.json", "junit.xml", JOURNAL_NAME, JOURNAL_NAME.replace(".json", ".tmp")})


@dataclass
class Entry:
    step: int
    fix_id: str
    action: str  # replace | create
    kind: str
    namespace: str | None
    name: str
    before: dict[str, Any] | None  # the live object as read just before the change
    after: dict[str, Any]  # what was sent: the live object with only the planned fields changed
    state: str = "pending"  # pending | unknown | applied | skipped | failed | not-applied | rolled-back | undone
    result_version: str | None = None
    result_uid: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = None  # the object as the server returned it after the write

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass
class Journal:
    path: Path
    run_id: str
    entries: list[Entry] = field(default_factory=list)
    verified: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, report_dir: Path, run_id: str) -> Journal:
        journal = cls(Path(report_dir) / JOURNAL_NAME, run_id)
        journal.save()
        return journal

    @classmethod
    def load(cls, path: Path) -> Journal:
        try:
            data = json.loads(Path(path).read_text())
        except OSError as exc:
            raise UsageError(f"cannot read the fix journal {path}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise UsageError(f"the fix journal {path} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise UsageError(f"{path} is not a multus-check fix journal ({FORMAT})")
        entries = [Entry(**e) for e in data.get("entries", [])]
        return cls(Path(path), str(data.get("run_id", "")), entries, dict(data.get("verified") or {}))

    def add(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        self.save()
        return entry

    def save(self) -> None:
        """Write atomically and durably (it must survive a crash right after it), readable by its owner only."""
        data = {"format": FORMAT, "run_id": self.run_id, "entries": [asdict(e) for e in self.entries],
                "verified": self.verified}
        tmp = self.path.with_suffix(".tmp")
        try:
            private_dir(self.path.parent)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh, indent=2, sort_keys=True)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise UsageError(f"cannot write the fix journal {self.path}: {exc.strerror}") from exc


def private_dir(path: Path, own_files: Iterable[str] = ()) -> None:
    """Make `path` (mode 0700 when this creates it); tighten an existing one only when it is the run's
    own: ours, holding nothing but RUN_FILES and `own_files` (say, this run's --output file)."""
    if not path.exists():
        path.mkdir(parents=True, mode=0o700)
        os.chmod(path, 0o700)  # mkdir's mode is masked by the umask
        return
    st = path.stat()
    if st.st_mode & 0o077 and st.st_uid == os.geteuid() and {p.name for p in path.iterdir()} <= RUN_FILES | set(own_files):
        os.chmod(path, 0o700)


def find_journal(run_id_or_path: str, reports_root: Path = REPORTS_ROOT) -> Path:
    """A journal by run id (under reports/<run-id>/), by report directory, or by file path."""
    for candidate in (Path(run_id_or_path), Path(run_id_or_path) / JOURNAL_NAME, reports_root / run_id_or_path / JOURNAL_NAME):
        if (blocked := unreachable(candidate)) is not None:
            raise UsageError(f"cannot look for the fix journal {candidate}: {blocked}")
        if candidate.is_file():
            return candidate
    raise UsageError(f"no fix journal for {run_id_or_path!r}: looked for {reports_root / run_id_or_path / JOURNAL_NAME}; "
                     "pass the run id printed by `multus-check --fix`, or --reports-root")


def interruption_note(report_dir: Path, what: str = "the fix") -> str:
    """The last line of a run interrupted while applying: what it changed, what it sent without an answer,
    and how to undo it (from the journal as saved at that moment)."""
    path = Path(report_dir) / JOURNAL_NAME
    try:
        journal = Journal.load(path)
    except UsageError:
        return f"{what} was interrupted; its journal {path} could not be read"
    applied = [e.ref for e in journal.entries if e.state == "applied"]
    in_flight = [e.ref for e in journal.entries if e.state in IN_FLIGHT]
    if not applied and not in_flight:
        return f"{what} was interrupted before it changed anything (journal: {path})"
    done = ([f"applied {', '.join(applied)}"] if applied else []) + (
        [f"sent {', '.join(in_flight)} without an answer (undo finds out whether it took effect)"] if in_flight else [])
    return f"{what} was interrupted: {'; '.join(done)}; journaled in {path}; undo with: multus-check undo {report_dir}"
