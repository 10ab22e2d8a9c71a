"""The ``ruff`` stage: ``ruff check`` with JSON output, one finding per diagnostic."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import gatekeeper
from gatekeeper import Finding, Stage, StageContext, StageError


def parse(ctx: StageContext, output: str) -> Iterator[Finding]:
    """Turn ``ruff check --output-format json`` output into findings."""
    try:
        diagnostics: list[dict[str, Any]] = json.loads(output or "[]")
    except json.JSONDecodeError as exc:
        raise StageError(f"cannot parse ruff's JSON output: {exc}", output) from None
    for d in diagnostics:
        code = d.get("code") or "syntax-error"
        fix = d.get("fix") or None
        safe = fix is not None and fix.get("applicability") == "safe"
        if fix and fix.get("message"):
            hint = f"{fix['message']}" + (" (`ruff check --fix` applies it)" if safe else "")
        elif code in ("syntax-error", "invalid-syntax"):
            hint = "fix the syntax error; nothing else in this file can be checked until then"
        else:
            hint = f"see {d['url']}" if d.get("url") else ""
        loc = d.get("location") or {}
        yield ctx.finding(
            code,
            d["filename"],
            loc.get("row", 0),
            loc.get("column", 0),
            d.get("message", ""),
            fixable=safe,
            hint=hint,
        )


def run(ctx: StageContext) -> list[Finding]:
    targets = list(ctx.files) if not ctx.whole_tree or not ctx.paths else ctx.paths
    # --no-fix: a check never edits files, even when the project sets `fix = true`.
    done = ctx.run_tool(
        [
            "check",
            "--output-format",
            "json",
            "--no-fix",
            "--force-exclude",
            *ctx.args,
            "--",
            *targets,
        ],
    )
    return list(parse(ctx, done.stdout))


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    register(
        Stage(
            name="ruff",
            run=run,
            description="lint with ruff check",
            tool="ruff",
            config_files=("pyproject.toml", "ruff.toml", ".ruff.toml"),
        )
    )
