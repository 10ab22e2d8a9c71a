"""The hand-off summary: what a person taking over from a loop that did not get clean needs.

Who tried what (each fixer's attempts and why it was given up), what still blocks, any
tampering, and what changed since the loop started — so nobody has to reread the logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gatekeeper.loop.prompt import compact_stat
from gatekeeper.loop.stall import blocking, describe
from gatekeeper.models import RunResult

MAX_ITEMS = 10

_WHY = {
    "stuck": "every fixer stalled",
    "budget": "the budget (attempts or minutes) ran out",
    "tamper": "a fixer silenced a check instead of fixing the code, or changed the gate's hooks",
}


def _fixers(attempts: Sequence[Mapping[str, Any]]) -> list[str]:
    by_fixer: dict[str, list[Mapping[str, Any]]] = {}
    for rec in attempts:
        if rec.get("fixer"):
            by_fixer.setdefault(str(rec["fixer"]), []).append(rec)
    out = []
    for spec, recs in by_fixer.items():
        numbers = ", ".join(str(r.get("attempt")) for r in recs)
        fixed = sum(int(r.get("fixed", 0)) for r in recs)
        last = recs[-1].get("stuck")
        why = f"; gave up: {last}" if last else ""
        label = "attempts" if len(recs) > 1 else "attempt"
        out.append(f"- `{spec}`: {label} {numbers}, fixed {fixed} in all{why}")
    return out or ["- no fixer ran"]


def _hooks(attempts: Sequence[Mapping[str, Any]]) -> list[str]:
    """The section listing the gate hooks any fixer changed (empty if none did)."""
    hooks = sorted({h for a in attempts for h in a.get("hooks_changed") or ()})
    if not hooks:
        return []
    return [
        "",
        "The gate's own hooks were changed by a fixer (restore them):",
        *(f"- {h}" for h in hooks),
    ]


def _tampering(run: RunResult) -> list[str]:
    """The section listing the tamper stage's findings (empty if there are none)."""
    tampering = [f for s in run.stages if s.name == "tamper" for f in s.findings]
    if not tampering:
        return []
    return [
        "",
        "Tampering to undo first:",
        *(f"- `{f.location}` {f.rule}: {f.message[:160]}" for f in tampering[:MAX_ITEMS]),
    ]


def _blocking(run: RunResult) -> list[str]:
    """The section listing what still blocks ``run``, capped at ``MAX_ITEMS``."""
    items = blocking(run)
    lines = ["", f"Still blocking ({len(items)}):"]
    lines += [f"- {describe(fp, f)}" for fp, f in list(items.items())[:MAX_ITEMS]]
    if len(items) > MAX_ITEMS:
        # Say how many were left out so the cap never hides that more remain.
        lines.append(f"- … and {len(items) - MAX_ITEMS} more (`gatekeeper run` lists them)")
    return lines


def summary(
    run: RunResult,
    reason: str,
    *,
    attempts: Sequence[Mapping[str, Any]],
    start_tree: str,
    stat: str,
    loop_id: str,
    workdir: Path,
) -> str:
    """A markdown hand-off for a person after a loop ended ``reason`` (not clean)."""
    used = sum(1 for a in attempts if a.get("fixer"))
    lines = [
        f"## Hand-off: the loop stopped ({reason}) after {used} attempt{'s' if used != 1 else ''}"
        f" — {_WHY.get(reason, reason)}; a person needs to take over.",
        "",
        "Fixers tried:",
        *_fixers(attempts),
        *_hooks(attempts),
        *_tampering(run),
        *_blocking(run),
        "",
        f"Changed since the loop started (tree {start_tree[:10]} → {run.tree[:10]}): "
        f"{compact_stat(stat, 400)}",
        f"Loop {loop_id}: prompts and fixer logs in {workdir}; "
        "`gatekeeper history` has the record.",
    ]
    return "\n".join(lines) + "\n"
