"""The ``mypy`` stage: ``mypy -O json`` over the whole program; notes fold into their error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import gatekeeper
from gatekeeper import Finding, Stage, StageContext, StageError

_HINTS = {
    "import-untyped": "install the library's stubs (types-…) or add it to mypy's "
    "ignore_missing_imports for that module only",
    "import-not-found": "install the package in the project's environment or fix the import",
    "no-untyped-def": "annotate every parameter and the return type",
    "return-value": "return a value of the declared type, or correct the annotation",
    "arg-type": "pass a value of the parameter's type, or convert it first",
    "attr-defined": "check the attribute name and the object's type",
    "union-attr": "narrow the Optional/Union (e.g. `if x is not None:`) before using it",
    "syntax": "fix the syntax error; mypy cannot check the program until then",
}


def parse(ctx: StageContext, output: str) -> list[Finding]:
    """Turn mypy's JSON lines into findings, folding each note into the error before it."""
    records: list[dict[str, Any]] = []
    for raw in output.splitlines():
        raw = raw.strip()
        if not raw.startswith("{"):
            continue
        try:
            records.append(json.loads(raw))
        except json.JSONDecodeError as exc:
            raise StageError(f"cannot parse mypy's JSON output: {exc}", output) from None
    findings: list[Finding] = []
    notes: list[str] = []
    head: dict[str, Any] | None = None

    def flush() -> None:
        if head is None:
            return
        code = head.get("code") or "misc"
        hint_parts = [n for n in ([head.get("hint") or "", *notes]) if n]
        hint = "; ".join(hint_parts) or _HINTS.get(code, "")
        findings.append(
            ctx.finding(
                code,
                head["file"],
                head.get("line", 0),
                head.get("column", 0) + 1,
                head.get("message", ""),
                hint=hint,
            )
        )

    for rec in records:
        if rec.get("severity") == "note" and head is not None and rec.get("file") == head["file"]:
            notes.append(str(rec.get("message", "")))
            continue
        flush()
        notes = []
        head = rec if rec.get("severity") == "error" else None
    flush()
    return findings


def run(ctx: StageContext) -> list[Finding]:
    targets = ctx.paths or list(ctx.layout.sources) or ["."]
    args = [
        "-O",
        "json",
        "--no-pretty",
        "--no-error-summary",
        "--show-column-numbers",
        "--cache-dir",
        str(ctx.cache_dir / "mypy-cache"),
    ]
    if ctx.python != ctx.project_python:
        # mypy runs from the gate's own environment: point it at the project's packages.
        args += ["--python-executable", str(ctx.project_python)]
    done = ctx.run_tool([*args, *ctx.args, "--", *targets], ok=(0, 1, 2))
    findings = parse(ctx, done.stdout)
    if done.returncode == 2 and not findings:
        # 2 is mypy failing to run (bad flag, crash); syntax errors come back as findings.
        raise StageError("mypy could not check the program (exit 2)", done.output)
    if done.returncode == 1 and not findings:
        raise StageError("mypy reported errors that could not be parsed", done.output)
    return findings


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    register(
        Stage(
            name="mypy",
            run=run,
            description="type check the whole program with mypy",
            tool="mypy",
            file_local=False,
            config_files=("pyproject.toml", "mypy.ini", ".mypy.ini", "setup.cfg"),
        )
    )
