"""The ``pytest`` stage: run the tests, report each failure at its crash site.

Zero tests collected or run is an error, never a pass: a green verdict must mean tests ran.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gatekeeper
from gatekeeper import Finding, Stage, StageContext, StageError

REPORTER_DIR = Path(__file__).parent / "_pytest_report"
REPORTER = "gatekeeper_pytest_report"
HINT = (
    "fix the code under test (or the test, if the test is wrong); skipping, xfailing, "
    "deleting or weakening the test is reported as tampering"
)
#: pytest's exit codes that mean the run itself broke (not that tests failed).
BROKEN = {
    2: "was interrupted",
    3: "hit an internal error",
    4: "was used wrongly",
    5: "collected no tests",
}


def _inside(ctx: StageContext, path: str) -> bool:
    p = Path(path)
    if not p.is_absolute():
        p = ctx.root / p
    try:
        p.resolve().relative_to(ctx.root.resolve())
    except ValueError:
        return False
    return True


def parse(ctx: StageContext, data: dict[str, Any]) -> list[Finding]:
    """Findings for failed tests (at the crash site inside the repo) and collection errors."""
    findings: list[Finding] = []
    for err in data.get("collect_errors", []):
        text = err.get("text", "").strip()
        last = text.splitlines()[-1] if text else "error during collection"
        findings.append(
            ctx.finding(
                "collection-error",
                err.get("path") or err["nodeid"],
                0,
                0,
                f"{err['nodeid']}: {last}",
                hint="fix the import or syntax error so the tests can be collected",
            )
        )
    for fail in data.get("failures", []):
        crash = fail.get("crash") or {}
        where_path, where_line = fail["path"], fail["line"]
        if crash.get("path") and _inside(ctx, crash["path"]):
            where_path, where_line = crash["path"], crash["line"]
        message = (crash.get("message") or "").strip() or fail.get("text", "").strip()[-300:]
        first = message.splitlines()[0] if message else "failed"
        rule = "test-failed" if fail["when"] == "call" else f"test-{fail['when']}-error"
        findings.append(
            ctx.finding(rule, where_path, where_line, 0, f"{fail['nodeid']}: {first}", hint=HINT)
        )
    return findings


def run(ctx: StageContext) -> list[Finding]:
    with tempfile.TemporaryDirectory(prefix="gatekeeper-pytest-") as tmp:
        report = Path(tmp) / "report.json"
        path = os.pathsep.join(p for p in (str(REPORTER_DIR), os.environ.get("PYTHONPATH")) if p)
        env = {"GATEKEEPER_PYTEST_REPORT": str(report), "PYTHONPATH": path}
        done = ctx.run_tool(
            ["-p", REPORTER, "-p", "no:cacheprovider", "-q", "--color=no", *ctx.args, *ctx.paths],
            ok=(0, 1, 2, 3, 4, 5),
            env=env,
        )
        if not report.exists():
            raise StageError(
                f"pytest exited with code {done.returncode} without a report", done.output
            )
        data = json.loads(report.read_text(encoding="utf-8"))
    findings = parse(ctx, data)
    code = done.returncode
    if code in BROKEN and not (code == 2 and findings):
        raise StageError(f"pytest {BROKEN[code]} (exit {code})", done.output)
    ran = sum(v for k, v in data["outcomes"].items() if k != "skipped")
    if not findings and (data["collected"] == 0 or ran == 0):
        raise StageError(
            f"no tests ran ({data['collected']} collected, {data['outcomes']['skipped']} skipped): "
            "a gate with no tests proves nothing; add tests or disable the stage explicitly"
        )
    if code == 1 and not findings:
        raise StageError("pytest reported failures that could not be parsed", done.output)
    return findings


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    register(
        Stage(
            name="pytest",
            run=run,
            description="run the test suite with pytest (zero tests is an error)",
            tool="pytest",
            needs_project_python=True,
            file_local=False,
            config_files=("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini", "conftest.py"),
            cacheable=True,
        )
    )
