"""A markdown summary of a run for CI pages (GitHub's ``$GITHUB_STEP_SUMMARY``).

A table of stages (status, new, existing and baselined findings, duration), then for each
failed stage its first findings and for each stage that could not run its reason. Findings past the
per-stage limit are counted, never dropped silently.
"""

from __future__ import annotations

from gatekeeper.models import Finding, RunResult, StageResult
from gatekeeper.reports import existing

FIRST = 10  # findings shown per stage
_ICON = {"passed": "✅", "failed": "❌", "error": "⚠️", "skipped": "⏭️"}


def cell(text: str) -> str:
    """``text`` made safe for one markdown table cell."""
    flat = " ".join(text.split())
    return flat.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return "`" + cell(text).replace("`", "'") + "`"


def _new(stage: StageResult) -> list[Finding]:
    return existing.new_findings(stage.findings)


def _status(s: StageResult) -> str:
    """The status cell of a stage's row: icon, status, and why skipped or that it was cached."""
    status = f"{_ICON[s.status]} {s.status}"
    if s.status == "skipped" and s.reason:
        status += f" ({cell(s.reason)})"
    if s.cached:
        status += " (cached)"
    return status


def _row(s: StageResult) -> str:
    new = len(_new(s))
    held = sum(1 for f in s.findings if f.baselined)
    old = sum(1 for f in s.findings if f.existing and not f.baselined)
    counted = s.status in ("passed", "failed")
    took = f"{s.duration_s:.2f}s" if s.status != "skipped" else "–"
    status = _status(s)
    numbers = f"{new} | {old} | {held}" if counted else "– | – | –"
    return f"| {s.name} | {status} | {numbers} | {took} |"


def _findings_block(s: StageResult, first: int) -> list[str]:
    new = _new(s)
    word = "finding" if len(new) == 1 else "findings"
    out = ["", f"### {_ICON['failed']} {s.name}: {len(new)} new {word}", ""]
    out += ["| location | rule | message |", "|---|---|---|"]
    for f in new[:first]:
        out.append(f"| {_code(f.location)} | {_code(f.rule)} | {cell(f.message)} |")
    if len(new) > first:
        out += ["", f"…and {len(new) - first} more (see the SARIF or JUnit report)."]
    return out


def _error_block(s: StageResult) -> list[str]:
    reason = (s.reason or "no reason given").strip()
    fence = "````" if "```" in reason else "```"
    return ["", f"### {_ICON['error']} {s.name} could not run", "", fence + "text", reason, fence]


def _headline(run: RunResult) -> str:
    """The one-line tally under the title: new, existing, baselined, off, time and tree."""
    new = len(existing.new_findings(run.findings))
    held = sum(1 for f in run.findings if f.baselined)
    old = len(existing.existing_findings(run))
    parts = [f"{new} new finding{'s' if new != 1 else ''}"]
    if old:
        parts.append(f"{old} existing")
    if held:
        parts.append(f"{held} baselined")
    if run.off_by_config:
        off = len(run.off_by_config)
        parts.append(f"{off} stage{'s' if off != 1 else ''} off by config")
    parts.append(f"{run.duration_s:.1f}s")
    tree = (run.commit or run.tree)[:10]
    if tree:
        parts.append(f"tree `{tree}`")
    return " · ".join(parts)


def _context(run: RunResult, scope: str) -> list[str]:
    """The optional paragraphs before the table: scope, base and collapsed existing findings."""
    out: list[str] = []
    if scope:
        out += ["", f"Checked: {cell(scope)}"]
    base = existing.base_line(run)
    if base:
        out += ["", cell(base[0].upper() + base[1:])]
    old_lines = existing.collapsed(run)
    if old_lines:
        out += ["", *(f"> {cell(line)}" for line in old_lines)]
    return out


def _details(run: RunResult, first: int) -> list[str]:
    """The per-stage sections after the table: why errored stages could not run, new findings."""
    out: list[str] = []
    for s in run.stages:
        if s.status == "error":
            out += _error_block(s)
        elif _new(s) and s.status == "failed":
            out += _findings_block(s, first)
    return out


def render_summary(run: RunResult, *, scope: str = "", first: int = FIRST) -> str:
    """The markdown summary; ``scope`` says what was checked (e.g. the change's base)."""
    out = [f"## gatekeeper: {_ICON[run.verdict]} {run.verdict}", "", _headline(run)]
    out += _context(run, scope)
    out += [
        "",
        "| stage | status | new | existing | baselined | duration |",
        "|---|---|---:|---:|---:|---:|",
    ]
    out += [_row(s) for s in run.stages]
    out += _details(run, first)
    return "\n".join(out) + "\n"
