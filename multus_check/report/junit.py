"""JUnit XML for CI: one test case per check, rendered with junit-xml.

Severity, evidence and remediation travel in each case's output so CI UIs show them.
"""

from __future__ import annotations

import json

from junit_xml import TestCase, TestSuite, to_xml_report_string

from multus_check.model import Status
from multus_check.report.results import Results


def render_junit(results: Results) -> str:
    results = results.printable()  # a lone surrogate would become a character reference XML forbids
    cases = []
    for cid, findings in results.by_check().items():
        status = results.check_status(cid)
        case = TestCase(name=cid, classname=f"multus_check.{cid.split('.', 1)[0]}", file="multus-check",
                        status=status.value)
        case.stdout = "\n\n".join(
            f"[{f.status.value}] [{f.severity.value}] {f.subject}: {f.message}"
            + (f"\nremediation: {f.remediation}" if f.remediation else "")
            + (f"\nevidence: {json.dumps(dict(f.evidence), sort_keys=True)}" if f.evidence else "")
            for f in findings
        )
        bad = [f for f in findings if f.status is status]
        text = "; ".join(f"{f.subject}: {f.message}" for f in bad)[:4000]
        if status is Status.FAIL:
            case.add_failure_info(message=text, failure_type=bad[0].severity.value)
        elif status is Status.ERROR:
            case.add_error_info(message=text, error_type="not-evaluated")
        elif status is Status.SKIP:
            case.add_skipped_info(message=text)
        cases.append(case)
    suite = TestSuite("multus-check", cases, id=results.run_id, timestamp=results.started_at,
                      properties={"run_id": results.run_id, "source": json.dumps(results.source)})
    xml: str = to_xml_report_string([suite], prettyprint=False, encoding="utf-8")
    return xml
