"""The ``ruff`` stage: ``ruff check`` with JSON output, one finding per diagnostic.

ruff exits 0 (clean), 1 (findings) or 2 (it could not run: bad config, bad flag, crash). Exit 2,
output that is not a JSON list, and exit 1 without a diagnostic are all errors of the stage.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gatekeeper
from gatekeeper import Finding, Stage, StageContext, StageError, narrow_by_file

from ._ruff_config import DEFAULT_INCLUDE, lint_inputs

SYNTAX_CODES = ("syntax-error", "invalid-syntax")
SYNTAX_HINT = "fix the syntax error; nothing else in this file can be checked until then"


def load(output: str) -> list[dict[str, Any]]:
    """ruff's JSON diagnostics; anything but a JSON list of objects is a :class:`StageError`."""
    try:
        data = json.loads(output)
    except json.JSONDecodeError as exc:
        raise StageError(f"cannot parse ruff's JSON output: {exc}", output) from None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise StageError("ruff's JSON output is not a list of diagnostics", output)
    return data


def hint_of(diagnostic: dict[str, Any]) -> tuple[str, bool]:
    """The fix hint and whether ``ruff check --fix`` applies the fix safely."""
    fix = diagnostic.get("fix") or {}
    applicability = fix.get("applicability")
    if fix.get("message"):
        if applicability == "safe":
            return f"{fix['message']} (`ruff check --fix` applies it)", True
        return f"{fix['message']} (an unsafe fix: review it, `--unsafe-fixes` applies it)", False
    if (diagnostic.get("code") or "invalid-syntax") in SYNTAX_CODES:
        return SYNTAX_HINT, False
    url = diagnostic.get("url")
    return (f"see {url}" if url else ""), False


def parse(ctx: StageContext, output: str) -> list[Finding]:
    """Turn ``ruff check --output-format json`` output into findings."""
    findings = []
    for d in load(output):
        hint, fixable = hint_of(d)
        loc = d.get("location") or {}
        code = d.get("code") or "invalid-syntax"
        # A notebook's rows count within its cell: name the cell, or the line is ambiguous.
        cell = f"cell {d['cell']}: " if d.get("cell") else ""
        findings.append(
            ctx.finding(
                code,
                d.get("filename") or "",
                loc.get("row", 0),
                loc.get("column", 0),
                cell + str(d.get("message", "")),
                fixable=fixable,
                hint=hint,
                # A file ruff cannot parse was not linted past the error.
                stops_tool=code in SYNTAX_CODES,
            )
        )
    return findings


def own_selection(ctx: StageContext) -> set[str]:
    """The files ruff itself selects (``include``, ``exclude``, ``extend-exclude``, ignore
    files): a file passed by name is linted even outside ``include``, so the stage asks."""
    done = ctx.run_tool(["check", "--show-files"], ok=(0,))
    listed = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    strange = [p for p in listed if not Path(p).is_absolute() or not Path(p).is_file()]
    if strange:
        # Not a list of files: whatever answered is not the ruff the stage can trust.
        raise StageError(f"unexpected output of `ruff check --show-files`: {strange[0][:200]}")
    return {ctx.relpath(p) for p in listed}


def run(ctx: StageContext) -> list[Finding]:
    """Lint the files in scope that ruff's own configuration selects, with ``ruff check``."""
    targets = list(ctx.files) if not ctx.whole_tree or not ctx.paths else ctx.paths
    if targets == list(ctx.files):
        selected = own_selection(ctx)
        targets = [t for t in targets if t in selected]
        ctx.tell("files_checked", len(targets))
        if not targets:
            return []
    # --no-fix: a check never edits files, even when the project sets `fix = true`.
    argv = ["check", "--output-format", "json", "--no-fix", "--force-exclude"]
    done = ctx.run_tool([*argv, *ctx.args, "--", *targets], ok=(0, 1))
    findings = parse(ctx, done.stdout)
    if done.returncode == 1 and not findings:
        raise StageError("ruff exited with code 1 but reported no diagnostics", done.output)
    return findings


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``ruff`` stage."""
    register(
        Stage(
            name="ruff",
            run=run,
            description="lint with ruff check",
            tool="ruff",
            patterns=DEFAULT_INCLUDE,
            config_files=("pyproject.toml", "ruff.toml", ".ruff.toml"),
            inputs=lint_inputs,
            narrow=narrow_by_file,
        )
    )
