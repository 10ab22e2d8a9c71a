"""``--format text``: for a person at a terminal — stage lines, findings by file, a summary."""

from __future__ import annotations

from gatekeeper.formats import ReportOptions
from gatekeeper.models import RunResult, StageResult
from gatekeeper.reports.grouping import by_file

_MARK = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "-"}
_COLOR = {"passed": "32", "failed": "31", "error": "35", "skipped": "33"}


def paint(text: str, code: str, on: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if on else text


def stage_line(s: StageResult, color: bool) -> str:
    """``  ✓ ruff           0.21s`` plus counts or the reason."""
    mark = paint(_MARK[s.status], _COLOR[s.status], color)
    took = f"{s.duration_s:6.2f}s" if s.status != "skipped" else " " * 7
    detail = ""
    if s.status == "failed":
        n = sum(1 for f in s.findings if not f.baselined)
        detail = f"{n} finding{'s' if n != 1 else ''}"
    elif s.status in ("error", "skipped"):
        detail = f"{s.status}: {(s.reason or '').splitlines()[0] if s.reason else ''}"
    held = sum(1 for f in s.findings if f.baselined)
    if held:
        detail = f"{detail} ({held} baselined)".strip()
    if s.cached:
        detail = f"{detail} (cached)".strip()
    return f"  {mark} {s.name:<14} {took}  {detail}".rstrip()


def summary(run: RunResult, color: bool) -> str:
    findings = sum(1 for f in run.findings if not f.baselined)
    held = len(run.findings) - findings
    failed = [s.name for s in run.stages if s.status == "failed"]
    errors = [s.name for s in run.stages if s.status == "error"]
    passed = sum(1 for s in run.stages if s.status == "passed")
    skipped = sum(1 for s in run.stages if s.status == "skipped")
    word = paint(run.verdict.upper(), _COLOR[run.verdict], color)
    parts = [f"{passed} passed"]
    if failed:
        parts.append(f"{findings} finding{'s' if findings != 1 else ''} in {', '.join(failed)}")
    if errors:
        parts.append(f"could not run: {', '.join(errors)}")
    if skipped:
        parts.append(f"{skipped} skipped")
    if held:
        parts.append(f"{held} baselined")
    tree = run.commit[:10] if run.commit else run.tree[:10]
    return f"{word}  {' · '.join(parts)} · {run.duration_s:.2f}s · tree {tree}"


def render(run: RunResult, options: ReportOptions, *, stage_lines: bool = True) -> str:
    color = options.color
    out: list[str] = []
    if stage_lines:
        out += [stage_line(s, color) for s in run.stages]
    for s in run.stages:
        if s.status == "error" and s.reason and "\n" in s.reason:
            out += ["", paint(f"{s.name} could not run:", _COLOR["error"], color)]
            out += ["    " + ln for ln in s.reason.splitlines()]
    for path, entries in by_file(f for f in run.findings if not f.baselined).items():
        out += ["", paint(path, "1", color)]
        for e in entries:
            f = e.first
            pos = f"{f.line}:{f.column}" if f.column else (str(f.line) if f.line else "-")
            times = f" (×{e.count}: lines {', '.join(map(str, e.lines))})" if e.count > 1 else ""
            rule = paint(f"{f.stage}[{f.rule}]", "36", color)
            out.append(f"  {pos:<8} {rule} {f.message}{times}")
            if f.hint:
                out.append(paint(f"           hint: {f.hint}", "2", color))
    out += ["", summary(run, color)]
    return "\n".join(out) + "\n"
