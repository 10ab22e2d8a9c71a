"""JUnit XML: parses with a real XML parser and its counts match the JSON report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from gatekeeper.formats import ReportOptions
from gatekeeper.models import Finding, RunResult, StageResult
from gatekeeper.reports.junit import render

BAD = """\
import os


def f(x):
    unused = x
    return 2
"""


def _suites(xml_text: str) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.fromstring(xml_text)
    assert root.tag == "testsuites"
    return root, {s.get("name", ""): s for s in root.findall("testsuite")}


def test_counts_match_the_json_report(gate_repo) -> None:
    gate_repo.scaffold()
    gate_repo.write("sample/bad.py", BAD)
    gate_repo.write("sample/ugly.py", "x=[1,\n  2]\n")
    junit = gate_repo.path / "gate.xml"
    result = gate_repo.gate(
        "run",
        "--stage",
        "ruff",
        "--stage",
        "ruff-format",
        "--stage",
        "radon",
        "--format",
        "json",
        "--output",
        f"junit={junit}",
    )
    assert result.returncode == 1, result.stderr
    report = result.json
    root, suites = _suites(junit.read_text(encoding="utf-8"))
    assert set(suites) == {s["name"] for s in report["stages"]}
    total_failures = 0
    for stage in report["stages"]:
        suite = suites[stage["name"]]
        failures = sum(1 for f in stage["findings"] if f["severity"] == "error")
        total_failures += failures
        assert int(suite.get("failures", "-1")) == failures
        assert int(suite.get("tests", "-1")) == max(len(stage["findings"]), 1)
        assert len(suite.findall("testcase")) == int(suite.get("tests", "-1"))
        assert float(suite.get("time", "-1")) >= 0
        if stage["status"] == "passed":
            (case,) = suite.findall("testcase")
            assert case.find("failure") is None
    assert int(root.get("failures", "-1")) == total_failures >= 3
    failure = suites["ruff"].find("testcase/failure")
    assert failure is not None and failure.get("type") in {"F401", "F841"}


def test_error_skipped_and_baselined_cases() -> None:
    held = Finding("ruff", "ruff", "F401", "a.py", 1, 1, "unused", fingerprint="x", baselined=True)
    run = RunResult(
        verdict="error",
        tree="t",
        duration_s=2.0,
        stages=(
            StageResult("ruff", "passed", 0.5, findings=(held,)),
            StageResult("pytest", "error", 1.0, reason="no tests ran\x1b[31m <&>"),
            StageResult("build", "skipped", reason="not installed"),
        ),
    )
    root, suites = _suites(render(run, ReportOptions()))
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "3",
        "0",
        "1",
        "2",
    )
    error = suites["pytest"].find("testcase/error")
    assert error is not None and error.text == "no tests ran[31m <&>"
    assert suites["build"].find("testcase/skipped") is not None
    baselined = suites["ruff"].find("testcase/skipped")
    assert baselined is not None and "baselined" in baselined.get("message", "")
    assert json.loads(json.dumps(run.to_json()))["verdict"] == "error"
