"""The part of ``gatekeeper verify``'s report that compares with the previous run."""

from __future__ import annotations

from typing import Any

from gatekeeper.compare import Comparison
from gatekeeper.models import Finding

SHOWN = 10  # items listed per group; the counts are always complete


def _described(d: dict[str, Any]) -> str:
    where = d.get("path") or "(project)"
    if d.get("line"):
        where = f"{where}:{d['line']}"
    if not d.get("rule"):
        return f"- finding {d.get('fingerprint', '?')}"
    return f"- `{where}` {d.get('stage')} `{d.get('rule')}`: {str(d.get('message', ''))[:160]}"


def _finding(f: Finding) -> str:
    return f"- `{f.location or '(project)'}` {f.stage} `{f.rule}`: {f.message[:160]}"


def _group(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    more = [f"- … and {len(lines) - SHOWN} more"] if len(lines) > SHOWN else []
    return ["", f"### {title} ({len(lines)})", *lines[:SHOWN], *more]


def comparison_section(comparison: Comparison | None) -> str:
    """Markdown: fixed / new / persisting since the last recorded run of this repository."""
    if comparison is None:
        return (
            "\n## Compared with the last run\n\nNo earlier run is recorded for this repository.\n"
        )
    prev = comparison.previous
    out = [
        "",
        "## Compared with the last run",
        "",
        f"Last run: {prev.get('ts', '?')} ({prev.get('trigger', '?')}), verdict "
        f"{prev.get('verdict', '?')}. Fixed {len(comparison.fixed)}, new {len(comparison.new)}, "
        f"still open {len(comparison.persisting)}.",
    ]
    out += _group("Fixed", [_described(d) for d in comparison.fixed])
    out += _group("New since the last run", [_finding(f) for f in comparison.new])
    out += _group("Still open", [_finding(f) for f in comparison.persisting])
    out += _group("Not checked this time", [_described(d) for d in comparison.unchecked])
    return "\n".join(out) + "\n"
