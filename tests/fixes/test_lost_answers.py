"""A write whose answer never comes: the journal says so, the run and undo find out from the object.

The emulator stores a write at once and answers it late (a slow API server, a proxy holding the
response), so a SIGTERM or a client timeout falls between "the server applied it" and "the tool
heard so". Like a real API server it also fills in a default of the init container a fix adds
(`terminationMessagePath`), so "holds what was sent" cannot be plain equality. The CLI runs in a
child process for the signal cases, as a user would run it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
from kmock._internal import rendering

from multus_check.errors import Unreachable
from multus_check.fixes.apply import apply
from multus_check.fixes.fields import comparable
from multus_check.fixes.journal import Journal
from multus_check.fixes.undo import undo
from multus_check.kube import Gateway, load_target
from multus_check.kube.writes import Writer
from tests.api.scenario import FAST_RETRIES, FIXTURES
from tests.fixes.emulator_writes import WriteEmulator
from tests.fixes.world import World, world

ROOT = Path(__file__).resolve().parents[2]
CHILD = "import sys; from multus_check.cli import main; sys.exit(main(sys.argv[1:]))"
DS = ("apps/v1/daemonsets", "kube-system", "kube-multus-ds")
DS_REF = "DaemonSet kube-system/kube-multus-ds"


@attrs.define(kw_only=True)
class LateAnswers(WriteEmulator):
    """The next real (not dry-run) write to a path matching `late` is stored at once and answered `delay`
    seconds later; an init container gets the default the API server fills in."""

    late: re.Pattern[str] | None = None
    delay: float = 0.0

    def put(self, obj: dict[str, Any]) -> None:
        super().put(_defaulted(obj))  # seeded objects were created through the API server too

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        if request.method.value in ("PUT", "POST") and isinstance(request.data, dict):
            _defaulted(request.data)
        answer = await super()._handle(request)
        real_write = request.method.value in ("PUT", "POST") and request.params.get("dryRun") != "All"
        if real_write and self.late is not None and self.late.search(request.url.path):
            self.late = None  # one late answer: what follows (a read-back, a rollback) is answered in time
            await asyncio.sleep(self.delay)
        return answer


def _defaulted(obj: dict[str, Any]) -> dict[str, Any]:
    template = (obj.get("spec") or {}).get("template") or {}
    for c in (template.get("spec") or {}).get("initContainers") or []:
        c.setdefault("terminationMessagePath", "/dev/termination-log")
    return obj


def _spec(w: World) -> str:
    return json.dumps(w.stored(*DS)["spec"], sort_keys=True)


def _cli(w: World, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, *argv, "--kubeconfig", str(w.sc.harness.kubeconfig)], cwd=ROOT,
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "CI": "true"})


def _wait_until(what: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _states(report: Path) -> list[str]:
    return [e["state"] for e in json.loads((report / "fix-journal.json").read_text())["entries"]]


def test_sigterm_while_the_fixs_write_is_in_flight_journals_it_unknown_and_undo_reverts_it(tmp_path: Path) -> None:
    em = LateAnswers(late=re.compile(r"/daemonsets/kube-multus-ds$"), delay=6.0)
    with world(FIXTURES / "multus-nested-delegates", tmp_path / "w", em) as w:
        original, before = w.stored(*DS), _spec(w)
        report = tmp_path / "r"
        child = _cli(w, "--no-e2e", "--fix", "--yes", "--report-dir", str(report), "--timeout", "60")
        _wait_until(lambda: _spec(w) != before)  # the server applied it; its answer is on the way
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=30)
        assert child.returncode == 143 and "Traceback" not in err, err
        assert err.rstrip().splitlines()[-1] == (
            f"multus-check: terminated (SIGTERM); the fix was interrupted: sent {DS_REF} without an answer (undo finds out "
            f"whether it took effect); journaled in {report / 'fix-journal.json'}; undo with: multus-check undo {report}")
        assert _states(report) == ["unknown"]

        em.late = None
        undone = _cli(w, "undo", str(report))
        out, err = undone.communicate(timeout=60)

        assert undone.returncode == 0, err
        assert out.strip() == f"restored {DS_REF}"
        assert comparable(w.stored(*DS)) == comparable(original) and _spec(w) == before
        assert _states(report) == ["undone"]


def test_sigterm_while_undos_write_is_in_flight_then_undo_again_finishes_without_force(tmp_path: Path) -> None:
    em = LateAnswers(late=None, delay=6.0)
    with world(FIXTURES / "multus-nested-delegates", tmp_path / "w", em) as w:
        original, before = w.stored(*DS), _spec(w)
        report = tmp_path / "r"
        fixed = _cli(w, "--no-e2e", "--fix", "--yes", "--report-dir", str(report), "--timeout", "60")
        assert fixed.wait(timeout=120) == 0 and _states(report) == ["applied"]
        em.late = re.compile(r"/daemonsets/kube-multus-ds$")
        child = _cli(w, "undo", str(report))
        _wait_until(lambda: _spec(w) == before)  # the server restored it; the answer is on the way
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=30)
        assert child.returncode == 143 and err.rstrip().splitlines()[-1] == (
            f"multus-check: terminated (SIGTERM); the undo was interrupted; run `multus-check undo {report}` again: it "
            "finishes what is left and recognises what was already restored"), err

        em.late = None
        again = _cli(w, "undo", str(report))
        out, err = again.communicate(timeout=60)

        assert again.returncode == 0, err
        assert out.strip() == f"nothing to undo: {DS_REF} (already as before the fix)"
        assert comparable(w.stored(*DS)) == comparable(original) and _states(report) == ["undone"]


def _nesting_plans(w: World) -> list[Any]:
    snap, findings = w.diagnose()
    return [p for p in w.plans(snap, findings) if p.fix_id == "multus-nesting"]


def test_a_write_whose_answer_times_out_is_read_back_and_counts_as_applied(tmp_path: Path) -> None:
    em = LateAnswers(late=None, delay=2.5)
    with world(FIXTURES / "multus-nested-delegates", tmp_path / "w", em) as w:
        original, plans = w.stored(*DS), _nesting_plans(w)
        impatient = Gateway(load_target(str(w.sc.harness.kubeconfig)), FAST_RETRIES, timeout=1)
        em.late = re.compile(r"/daemonsets/kube-multus-ds$")
        try:
            outcome = apply(plans, Writer(impatient), Journal.create(tmp_path / "r", "late"))
        finally:
            impatient.close()
        em.late = None

        assert outcome.ok and outcome.applied == [DS_REF], outcome.stopped
        (entry,) = Journal.load(tmp_path / "r" / "fix-journal.json").entries
        assert entry.state == "applied" and entry.error is None
        assert entry.result is not None and entry.result_version == w.stored(*DS)["metadata"]["resourceVersion"]
        init = w.stored(*DS)["spec"]["template"]["spec"]["initContainers"][0]
        assert init["terminationMessagePath"] == "/dev/termination-log", "the server's default is there"
        assert undo(Journal.load(tmp_path / "r" / "fix-journal.json"), w.writer).ok
        assert comparable(w.stored(*DS)) == comparable(original)


def test_a_lost_answer_that_cannot_be_read_back_stays_unknown_and_the_rollback_finds_it_took_effect(tmp_path: Path) -> None:
    em = LateAnswers(late=None, delay=2.5)
    with world(FIXTURES / "multus-nested-delegates", tmp_path / "w", em) as w:
        original, plans = w.stored(*DS), _nesting_plans(w)
        impatient = Gateway(load_target(str(w.sc.harness.kubeconfig)), FAST_RETRIES, timeout=1)
        em.late = re.compile(r"/daemonsets/kube-multus-ds$")
        get_after_put = False

        class ReadBackRefused(Writer):
            def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
                nonlocal get_after_put
                if get_after_put:  # the read-back right after the lost answer fails once
                    get_after_put = False
                    raise Unreachable("the API server did not answer")
                return super().get(kind, namespace, name)

            def replace(self, obj: dict[str, Any], resource_version: str, dry_run: bool = False) -> dict[str, Any]:
                nonlocal get_after_put
                get_after_put = not dry_run
                return super().replace(obj, resource_version, dry_run)

        try:
            journal = Journal.create(tmp_path / "r", "late")
            outcome = apply(plans, ReadBackRefused(impatient), journal)
        finally:
            impatient.close()

        assert not outcome.ok and "answer was lost" in (outcome.stopped or "")
        assert outcome.rolled_back is not None and outcome.rolled_back.restored == [DS_REF], outcome.rolled_back
        assert comparable(w.stored(*DS)) == comparable(original)
        assert [e.state for e in Journal.load(journal.path).entries] == ["rolled-back"]


def test_a_create_whose_answer_is_lost_is_found_created_or_found_absent(tmp_path: Path) -> None:
    em = LateAnswers(late=None, delay=2.5)
    with world(FIXTURES / "plugins-missing", tmp_path / "w", em) as w:
        snap, findings = w.diagnose()
        plans = [p for p in w.plans(snap, findings) if p.fix_id == "install-cni-plugins"]
        impatient = Gateway(load_target(str(w.sc.harness.kubeconfig)), FAST_RETRIES, timeout=1)
        em.late = re.compile(r"/configmaps$")
        em.fail_write("POST", r"/daemonsets$", 503)  # never stored: the read-back finds nothing
        try:
            outcome = apply(plans, Writer(impatient), Journal.create(tmp_path / "r", "late"))
        finally:
            impatient.close()
        em.late = None

        entries = Journal.load(tmp_path / "r" / "fix-journal.json").entries
        assert [(e.kind, e.state) for e in entries] == [("ConfigMap", "rolled-back"), ("DaemonSet", "failed")]
        assert outcome.rolled_back is not None and outcome.rolled_back.deleted == ["ConfigMap kube-system/cni-plugins"]
        assert not [c for c in w.sc.harness.sync(lambda: em.live("v1/configmaps", "kube-system"))
                    if c["metadata"]["name"] == "cni-plugins"]
