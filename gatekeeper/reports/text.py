"""``--format text``: for a person at a terminal — stage lines, findings by file, a summary.

A fix hint is printed once per rule per file: the same advice under every one of forty
identical lint findings would bury the findings themselves.
"""

from __future__ import annotations

from gatekeeper.formats import ReportOptions
from gatekeeper.models import Finding, RunResult, StageResult
from gatekeeper.reports import existing
from gatekeeper.reports.grouping import Folded, by_file

_MARK = {"passed": "✓", "failed": "✗", "error": "!", "skipped": "-"}
_COLOR = {"passed": "32", "failed": "31", "error": "35", "skipped": "33"}


def paint(text: str, code: str, on: bool) -> str:
    """``text`` in ANSI colour ``code`` when ``on``."""
    return f"\033[{code}m{text}\033[0m" if on else text


def plural(n: int, word: str) -> str:
    """``1 finding``, ``2 findings``."""
    return f"{n} {word}{'s' if n != 1 else ''}"


def open_findings(findings: tuple[Finding, ...]) -> list[Finding]:
    """The findings that block: those held neither by the baseline nor by the base."""
    return existing.new_findings(findings)


#: pytest's counts, in pytest's own order, as the stage reports them in ``extra["tests"]``.
TEST_COUNTS = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "deselected")


def test_counts(s: StageResult) -> str:
    """``12 collected: 11 passed, 1 failed, 2 deselected`` ("" for a stage without tests)."""
    counts = s.extra.get("tests")
    if not isinstance(counts, dict):
        return ""
    shown = [f"{counts[k]} {k}" for k in TEST_COUNTS if counts.get(k)]
    return f"{counts.get('collected', 0)} collected" + (f": {', '.join(shown)}" if shown else "")


def _detail(s: StageResult) -> str:
    detail = ""
    if s.status == "failed":
        detail = plural(len(open_findings(s.findings)), "finding")
    elif s.status in ("error", "skipped"):
        detail = f"{s.status}: {s.reason.splitlines()[0] if s.reason else ''}"
    held = sum(1 for f in s.findings if f.baselined)
    old = sum(1 for f in s.findings if f.existing and not f.baselined)
    extras = [f"({test_counts(s)})"] if test_counts(s) else []
    extras += [f"({held} baselined)"] if held else []
    extras += [f"({old} existing)"] if old else []
    extras += ["(cached)"] if s.cached else []
    return " ".join([detail, *extras]).strip()


def stage_line(s: StageResult, color: bool) -> str:
    """``  ✓ ruff           0.21s`` plus counts or the reason."""
    mark = paint(_MARK[s.status], _COLOR[s.status], color)
    took = f"{s.duration_s:6.2f}s" if s.status != "skipped" else " " * 7
    return f"  {mark} {s.name:<14} {took}  {_detail(s)}".rstrip()


def summary(run: RunResult, color: bool) -> str:
    """One line: the verdict, what passed, failed, could not run or was skipped, the tree."""
    by_status = {st: [s.name for s in run.stages if s.status == st] for st in _MARK}
    findings = len(open_findings(run.findings))
    held = sum(1 for f in run.findings if f.baselined)
    old = len(existing.existing_findings(run))
    parts = [f"{len(by_status['passed'])} passed"]
    if by_status["failed"]:
        parts.append(f"{plural(findings, 'finding')} in {', '.join(by_status['failed'])}")
    if by_status["error"]:
        parts.append(f"could not run: {', '.join(by_status['error'])}")
    if by_status["skipped"]:
        parts.append(f"{len(by_status['skipped'])} skipped")
    if held:
        parts.append(f"{held} baselined")
    if run.off_by_config:
        parts.append(f"{plural(len(run.off_by_config), 'stage')} off by config")
    if old:
        parts.append(f"{old} existing")
    word = paint(run.verdict.upper(), _COLOR[run.verdict], color)
    # The tree is what was checked (content hash, uncommitted changes included); the commit
    # only says where it sits, since a dirty tree is not that commit.
    where = f" (HEAD {run.commit[:10]})" if run.commit else ""
    return f"{word}  {' · '.join(parts)} · {run.duration_s:.2f}s · tree {run.tree[:10]}{where}"


def error_details(run: RunResult, color: bool) -> list[str]:
    """The full reason (tool output tail) of every stage that could not run."""
    out: list[str] = []
    for s in run.stages:
        if s.status == "error" and s.reason and "\n" in s.reason:
            out += ["", paint(f"{s.name} could not run:", _COLOR["error"], color)]
            out += ["    " + ln for ln in s.reason.splitlines()]
    return out


def finding_lines(entry: Folded, color: bool, hinted: set[tuple[str, str]]) -> list[str]:
    """A finding's line, and its hint unless this file already showed it for the rule."""
    f = entry.first
    pos = f"{f.line}:{f.column}" if f.column else (str(f.line) if f.line else "-")
    times = (
        f" (×{entry.count}: lines {', '.join(map(str, entry.lines))})" if entry.count > 1 else ""
    )
    rule = paint(f"{f.stage}[{f.rule}]", "36", color)
    first, *rest = f.message.splitlines() or [""]
    lines = [f"  {pos:<8} {rule} {first}{times}", *(f"           {ln}" for ln in rest)]
    if f.hint and (f.rule, f.hint) not in hinted:
        hinted.add((f.rule, f.hint))
        lines.append(paint(f"           hint: {f.hint}", "2", color))
    return lines


def findings_by_file(run: RunResult, color: bool) -> list[str]:
    """Open findings grouped by file, identical ones folded."""
    out: list[str] = []
    for path, entries in by_file(open_findings(run.findings)).items():
        out += ["", paint(path or "(project)", "1", color)]
        hinted: set[tuple[str, str]] = set()
        for entry in entries:
            out += finding_lines(entry, color, hinted)
    return out


def render(run: RunResult, options: ReportOptions, *, stage_lines: bool = True) -> str:
    """The whole text report; ``stage_lines`` is false when a live display already drew them."""
    color = options.color
    out = [stage_line(s, color) for s in run.stages] if stage_lines else []
    if not stage_lines:
        # The live lines were drawn as stages finished, before the base judged them.
        judged = [s for s in run.stages if s.extra.get("existing")]
        out += ["judged against the base:"] * bool(judged)
        out += [stage_line(s, color) for s in judged]
    out += error_details(run, color)
    out += findings_by_file(run, color)
    out += environment_lines(run)
    old = existing.collapsed(run)
    out += ["", *(paint(line, "2", color) for line in old)] if old else []
    line = existing.base_line(run)
    out += ["", line] if line else []
    out += [summary(run, color)] if line else ["", summary(run, color)]
    return "\n".join(out) + "\n"


def environment_lines(run: RunResult) -> list[str]:
    """What changed in the project interpreter's environment since the last run with it."""
    changed = list(run.environment.get("changed") or ())
    if not changed:
        return []
    head = f"note: the environment of {run.environment.get('python')} changed since the last run:"
    return ["", head, *(f"  {line}" for line in changed)]
