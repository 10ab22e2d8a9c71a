"""``--format junit``: JUnit XML, the test-report format every CI system can display.

One ``<testsuite>`` per stage. A stage with blocking findings has one ``<testcase>`` per
finding, each with a ``<failure>``; a clean stage has a single passing testcase; a stage that
could not run has one testcase with an ``<error>``; a skipped stage one with ``<skipped>``.
Baselined findings are testcases marked ``<skipped>`` (present, recorded, not new); findings
that do not block (warnings, notes) pass with the message in ``<system-out>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from gatekeeper.formats import ReportOptions
from gatekeeper.models import Finding, RunResult, StageResult

# Characters XML 1.0 cannot carry at all (tool output sometimes has ANSI escapes).
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean(text: str) -> str:
    """``text`` with the characters XML 1.0 forbids removed."""
    return _INVALID_XML.sub("", text)


def render(run: RunResult, options: ReportOptions) -> str:
    root = ET.Element("testsuites", name="gatekeeper")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for stage in run.stages:
        suite = _suite(stage)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", _seconds(run.duration_s))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _case(stage: StageResult, name: str, seconds: float) -> ET.Element:
    return ET.Element(
        "testcase", classname=f"gatekeeper.{stage.name}", name=clean(name), time=_seconds(seconds)
    )


def _suite(stage: StageResult) -> ET.Element:
    suite = ET.Element("testsuite", name=stage.name, time=_seconds(stage.duration_s))
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    cases: list[ET.Element] = []
    if stage.status == "error":
        case = _case(stage, stage.name, stage.duration_s)
        reason = clean(stage.reason or "the stage could not run")
        error = ET.SubElement(case, "error", message=reason.splitlines()[0], type="StageError")
        error.text = reason
        counts["errors"] += 1
        cases.append(case)
    elif stage.status == "skipped" or not stage.findings:
        case = _case(stage, stage.name, stage.duration_s)
        if stage.status == "skipped":
            ET.SubElement(case, "skipped", message=clean(stage.reason or "skipped"))
            counts["skipped"] += 1
        cases.append(case)
    else:
        share = stage.duration_s / len(stage.findings)
        for f in stage.findings:
            case, kind = _finding_case(stage, f, share)
            if kind:
                counts[kind] += 1
            cases.append(case)
    suite.extend(cases)
    suite.set("tests", str(len(cases)))
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


def _finding_case(stage: StageResult, f: Finding, seconds: float) -> tuple[ET.Element, str]:
    """The testcase of one finding and what it counts as (failures, skipped, or nothing)."""
    case = _case(stage, f"{f.location} {f.rule}", seconds)
    if f.path:
        case.set("file", f.path)
    if f.line > 0:
        case.set("line", str(f.line))
    detail = clean(f"{f.location}: {f.rule}: {f.message}" + (f"\nhint: {f.hint}" if f.hint else ""))
    if f.baselined:
        ET.SubElement(case, "skipped", message=clean(f"baselined: {f.message}"))
        return case, "skipped"
    if f.existing:
        ET.SubElement(case, "skipped", message=clean(f"existing at the base: {f.message}"))
        return case, "skipped"
    if f.severity == "error":
        failure = ET.SubElement(case, "failure", message=clean(f.message), type=f.rule)
        failure.text = detail
        return case, "failures"
    out = ET.SubElement(case, "system-out")
    out.text = f"{f.severity}: {detail}"
    return case, ""
