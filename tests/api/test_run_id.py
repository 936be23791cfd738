"""One run, one id: the report, the results, the collector pods and the sample pods of a live run carry the same one."""

from __future__ import annotations

import json

from tests.api.modes import StepRecord

RUN_LABEL = "multus-check.io/run-id"


def test_a_live_run_labels_everything_it_creates_with_the_run_id_of_its_report(recorded_modes: dict[str, StepRecord]) -> None:
    record = recorded_modes["live run with node facts and sample pods"]
    report = json.loads((record.workdir / "report.json").read_text())
    created = [r.body for r in record.requests
               if r.request is not None and r.request.verb == "create" and r.status == 201 and isinstance(r.body, dict)
               and r.request.resource in ("pods", "configmaps")]
    assert len(created) == 6  # a ConfigMap and three collector pods, a ConfigMap and one sample pod
    assert {obj["metadata"]["labels"][RUN_LABEL] for obj in created} == {report["run_id"]}
    assert report["source"]["run_id"] == report["run_id"]
    assert (record.workdir / "report" / "results.json").is_file()
