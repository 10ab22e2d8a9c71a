"""The ``ty`` stage: Astral's type checker, for a project configured for ty.

``ty check`` with no targets checks what the project's ty configuration selects (``ty.toml`` or
``[tool.ty]``, ``[src] include`` / ``exclude``), with the project's Python. On by default only
where the project configures ty.

ty exits 0 (no errors), 1 (errors, or warnings where the project fails on them:
``[terminal] error-on-warning``), 2 (bad configuration or command line) or 101 (a crash); 2 and
101 are errors of the stage. Findings come from its GitLab code-quality JSON, whose severities
are ``major`` (error), ``minor`` (warning) and ``info``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import gatekeeper
from gatekeeper import Finding, Layout, Stage, StageContext, StageError

from . import _selection

Severity = Literal["error", "warning", "note"]
SEVERITY: dict[str, Severity] = {
    "blocker": "error",
    "critical": "error",
    "major": "error",
    "minor": "warning",
    "info": "note",
}


def load(output: str) -> list[dict[str, Any]]:
    """ty's GitLab JSON: a list of diagnostics; anything else is a :class:`StageError`."""
    try:
        data = json.loads(output)
    except json.JSONDecodeError as exc:
        raise StageError(f"cannot parse ty's JSON output: {exc}", output) from None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise StageError("ty's JSON output is not a list of diagnostics", output)
    return data


def parse(ctx: StageContext, data: list[dict[str, Any]], warnings_block: bool) -> list[Finding]:
    """One finding per diagnostic; the rule prefix of the description is dropped."""
    findings = []
    for d in data:
        rule = str(d.get("check_name") or "ty")
        location = d.get("location") or {}
        begin = (location.get("positions") or {}).get("begin") or {}
        severity: Severity = SEVERITY.get(str(d.get("severity")), "note")
        if severity == "warning" and warnings_block:
            severity = "error"
        findings.append(
            ctx.finding(
                rule,
                str(location.get("path") or ""),
                int(begin.get("line") or 0),
                int(begin.get("column") or 0),
                str(d.get("description") or "").removeprefix(f"{rule}: "),
                severity=severity,
                hint=f"see https://docs.astral.sh/ty/reference/rules/#{rule}",
            )
        )
    return findings


def error_on_warning(root: Path) -> bool:
    """The project's ``[terminal] error-on-warning``."""
    config = _selection.ty_config(root)
    terminal = (config.settings if config else {}).get("terminal")
    return isinstance(terminal, dict) and terminal.get("error-on-warning") is True


def run(ctx: StageContext) -> list[Finding]:
    """Check the project as its ty configuration selects, with the project's Python."""
    argv = ["check", "--output-format", "gitlab", "--no-progress"]
    argv += ["--python", str(ctx.project_python)]
    done = ctx.run_tool([*argv, *ctx.args], ok=(0, 1))
    data = load(done.stdout)
    strict = error_on_warning(ctx.root)
    findings = parse(ctx, data, strict)
    if done.returncode == 1 and not any(f.severity == "error" for f in findings):
        # ty failed the run on warnings: they block, as they do for the project.
        findings = parse(ctx, data, True)
        if not any(f.severity == "error" for f in findings):
            raise StageError("ty exited with code 1 but reported no errors", done.output)
    return findings


def selection(root: Path, layout: Layout) -> Callable[[str], bool] | None:
    """The files ty checks here: its ``[src] include`` less its ``exclude``."""
    return _selection.ty_selection(root)


def zero_config(root: Path) -> tuple[bool, str]:
    """On where the project configures ty."""
    return _selection.checker_decision(root, "ty")


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``ty`` stage."""
    register(
        Stage(
            name="ty",
            run=run,
            description="type check with ty, as the project configures it",
            tool="ty",
            file_local=False,
            config_files=("pyproject.toml", "ty.toml"),
            default_enabled=False,
            zero_config=zero_config,
            selection=selection,
        )
    )
