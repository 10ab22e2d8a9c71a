"""The ``pytest`` stage: run the tests, report each failure at its crash site.

Zero tests collected or run is an error, never a pass: a green verdict must mean tests ran.
pytest's exit codes 2–5 (interrupted, internal error, usage error, no tests collected) are
errors of the run, not findings — except that an interrupted collection is reported as the
collection errors that caused it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gatekeeper
from gatekeeper import Finding, Stage, StageContext, StageError

from . import _coverage

REPORTER_DIR = Path(__file__).parent / "_pytest_report"
REPORTER = "gatekeeper_pytest_report"
HINT = (
    "fix the code under test (or the test, if the test is wrong); skipping, xfailing, "
    "deleting or weakening the test is reported as tampering"
)
COLLECT_HINT = "fix the import or syntax error so the tests can be collected"
#: pytest's exit codes that mean the run itself broke (not that tests failed).
BROKEN = {
    2: "was interrupted",
    3: "hit an internal error",
    4: "was used wrongly",
    5: "collected no tests",
}
# Places a traceback names: `File "x.py", line 3` (syntax errors) and `x.py:3: in <module>`.
_PLACE = re.compile(r'File "(?P<a>[^"]+)", line (?P<b>\d+)|^(?P<c>\S[^:\n]*):(?P<d>\d+): in ', re.M)


def _inside(ctx: StageContext, path: str) -> bool:
    p = Path(path)
    if not p.is_absolute():
        p = ctx.root / p
    try:
        p.resolve().relative_to(ctx.root.resolve())
    except ValueError:
        return False
    return True


def _same_file(ctx: StageContext, a: str, b: str) -> bool:
    return ctx.relpath(ctx.root / a) == ctx.relpath(ctx.root / b)


def collect_line(ctx: StageContext, path: str, text: str) -> int:
    """The last line of ``path`` that a collection error's traceback names (0: none)."""
    line = 0
    for match in _PLACE.finditer(text):
        where, number = (match["a"], match["b"]) if match["a"] else (match["c"], match["d"])
        if _same_file(ctx, where, path):
            line = int(number)
    return line


def collect_finding(ctx: StageContext, err: dict[str, Any]) -> Finding:
    """A finding for a test module that could not be collected (import or syntax error)."""
    text = str(err.get("text") or "").strip()
    last = text.splitlines()[-1].removeprefix("E").strip() if text else ""
    path = err.get("path") or err["nodeid"]
    return ctx.finding(
        "collection-error",
        path,
        collect_line(ctx, path, text),
        0,
        f"{err['nodeid']}: {last or 'error during collection'}",
        hint=COLLECT_HINT,
    )


def crash_message(crash: dict[str, Any], text: str) -> str:
    """The assertion's message: its first line, plus the comparison when a message hid it."""
    lines = [ln.strip() for ln in str(crash.get("message") or "").splitlines() if ln.strip()]
    if not lines:
        tail = text.strip().splitlines()
        return tail[-1].removeprefix("E").strip() if tail else "failed"
    if lines[0].startswith("AssertionError") and len(lines) > 1 and lines[1].startswith("assert"):
        return f"{lines[0]} ({lines[1]})"
    return lines[0]


def failure_finding(ctx: StageContext, fail: dict[str, Any]) -> Finding:
    """A finding for a failing test, at its crash site when that is inside the repository."""
    crash = fail.get("crash") or {}
    where_path, where_line = fail["path"], fail["line"]
    if crash.get("path") and _inside(ctx, crash["path"]):
        where_path, where_line = crash["path"], crash["line"]
    rule = "test-failed" if fail["when"] == "call" else f"test-{fail['when']}-error"
    message = crash_message(crash, str(fail.get("text") or ""))
    return ctx.finding(rule, where_path, where_line, 0, f"{fail['nodeid']}: {message}", hint=HINT)


def parse(ctx: StageContext, data: dict[str, Any]) -> list[Finding]:
    """Findings for failed tests (at the crash site inside the repo) and collection errors."""
    findings = [collect_finding(ctx, err) for err in data.get("collect_errors", [])]
    return findings + [failure_finding(ctx, fail) for fail in data.get("failures", [])]


def read_report(path: Path, code: int, output: str) -> dict[str, Any]:
    """The reporter plugin's JSON; a missing or malformed report is a StageError."""
    if not path.exists():
        raise StageError(f"pytest exited with code {code} without a report", output)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StageError(f"cannot read pytest's report: {exc}", output) from None
    if not isinstance(data, dict) or not isinstance(data.get("outcomes"), dict):
        raise StageError("pytest's report has no outcomes", output)
    return data


def judge(data: dict[str, Any], findings: list[Finding], code: int, output: str) -> None:
    """Raise a StageError when the run broke, ran no tests, or failed without findings."""
    if code in BROKEN and not (code == 2 and findings):
        raise StageError(f"pytest {BROKEN[code]} (exit {code})", output)
    if not findings:
        require_tests(data)
    if code == 1 and not findings:
        raise StageError("pytest reported failures that could not be parsed", output)


def require_tests(data: dict[str, Any]) -> None:
    """Zero tests collected, or every one skipped, proves nothing: a StageError."""
    outcomes = data["outcomes"]
    collected = data.get("collected", 0)
    ran = sum(v for k, v in outcomes.items() if k != "skipped")
    if ran == 0:
        raise StageError(
            f"no tests ran ({collected} collected, {outcomes.get('skipped', 0)} skipped): "
            "a gate with no tests proves nothing; add tests or disable the stage explicitly"
        )


def run(ctx: StageContext) -> list[Finding]:
    """Run the tests with the reporter plugin and judge the outcome."""
    with tempfile.TemporaryDirectory(prefix="gatekeeper-pytest-") as tmp:
        report = Path(tmp) / "report.json"
        path = os.pathsep.join(p for p in (str(REPORTER_DIR), os.environ.get("PYTHONPATH")) if p)
        env = {"GATEKEEPER_PYTEST_REPORT": str(report), "PYTHONPATH": path}
        argv = ["-p", REPORTER, "-p", "no:cacheprovider", "-q", "--color=no"]
        # Coverage of the changed files for the test-quality stage, from this same run.
        measuring = _coverage.prepare(ctx)
        if measuring:
            env.update(measuring.env())
            argv = [*measuring.plugin_args(), *argv]
        done = ctx.run_tool([*argv, *ctx.args, *ctx.paths], ok=(0, 1, 2, 3, 4, 5), env=env)
        if measuring:
            _coverage.publish(ctx, measuring)
        data = read_report(report, done.returncode, done.output)
    findings = parse(ctx, data)
    judge(data, findings, done.returncode, done.output)
    return findings


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``pytest`` stage."""
    register(
        Stage(
            name="pytest",
            run=run,
            description="run the test suite with pytest (zero tests is an error)",
            tool="pytest",
            needs_project_python=True,
            file_local=False,
            config_files=("pyproject.toml", "pytest.ini", "setup.cfg", "tox.ini", "conftest.py"),
            # Measure the changed project files' coverage (read by the test-quality stage).
            options={"coverage": True},
            cacheable=True,
        )
    )
