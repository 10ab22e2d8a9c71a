"""The prompt a fixer gets: the bounded agent report plus the loop's memory.

A fresh agent in each attempt would repeat what already failed. So the prompt says which
findings survived earlier attempts, what those attempts changed (diff stat), and lists
explicitly what did not work — including attempts of earlier loop sessions on the same
findings, read from the ledger. The whole prompt stays under the agent report's size cap:
memory gets at most :data:`MEMORY_SHARE` of it and the report is rendered in the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from gatekeeper.formats import ReportOptions
from gatekeeper.loop.stall import blocking, describe
from gatekeeper.models import Finding, RunResult
from gatekeeper.reports import agent

MEMORY_SHARE = 0.4
MIN_REPORT = 800  # the findings themselves always keep at least this much room
MAX_LINE = 240  # one memory line; longer ones are cut so several fit


def compact_stat(diffstat: str, limit: int = 240) -> str:
    """``git diff --stat`` output on one line (``a.py | 2 +-; 1 file changed, …``)."""
    parts = [" ".join(line.split()) for line in diffstat.strip().splitlines() if line.strip()]
    text = "; ".join(parts) or "no change"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fixer_label(rec: Mapping[str, Any]) -> str:
    timed_out = rec.get("fixer_timed_out")
    status = "killed at the timeout" if timed_out else f"exit {rec.get('fixer_exit')}"
    return f"`{rec.get('fixer', '?')}`, {status}"


def _persisted(run: RunResult, memory: Sequence[Mapping[str, Any]]) -> list[str]:
    current = blocking(run)
    survived: dict[str, int] = {}
    for rec in memory:
        for fp in rec.get("persisting_fingerprints", ()):
            if fp in current:
                survived[fp] = survived.get(fp, 0) + 1
    ranked = sorted(survived.items(), key=lambda kv: (-kv[1], kv[0]))
    return [
        f"- {describe(fp, current[fp])} — survived {n} attempt{'s' if n != 1 else ''}"
        for fp, n in ranked
    ]


def _changes(memory: Sequence[Mapping[str, Any]]) -> list[str]:
    out = []
    for rec in memory:
        counts = f"fixed {rec.get('fixed', 0)}, new {rec.get('new', 0)}"
        counts += f", persisting {rec.get('persisting', 0)}"
        stat = compact_stat(str(rec.get("diffstat", "")))
        out.append(f"- attempt {rec.get('attempt')} ({_fixer_label(rec)}): {stat} → {counts}")
    return out


def _failed_item(rec: Mapping[str, Any], current: Mapping[str, Finding | None]) -> str | None:
    stuck = rec.get("stuck")
    n = rec.get("attempt")
    if rec.get("tree_after") == rec.get("tree_before"):
        return f"- attempt {n} changed nothing ({_fixer_label(rec)})"
    if stuck:
        return f"- attempt {n}: {stuck}; take a different approach"
    stayed = [fp for fp in rec.get("persisting_fingerprints", ()) if fp in current]
    if rec.get("fixed", 0) == 0 and stayed:
        what = describe(stayed[0], current[stayed[0]])
        more = f" (and {len(stayed) - 1} more)" if len(stayed) > 1 else ""
        stat = compact_stat(str(rec.get("diffstat", "")), 120)
        return f"- attempt {n} changed {stat} but fixed nothing: {what}{more} stayed"
    if rec.get("new", 0):
        return f"- attempt {n} introduced {rec['new']} new finding(s) while fixing"
    return None


def _earlier(
    earlier: Sequence[Mapping[str, Any]], current: Mapping[str, Finding | None]
) -> list[str]:
    out = []
    for rec in reversed(earlier):  # newest first: the most relevant experience
        stayed = [fp for fp in rec.get("persisting_fingerprints", ()) if fp in current]
        if not stayed:
            continue
        when = str(rec.get("ts", ""))[:16].replace("T", " ")
        stat = compact_stat(str(rec.get("diffstat", "")), 120)
        what = describe(stayed[0], current[stayed[0]])
        more = f" (and {len(stayed) - 1} more)" if len(stayed) > 1 else ""
        out.append(
            f"- earlier session {when} (loop {str(rec.get('loop_id', '?'))[:8]}, "
            f"`{rec.get('fixer', '?')}`): changed {stat}; {what}{more} stayed"
        )
    return out


def memory_text(
    run: RunResult,
    memory: Sequence[Mapping[str, Any]],
    earlier: Sequence[Mapping[str, Any]],
    *,
    attempt: int,
    max_attempts: int,
    budget: int,
) -> str:
    """The memory section, at most ``budget`` characters (lines dropped are counted)."""
    current = blocking(run)
    persisted = _persisted(run, memory)
    changes = _changes(memory)
    failed = [x for rec in memory if (x := _failed_item(rec, current))]
    failed += _earlier(earlier, current)
    if not (persisted or changes or failed):
        return ""
    sections: list[tuple[str, list[str]]] = [
        ("### These did not work — do not repeat them", failed),
        ("### Still failing after earlier attempts", persisted),
        ("### What earlier attempts changed", changes),
    ]
    out = [f"## Loop memory — attempt {attempt} of {max_attempts}"]
    size = len(out[0]) + 1
    dropped = 0
    for title, lines in sections:
        if not lines:
            continue
        block = ["", title]
        for full in lines:
            line = full if len(full) <= MAX_LINE else full[: MAX_LINE - 1] + "…"
            cost = sum(len(x) + 1 for x in block) + len(line) + 1
            if size + cost > budget - 80:
                dropped += 1
                continue
            out += [*block, line]
            size += cost
            block = []
    if dropped:
        out.append(f"\n_{dropped} more memory lines left out to stay under the size cap._")
    return "\n".join(out) + "\n"


def build(
    run: RunResult,
    memory: Sequence[Mapping[str, Any]],
    earlier: Sequence[Mapping[str, Any]],
    *,
    attempt: int,
    max_attempts: int,
    cap: int,
) -> str:
    """The fixer's prompt: agent report first (what to fix), then memory, under ``cap`` chars."""
    budget = max(0, min(int(cap * MEMORY_SHARE), cap - MIN_REPORT))
    mem = memory_text(
        run, memory, earlier, attempt=attempt, max_attempts=max_attempts, budget=budget
    )
    report = agent.render(run, ReportOptions(max_chars=max(cap - len(mem) - 2, 600)))
    text = report if not mem else f"{report}\n{mem}"
    if len(text) > cap:  # the report's own floor can exceed a tiny cap; never exceed it
        text = text[: cap - 30] + "\n_(prompt truncated at cap)_\n"
    return text
