"""``--format sarif``: SARIF 2.1.0 for code-scanning services (GitHub, GitLab, Azure DevOps).

One SARIF run per tool (ruff's two stages share one run, as code scanning expects one run per
tool and category). Locations are repo-relative URIs against ``%SRCROOT%``; each result
carries the gate's line-independent fingerprint in ``partialFingerprints``. A stage that
could not run becomes an error notification and ``executionSuccessful: false`` on the run's
invocation, so an errored stage never looks like a clean one.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from gatekeeper import __version__
from gatekeeper.formats import ReportOptions
from gatekeeper.models import Finding, RunResult, StageResult
from gatekeeper.reports.json_report import dumps

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "gatekeeperFingerprint/v1"
_URL = re.compile(r"https?://[^\s)>\"']+")
_LEVEL = {"error": "error", "warning": "warning", "note": "note"}
PROJECT_FILES = ("pyproject.toml", "setup.cfg", "setup.py", ".gatekeeper.yaml", "README.md")


def render(run: RunResult, options: ReportOptions) -> str:
    return dumps(to_sarif(run))


def to_sarif(run: RunResult) -> dict[str, Any]:
    """The whole SARIF log of one gate run."""
    groups: dict[str, list[StageResult]] = {}
    for stage in run.stages:
        groups.setdefault(tool_of(stage), []).append(stage)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [_run(tool, stages, run) for tool, stages in groups.items()],
    }


def tool_of(stage: StageResult) -> str:
    """The tool a stage drives: its findings say so; a stage without findings is its own."""
    if stage.findings:
        # A command stage's tool is its argv[0], possibly a path: name the program.
        return PurePosixPath(stage.findings[0].tool).name or stage.name
    return stage.name


def _run(tool: str, stages: list[StageResult], run: RunResult) -> dict[str, Any]:
    findings = [f for s in stages for f in s.findings]
    rules = _rules(findings)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    version = next((s.tool_version for s in stages if s.tool_version), None)
    anchor = _anchor(run)
    driver: dict[str, Any] = {
        "name": tool,
        "rules": rules,
        "properties": {"stages": [s.name for s in stages], "gatekeeperVersion": __version__},
    }
    if version:
        driver["version"] = version
    if tool in run.tools:  # a Python package the gate probed: its home is on PyPI
        driver["informationUri"] = f"https://pypi.org/project/{quote(tool)}/"
    out: dict[str, Any] = {
        "tool": {"driver": driver},
        "invocations": [_invocation(stages, run)],
        "results": [_result(f, index[_rule_id(f)], anchor, run) for f in findings],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "verdict": run.verdict,
            "tree": run.tree,
            "commit": run.commit,
            "base": run.base.to_json() if run.base else None,
        },
    }
    if run.root:
        out["originalUriBaseIds"] = {"%SRCROOT%": {"uri": Path(run.root).as_uri() + "/"}}
    return out


def _rule_id(f: Finding) -> str:
    return f.rule or f.stage


def _rules(findings: list[Finding]) -> list[dict[str, Any]]:
    rules: dict[str, dict[str, Any]] = {}
    for f in findings:
        rid = _rule_id(f)
        if rid in rules:
            continue
        rule: dict[str, Any] = {
            "id": rid,
            "shortDescription": {"text": f"{f.tool} {rid}"},
            "help": {"text": f.hint or f"see the {f.tool} documentation for {rid}"},
            "properties": {"stage": f.stage},
        }
        url = _URL.search(f.hint)
        if url:
            rule["helpUri"] = url.group(0).rstrip(".,;")
        rules[rid] = rule
    return list(rules.values())


def _anchor(run: RunResult) -> str:
    """The file a finding about the whole project is pinned to.

    Code scanning rejects a whole upload if one result has no location, so a project-level
    finding (a failed build, a command stage) points at the project's main config file.
    """
    root = Path(run.root) if run.root else None
    for name in PROJECT_FILES:
        if root is not None and (root / name).is_file():
            return name
    return PROJECT_FILES[0]


def _result(f: Finding, rule_index: int, anchor: str, run: RunResult) -> dict[str, Any]:
    text = f.message or f.rule
    result: dict[str, Any] = {
        "ruleId": _rule_id(f),
        "ruleIndex": rule_index,
        "level": _LEVEL.get(f.severity, "error"),
        "message": {"text": text},
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {
            "stage": f.stage,
            "fixable": f.fixable,
            "baselined": f.baselined,
            "existing": f.existing,
        },
    }
    if f.path:
        result["locations"] = [_location(f)]
    else:
        result["locations"] = [_location(replace(f, path=anchor, line=0, column=0))]
        result["properties"]["projectLevel"] = True
    if f.baselined:
        # Recorded in the committed baseline: present but not new ("hold the line").
        result["baselineState"] = "unchanged"
        result["suppressions"] = [
            {"kind": "external", "justification": "recorded in the gatekeeper baseline"}
        ]
    elif f.existing:
        # At the base of the change already: reported, not new (not suppressed either).
        result["baselineState"] = "unchanged"
    elif run.base is not None and run.base.mode == "change":
        result["baselineState"] = "new"
    return result


def _location(f: Finding) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": quote(f.path), "uriBaseId": "%SRCROOT%"}
    }
    if f.line > 0:
        region: dict[str, Any] = {"startLine": f.line}
        if f.column > 0:
            region["startColumn"] = f.column
        physical["region"] = region
    return {"physicalLocation": physical}


def _invocation(stages: list[StageResult], run: RunResult) -> dict[str, Any]:
    notes = []
    for s in stages:
        if s.status == "error":
            notes.append(_notification(s, "error", f"stage {s.name} could not run: "))
        elif s.status == "skipped":
            notes.append(_notification(s, "note", f"stage {s.name} skipped: "))
    invocation: dict[str, Any] = {
        "executionSuccessful": all(s.status != "error" for s in stages),
        "toolExecutionNotifications": notes,
        "properties": {
            "trigger": run.trigger,
            "stages": {
                s.name: {"status": s.status, "duration_s": round(s.duration_s, 3)} for s in stages
            },
        },
    }
    if run.started_at:
        invocation["startTimeUtc"] = _utc(run.started_at)
    return invocation


def _notification(stage: StageResult, level: str, prefix: str) -> dict[str, Any]:
    return {
        "level": level,
        "message": {"text": prefix + (stage.reason or "no reason given")},
        "descriptor": {"id": stage.name},
    }


def _utc(stamp: str) -> str:
    # SARIF wants "Z" rather than a "+00:00" offset.
    return stamp.replace("+00:00", "Z")
