"""GitHub workflow-command annotations: escaping, caps, errors first."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gatekeeper.formats import ReportOptions
from gatekeeper.models import Finding, RunResult, StageResult
from gatekeeper.reports.github import annotation, escape_data, escape_property, lines, render

BASE = Finding("mypy", "mypy", "arg-type", "pkg/mod.py", 12, 5, "bad", fingerprint="fp")


def _finding(**kw: Any) -> Finding:
    return replace(BASE, **kw)


def test_escaping_follows_the_workflow_command_rules() -> None:
    assert escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"


def test_annotation_escapes_message_and_properties() -> None:
    f = _finding(
        path="dir,with:odd/mod.py",
        rule="call-arg",
        message='Argument 1 has type "str", expected "int"\nsecond line: 100%',
        hint="pass an int, not a str",
    )
    line = annotation(f)
    assert line.startswith("::error file=dir%2Cwith%3Aodd/mod.py,line=12,col=5,")
    assert ",title=gatekeeper mypy%3A call-arg::" in line
    message = line.split("::", 2)[2]
    assert message == (
        'Argument 1 has type "str", expected "int"%0Asecond line: 100%25'
        "%0Afix: pass an int, not a str"
    )
    assert "\n" not in line


def test_levels_and_missing_positions() -> None:
    warning = annotation(_finding(severity="warning", line=0, column=0))
    assert warning.startswith("::warning file=pkg/mod.py,title=")
    note = annotation(_finding(severity="note"))
    assert note.startswith("::notice ")


def _run(findings: tuple[Finding, ...], *extra: StageResult) -> RunResult:
    stage = StageResult("mypy", "failed", 1.0, findings=findings)
    return RunResult("failed", "t" * 40, 1.0, (stage, *extra))


def test_capped_per_level_with_a_closing_notice() -> None:
    findings = tuple(_finding(line=i, fingerprint=f"f{i}") for i in range(1, 26))
    broken = StageResult("pytest", "error", 0.1, reason="pytest crashed: boom")
    out = lines(_run(findings, broken))
    errors = [x for x in out if x.startswith("::error")]
    assert len(errors) == 10
    assert errors[0].startswith("::error title=gatekeeper pytest%3A could not run::")
    assert "pytest crashed: boom" in errors[0]
    notice = out[-1]
    assert notice.startswith("::notice title=gatekeeper%3A annotations capped::16 more findings")
    assert "mypy arg-type ×16" in notice


def test_baselined_findings_are_not_annotated() -> None:
    findings = (_finding(), _finding(line=3, baselined=True))
    text = render(_run(findings), ReportOptions())
    assert text.count("::error") == 1
    assert "1 baselined" in text.splitlines()[-1]


def test_real_run_prints_annotations(gate_repo) -> None:
    gate_repo.scaffold()
    gate_repo.write("sample/bad.py", "import os, sys\n")
    result = gate_repo.gate("run", "--stage", "ruff", "--format", "github")
    assert result.returncode == 1, result.stderr
    annotations = [x for x in result.stdout.splitlines() if x.startswith("::error ")]
    assert len(annotations) >= 2
    assert all(x.startswith("::error file=sample/bad.py,line=1,col=") for x in annotations)
    assert sum("title=gatekeeper ruff%3A F401::" in x for x in annotations) == 2
