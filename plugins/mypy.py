"""The ``mypy`` stage: ``mypy -O json`` over the whole program; notes fold into their error.

mypy exits 0 (clean), 1 (type errors) or 2 (it could not check: a crash, a bad flag, or a
syntax error, which it still reports as JSON). An exit 2 without parseable findings, an exit 1
without any, and any stdout line that is not a JSON object are errors of the stage.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import gatekeeper
from gatekeeper import Finding, Stage, StageContext, StageError, StageSkip

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


def records(output: str) -> list[dict[str, Any]]:
    """mypy's JSON lines; a line that is not a JSON object with a file is a StageError."""
    found = []
    for raw in filter(None, (line.strip() for line in output.splitlines())):
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            raise StageError(f"unexpected mypy output (not JSON): {raw[:200]}", output) from None
        if not isinstance(record, dict) or "file" not in record:
            raise StageError(f"unexpected mypy JSON record: {raw[:200]}", output)
        found.append(record)
    return found


def belongs(note: dict[str, Any], error: dict[str, Any]) -> bool:
    """A note explains the error before it when it is on the error's line or points elsewhere
    (``defined here`` in another file); a note on another line of the file stands alone."""
    if error.get("severity") != "error" or note.get("severity") != "note":
        return False
    if note.get("file") != error.get("file"):
        return True
    return bool(note.get("line") == error.get("line"))


def group(recs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
    """Each error or standalone note with the notes that follow and belong to it."""
    groups: list[tuple[dict[str, Any], list[str]]] = []
    for rec in recs:
        if groups and belongs(rec, groups[-1][0]):
            groups[-1][1].append(str(rec.get("message", "")))
        else:
            groups.append((rec, []))
    return groups


def to_finding(ctx: StageContext, head: dict[str, Any], notes: list[str]) -> Finding:
    """One finding: the error (or note) with its notes folded into the hint."""
    code = head.get("code") or "misc"
    hint = "; ".join(n for n in (head.get("hint") or "", *notes) if n) or _HINTS.get(code, "")
    return ctx.finding(
        code,
        head["file"],
        head.get("line") or 0,
        (head.get("column") or 0) + 1,
        str(head.get("message", "")),
        severity="error" if head.get("severity") == "error" else "note",
        hint=hint,
    )


def parse(ctx: StageContext, output: str) -> list[Finding]:
    """Turn mypy's JSON lines into findings, folding each note into the error before it."""
    return [to_finding(ctx, head, notes) for head, notes in group(records(output))]


def mypy_targets(ctx: StageContext) -> list[str]:
    """What mypy checks: the configured paths, else the discovered packages and modules."""
    return ctx.paths or list(ctx.layout.sources) or ["."]


def run(ctx: StageContext) -> list[Finding]:
    """Type check the configured paths, or the discovered packages and modules."""
    if ctx.whole_tree and not ctx.files and not ctx.paths:
        raise StageSkip("no Python files to type check")
    targets = mypy_targets(ctx)
    args = ["-O", "json", "--no-pretty", "--no-error-summary", "--show-column-numbers"]
    args += ["--cache-dir", str(ctx.cache_dir / "mypy-cache")]
    if ctx.python != ctx.project_python:
        # mypy runs from the gate's own environment: point it at the project's packages.
        args += ["--python-executable", str(ctx.project_python)]
    done = ctx.run_tool([*args, *ctx.args, "--", *targets], ok=(0, 1, 2))
    findings = parse(ctx, done.stdout)
    errors = [f for f in findings if f.severity == "error"]
    if done.returncode == 2 and not errors:
        # 2 is mypy failing to run (bad flag, crash); syntax errors come back as findings.
        raise StageError("mypy could not check the program (exit 2)", done.output)
    if done.returncode == 1 and not errors:
        raise StageError("mypy exited with code 1 but reported no errors", done.output)
    return findings


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``mypy`` stage."""
    register(
        Stage(
            name="mypy",
            run=run,
            description="type check the whole program with mypy",
            tool="mypy",
            file_local=False,
            config_files=("pyproject.toml", "mypy.ini", ".mypy.ini", "setup.cfg"),
            targets=mypy_targets,
        )
    )
