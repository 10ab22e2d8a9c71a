"""``--format agent``: markdown a coding agent can act on, with a hard size cap.

Every finding is a line with ``file:line``, the rule, the message and a fix hint; identical
findings in a file are folded with a count. When the cap is reached, a final line says
exactly what was left out (counts per stage and rule), so nothing disappears silently.
"""

from __future__ import annotations

from collections import Counter

from gatekeeper.formats import ReportOptions
from gatekeeper.models import RunResult, StageResult
from gatekeeper.reports.grouping import Folded, by_file

RESERVE = 400  # room kept for the left-out line


def headline(run: RunResult) -> str:
    findings = [f for s in run.stages for f in s.findings if not f.baselined]
    files = len({f.path for f in findings})
    errors = [s for s in run.stages if s.status == "error"]
    parts = []
    if findings:
        parts.append(
            f"{len(findings)} finding{'s' if len(findings) != 1 else ''} "
            f"in {files} file{'s' if files != 1 else ''}"
        )
    if errors:
        parts.append(f"{len(errors)} stage{'s' if len(errors) != 1 else ''} could not run")
    summary = ", ".join(parts) if parts else "all stages passed"
    return f"# gatekeeper: {run.verdict.upper()} — {summary}"


def _item(entry: Folded) -> str:
    f = entry.first
    where = f.location
    count = ""
    if entry.count > 1:
        count = f" ×{entry.count} (lines {', '.join(str(n) for n in entry.lines)})"
    fix = f" — fix: {f.hint}" if f.hint else ""
    auto = " (autofixable)" if f.fixable else ""
    return f"- `{where}` {f.tool} `{f.rule}`{count}: {f.message}{fix}{auto}"


def _error_lines(stage: StageResult) -> list[str]:
    reason = (stage.reason or "unknown error").strip()
    first, _, rest = reason.partition("\n")
    lines = [f"- **{stage.name}**: {first}"]
    if rest.strip():
        snippet = rest.strip()[-800:]
        lines += ["  ```", *("  " + ln for ln in snippet.splitlines()), "  ```"]
    return lines


def render(run: RunResult, options: ReportOptions) -> str:
    cap = max(options.max_chars, 600)
    out: list[str] = [headline(run), ""]
    if run.verdict == "passed":
        skipped = [s for s in run.stages if s.status == "skipped"]
        out.append("Every enabled stage passed. Nothing to fix.")
        out += [f"- {s.name}: skipped ({s.reason})" for s in skipped]
        return "\n".join(out) + "\n"
    out.append(
        "Fix each item at its location, then run `gatekeeper verify`. Do not silence "
        "checks: a new `# noqa`, `# type: ignore`, skip marker, deleted test or loosened "
        "config is itself reported as a finding."
    )
    errors = [s for s in run.stages if s.status == "error"]
    if errors:
        out += ["", "## Stages that could not run"]
        for s in errors:
            out += _error_lines(s)
    size = sum(len(line) + 1 for line in out)
    left: Counter[str] = Counter()
    left_files: set[str] = set()
    for path, entries in by_file(f for f in run.findings if not f.baselined).items():
        header = ["", f"## `{path}`"]
        for entry in entries:
            line = _item(entry)
            block = [*header, line] if header else [line]
            cost = sum(len(x) + 1 for x in block)
            if left or size + cost > cap - RESERVE:
                left[f"{entry.first.stage} {entry.first.rule}"] += entry.count
                left_files.add(path)
                continue
            out += block
            size += cost
            header = []
    if left:
        total = sum(left.values())
        kinds = ", ".join(f"{k} ×{n}" for k, n in left.most_common(8))
        more = f" and {len(left) - 8} more kinds" if len(left) > 8 else ""
        out += [
            "",
            f"_Left out to stay under {cap} characters: {total} findings in "
            f"{len(left_files)} files ({kinds}{more}). Fix the ones above first, or run "
            f"`gatekeeper run --format json` for the full list._",
        ]
    text = "\n".join(out) + "\n"
    return text if len(text) <= cap else text[: cap - 40] + "\n_(report truncated at cap)_\n"
