"""``--format agent``: markdown a coding agent can act on, with a hard size cap.

Every finding is a line with ``file:line``, the rule, the message and a fix hint; identical
findings in a file are folded with a count. When the cap is reached, a final line says
exactly what was left out (counts per stage and rule), so nothing disappears silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from gatekeeper.formats import ReportOptions
from gatekeeper.guard.words import broken
from gatekeeper.models import Finding, RunResult, StageResult
from gatekeeper.process import clip
from gatekeeper.reports import existing
from gatekeeper.reports.grouping import Folded, by_file

MIN_CHARS = 600  # below this not even the headline and the left-out line fit
INSTRUCTIONS = (
    "Fix each item at its location, then run `gatekeeper verify`. Do not silence "
    "checks: the code is checked under the base's rules without the comments you added, "
    "and the base's tests, as they were, are the specification."
)


def plural(n: int, word: str) -> str:
    """``1 finding``, ``2 findings``."""
    return f"{n} {word}{'s' if n != 1 else ''}"


def open_findings(run: RunResult) -> list[Finding]:
    """The findings that block: those held neither by the baseline nor by the base."""
    return existing.new_findings(run.findings)


def headline(run: RunResult) -> str:
    """``# gatekeeper: FAILED — 3 findings in 2 files, 1 stage could not run``."""
    findings = open_findings(run)
    errors = [s for s in run.stages if s.status == "error"]
    parts = []
    if findings:
        files = len({f.path for f in findings})
        parts.append(f"{plural(len(findings), 'finding')} in {plural(files, 'file')}")
    if errors:
        parts.append(f"{plural(len(errors), 'stage')} could not run")
    summary = ", ".join(parts) if parts else "all stages passed"
    if run.off_by_config:
        summary += f" ({plural(len(run.off_by_config), 'stage')} off by config)"
    return f"# gatekeeper: {run.verdict.upper()} — {summary}"


def _indent(text: str) -> str:
    first, *rest = text.splitlines() or [""]
    return "\n".join([first, *("  " + ln for ln in rest)])


def item(entry: Folded, limit: int) -> str:
    """One list item; a message longer than ``limit`` keeps its head and loses its middle."""
    f = entry.first
    count = ""
    if entry.count > 1:
        count = f" ×{entry.count} (lines {', '.join(str(n) for n in entry.lines)})"
    message = clip(f.message, limit)
    fix = f" — fix: {f.hint}" if f.hint else ""
    auto = " (autofixable)" if f.fixable else ""
    where = f.location or "(project)"
    return _indent(f"- `{where}` {f.tool} `{f.rule}`{count}: {message}{fix}{auto}")


def error_lines(stage: StageResult, snippet_chars: int) -> list[str]:
    """A stage that could not run: its reason, and the tail of the tool's output."""
    reason = (stage.reason or "unknown error").strip()
    first, _, rest = reason.partition("\n")
    lines = [f"- **{stage.name}**: {first[:300]}"]
    snippet = rest.strip()[-snippet_chars:] if snippet_chars > 0 else ""
    if snippet.strip():
        lines += ["  ```", *("  " + ln for ln in snippet.splitlines()), "  ```"]
    return lines


def passed_report(run: RunResult) -> str:
    """A passing run: nothing to fix; skipped stages are named so nothing hides."""
    out = [headline(run), "", "Every enabled stage passed. Nothing to fix."]
    note = existing.agent_note(run)
    out += ["", *note] if note else []
    out += [f"- {s.name}: skipped ({s.reason})" for s in run.stages if s.status == "skipped"]
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Entry:
    """A folded finding and its rendered item, in report order."""

    path: str
    folded: Folded
    text: str


def entries_of(run: RunResult, cap: int) -> list[Entry]:
    """Every folded finding, grouped by file, rendered with a per-item size limit."""
    limit = max(cap // 4, 200)
    return [
        Entry(path, folded, item(folded, limit))
        for path, group in by_file(open_findings(run)).items()
        for folded in group
    ]


def left_out_line(cap: int, rest: list[Entry]) -> list[str]:
    """The line saying exactly what the cap left out (empty when nothing was)."""
    if not rest:
        return []
    kinds: Counter[str] = Counter()
    for e in rest:
        kinds[f"{e.folded.first.stage} {e.folded.first.rule}"] += e.folded.count
    total = sum(kinds.values())
    files = len({e.path for e in rest})
    shown = ", ".join(f"{k} ×{n}" for k, n in kinds.most_common(8))
    more = f" and {len(kinds) - 8} more kinds" if len(kinds) > 8 else ""
    return [
        "",
        f"_Left out to stay under {cap} characters: {plural(total, 'finding')} in "
        f"{plural(files, 'file')} ({shown}{more}). Fix the ones above first, or run "
        "`gatekeeper run --format json` for the full list._",
    ]


def heading(path: str) -> list[str]:
    """The lines that open a file's group."""
    return ["", f"## `{path or '(project)'}`"]


def body(entries: list[Entry]) -> list[str]:
    """Items under a heading per file."""
    out: list[str] = []
    path: str | None = None
    for e in entries:
        if e.path != path:
            out += heading(e.path)
            path = e.path
        out.append(e.text)
    return out


def assemble(head: list[str], entries: list[Entry], keep: int, cap: int) -> str:
    """The report with the first ``keep`` entries and a left-out line for the rest."""
    lines = head + body(entries[:keep]) + left_out_line(cap, entries[keep:])
    return "\n".join(lines) + "\n"


def size(lines: list[str]) -> int:
    """Characters of ``lines`` joined by newlines, with a final newline."""
    return sum(len(line) + 1 for line in lines)


def fitting(head: list[str], entries: list[Entry], cap: int) -> int:
    """How many entries fit under ``cap`` together with the left-out line."""
    used, keep, path = size(head), 0, None
    for e in entries:
        cost = len(e.text) + 1 + (size(heading(e.path)) if e.path != path else 0)
        if used + cost > cap:
            break
        used, keep, path = used + cost, keep + 1, e.path
    # The left-out line needs room too: give back entries until it fits.
    while keep > 0 and len(assemble(head, entries, keep, cap)) > cap:
        keep -= 1
    return keep


def render(run: RunResult, options: ReportOptions) -> str:
    """The agent report, never longer than ``options.max_chars`` (at least 600)."""
    cap = max(options.max_chars, MIN_CHARS)
    if run.verdict == "passed":
        return passed_report(run)[:cap]
    note = existing.agent_note(run)
    head = [headline(run), "", INSTRUCTIONS, *(["", *note] if note else [])]
    invariants = broken(run.findings)
    if invariants:
        head += ["", "## Invariants this change broke (undo the cheat, then fix the code)"]
        head += invariants
    errors = [s for s in run.stages if s.status == "error"]
    if errors:
        snippet = min(800, cap // (3 * len(errors)) - 100)
        head += ["", "## Stages that could not run"]
        head += [line for s in errors for line in error_lines(s, snippet)]
    entries = entries_of(run, cap)
    text = assemble(head, entries, fitting(head, entries, cap), cap)
    # Unreachable with sane caps (the head is bounded); a hard stop all the same.
    return text if len(text) <= cap else text[: cap - 30] + "\n_(report truncated at cap)_\n"
