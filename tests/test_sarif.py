"""SARIF output: valid against the official 2.1.0 schema, stable fingerprints, errors visible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from gatekeeper.models import Finding, RunResult, StageResult
from gatekeeper.reports.sarif import FINGERPRINT_KEY, to_sarif

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)

LEGACY = """\
import os
import sys


def legacy(x):
    unused = x
    return 2
"""


def assert_valid(doc: dict[str, Any]) -> None:
    # The OASIS file declares draft-04 ("$schema"): validate with the draft it names.
    validator_class = jsonschema.validators.validator_for(SCHEMA)
    assert validator_class is jsonschema.Draft4Validator
    validator_class.check_schema(SCHEMA)
    errors = sorted(validator_class(SCHEMA).iter_errors(doc), key=str)
    assert not errors, "\n".join(str(e) for e in errors[:3])


def _finding(stage: str, tool: str, rule: str, path: str, line: int, **kw: Any) -> Finding:
    return Finding(
        stage, tool, rule, path, line, 2, f"{rule} happened", fingerprint=f"fp-{rule}", **kw
    )


def sample_run(root: Path) -> RunResult:
    ruff = StageResult(
        "ruff",
        "failed",
        0.2,
        findings=(
            _finding("ruff", "ruff", "F401", "pkg/a b.py", 1, hint="see https://docs.astral.sh/x"),
            _finding("ruff", "ruff", "E711", "pkg/a b.py", 6, baselined=True),
        ),
        tool_version="0.6.0",
    )
    return RunResult(
        verdict="error",
        tree="t" * 40,
        duration_s=1.5,
        stages=(
            ruff,
            StageResult("mypy", "passed", 1.0, tool_version="1.11"),
            StageResult("pytest", "error", 0.3, reason="pytest crashed:\nTraceback …"),
            StageResult("build", "skipped", reason="build is not installed"),
            StageResult(
                "lint-docs",
                "failed",
                0.1,
                findings=(_finding("lint-docs", "/bin/sh", "exit-1", "", 0),),
            ),
        ),
        root=str(root),
        commit="c" * 40,
        started_at="2026-01-01T00:00:00+00:00",
        tools={"ruff": "0.6.0", "mypy": "1.11"},
    )


def test_sample_run_is_valid_sarif_with_one_run_per_tool(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    doc = to_sarif(sample_run(tmp_path))
    assert_valid(doc)
    runs = {r["tool"]["driver"]["name"]: r for r in doc["runs"]}
    assert sorted(runs) == ["build", "mypy", "pytest", "ruff", "sh"]
    ruff = runs["ruff"]
    assert ruff["tool"]["driver"]["version"] == "0.6.0"
    assert ruff["tool"]["driver"]["informationUri"] == "https://pypi.org/project/ruff/"
    assert "informationUri" not in runs["sh"]["tool"]["driver"]
    rules = {r["id"]: r for r in ruff["tool"]["driver"]["rules"]}
    assert rules["F401"]["helpUri"] == "https://docs.astral.sh/x"
    assert rules["F401"]["help"]["text"]
    assert ruff["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    assert ruff["invocations"][0]["executionSuccessful"] is True
    _check_results(ruff["results"])


def _check_results(results: list[dict[str, Any]]) -> None:
    first, held = results
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "pkg/a%20b.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 1, "startColumn": 2}
    assert first["partialFingerprints"] == {FINGERPRINT_KEY: "fp-F401"}
    assert first["level"] == "error"
    assert "suppressions" not in first
    assert held["baselineState"] == "unchanged" and held["suppressions"]


def test_stage_error_is_never_clean(tmp_path: Path) -> None:
    doc = to_sarif(sample_run(tmp_path))
    runs = {r["tool"]["driver"]["name"]: r for r in doc["runs"]}
    invocation = runs["pytest"]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "pytest crashed" in note["message"]["text"]
    skipped = runs["build"]["invocations"][0]["toolExecutionNotifications"][0]
    assert skipped["level"] == "note" and "not installed" in skipped["message"]["text"]


def test_project_level_finding_is_pinned_to_a_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    runs = {r["tool"]["driver"]["name"]: r for r in to_sarif(sample_run(tmp_path))["runs"]}
    (result,) = runs["sh"]["results"]
    where = result["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "pyproject.toml"
    assert "region" not in where
    assert result["properties"]["projectLevel"] is True


def _sarif_results(doc: dict[str, Any]) -> dict[str, int]:
    return {
        r["partialFingerprints"][FINGERPRINT_KEY]: r["locations"][0]["physicalLocation"]["region"][
            "startLine"
        ]
        for run in doc["runs"]
        for r in run["results"]
    }


def test_real_run_validates_and_fingerprints_survive_moved_lines(gate_repo) -> None:
    gate_repo.scaffold()
    gate_repo.write("sample/legacy.py", LEGACY)
    gate_repo.commit("legacy")
    report = gate_repo.path / "report.json"
    result = gate_repo.gate(
        "run", "--stage", "ruff", "--format", "sarif", "--output", f"json={report}"
    )
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert_valid(doc)
    before = _sarif_results(doc)
    assert len(before) == 3
    from_json = {
        f["fingerprint"] for s in json.loads(report.read_text())["stages"] for f in s["findings"]
    }
    assert set(before) == from_json
    gate_repo.write("sample/legacy.py", "# moved\n" * 10 + LEGACY)
    again = gate_repo.gate("run", "--stage", "ruff", "--format", "sarif")
    after = _sarif_results(json.loads(again.stdout))
    assert set(after) == set(before)
    assert all(after[fp] == line + 10 for fp, line in before.items())
