"""``--format github``: GitHub Actions workflow commands, shown as annotations on the diff.

``::error file=…,line=…,col=…,title=…::message`` per finding, escaped by the workflow-command
rules (data: ``%`` ``\\r`` ``\\n``; properties also ``:`` and ``,``). GitHub shows at most ten
annotations of each level per step, so the report keeps to that and ends with a notice that
says what was left out and where the full list is. Stages that could not run come first: an
error must never scroll out of sight behind findings. Baselined findings are not annotated
(they are not new), nor are findings already at the base of the change; tests that were
already failing there get one warning, so they are not forgotten. The closing lines name the
base and count both.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from gatekeeper.formats import ReportOptions
from gatekeeper.models import Finding, RunResult
from gatekeeper.reports.existing import base_line, failing_tests, new_findings
from gatekeeper.reports.text import summary

#: GitHub displays this many annotations per level and step; the rest would vanish silently.
PER_LEVEL = 10
_COMMAND = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message (after ``::``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command's property value (``file=…``, ``title=…``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props: str | int) -> str:
    """One workflow command line, e.g. ``::error file=a.py,line=3::boom``."""
    shown = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v not in ("", 0))
    head = f"{name} {shown}" if shown else name
    return f"::{head}::{escape_data(message)}"


def annotation(f: Finding) -> str:
    """The workflow command for one finding."""
    message = f.message + (f"\nfix: {f.hint}" if f.hint else "")
    return command(
        _COMMAND.get(f.severity, "error"),
        message,
        file=f.path,
        line=f.line,
        col=f.column,
        title=f"gatekeeper {f.stage}: {f.rule}",
    )


def lines(run: RunResult, per_level: int = PER_LEVEL) -> list[str]:
    """The annotations of a run, capped per level, plus a notice naming what was left out."""
    out: list[str] = []
    used: Counter[str] = Counter()
    left: Counter[str] = Counter()
    for s in run.stages:
        if s.status == "error":
            used["error"] += 1
            out.append(
                command(
                    "error",
                    f"stage {s.name} could not run: {s.reason or 'no reason given'}",
                    title=f"gatekeeper {s.name}: could not run",
                )
            )
    for f in _new(run.findings):
        level = _COMMAND.get(f.severity, "error")
        # One notice slot stays free for the closing note about what was left out.
        limit = per_level - 1 if level == "notice" else per_level
        if used[level] >= limit:
            left[f"{f.stage} {f.rule}"] += 1
            continue
        used[level] += 1
        out.append(annotation(f))
    tests = failing_tests(run)
    if tests:
        names = ", ".join(f.subject for f in tests[:5]) + (" …" if len(tests) > 5 else "")
        out.append(
            command(
                "warning",
                f"{len(tests)} test(s) already failing at the base of the change still fail "
                f"(not blocking it): {names}",
                title="gatekeeper: tests already failing at the base",
            )
        )
    if left:
        kinds = ", ".join(f"{k} ×{n}" for k, n in left.most_common(6))
        more = f" and {len(left) - 6} more kinds" if len(left) > 6 else ""
        out.append(
            command(
                "notice",
                f"{sum(left.values())} more findings not annotated ({kinds}{more}); "
                "see the job summary, the SARIF/JUnit reports or `gatekeeper run`",
                title="gatekeeper: annotations capped",
            )
        )
    return out


def _new(findings: Iterable[Finding]) -> list[Finding]:
    return new_findings(findings)


def render(run: RunResult, options: ReportOptions) -> str:
    # The closing line is plain log text (counts include baselined findings).
    base = base_line(run)
    return "\n".join([*lines(run), *([base] if base else []), summary(run, False)]) + "\n"
