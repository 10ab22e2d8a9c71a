"""The figures of ``gatekeeper report``: yield, attempts, what fails, where the time goes.

:func:`compute` turns the typed records of the ledgers into one JSON-ready mapping, the
``gatekeeper report --format json`` document (schema ``gatekeeper/schemas/ledger-report-v1.json``).
The terminal summary and the HTML page are both drawn from it, so the three never disagree.
Rates are fractions (0–1, 4 decimals; null when nothing was counted), durations seconds.
Medians are the middle value (the mean of the two middle ones for an even count); p90 is the
nearest-rank 90th percentile (the smallest value at or above 90 % of the values).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from gatekeeper.metrics.records import Records, Run
from gatekeeper.metrics.sources import Source, Window
from gatekeeper.metrics.units import Step, Unit, agent_label, units

VERSION = 1
STOP_REASONS = ("clean", "budget", "stuck", "tamper", "error", "interrupted")
SESSION_OUTCOMES = ("clean", "budget", "stuck", "open", "partial", "failed", "error")
TOP_STAGES = 15
TOP_RULES = 25
LATEST = 50


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` to 4 decimals, None when nothing was counted."""
    return round(part / whole, 4) if whole else None


def median(values: Sequence[float]) -> float | None:
    """The median to 3 decimals, None for no values."""
    return round(statistics.median(values), 3) if values else None


def p90(values: Sequence[float]) -> float | None:
    """The nearest-rank 90th percentile to 3 decimals, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(math.ceil(0.9 * len(ordered)), 1) - 1], 3)


def iso(ts: datetime | None) -> str | None:
    """A timestamp as ISO 8601 UTC (seconds), None when unknown."""
    return ts.astimezone(timezone.utc).isoformat(timespec="seconds") if ts else None


def _yield_row(group: Iterable[Unit], **key: Any) -> dict[str, Any]:
    counted = [u for u in group if u.counted]
    first = sum(u.first_pass for u in counted)
    final = sum(u.final for u in counted)
    return {
        **key,
        "units": len(counted),
        "first_pass": first,
        "final": final,
        "first_pass_yield": rate(first, len(counted)),
        "final_yield": rate(final, len(counted)),
    }


def _by(items: Iterable[Unit], *keys: str) -> dict[tuple[str, ...], list[Unit]]:
    groups: dict[tuple[str, ...], list[Unit]] = defaultdict(list)
    for item in items:
        groups[tuple(str(getattr(item, k)) for k in keys)].append(item)
    return groups


def _ordered(groups: dict[tuple[str, ...], list[Unit]]) -> list[tuple[tuple[str, ...], list[Unit]]]:
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def _by_day(counted: Sequence[Unit]) -> list[dict[str, Any]]:
    days: dict[str, list[Unit]] = defaultdict(list)
    for u in counted:
        stamp = u.ended or u.started
        if stamp is not None:
            days[stamp.astimezone(timezone.utc).date().isoformat()].append(u)
    return [_yield_row(days[day], day=day) for day in sorted(days)]


def yields(found: Sequence[Unit]) -> dict[str, Any]:
    """First-pass and final yield: overall, per kind, per agent and per day (UTC)."""
    counted = [u for u in found if u.counted]
    outcomes = Counter(u.outcome for u in found if not u.counted)
    return {
        "overall": _yield_row(counted),
        "loops": _yield_row(u for u in counted if u.kind == "loop"),
        "sessions": _yield_row(u for u in counted if u.kind == "session"),
        # loops that found the tree clean before anything ran, and loops without an ending yet
        "not_counted": {"nothing_to_fix": outcomes["clean"], "running": outcomes["running"]},
        "by_agent": [
            _yield_row(group, kind=kind, agent=agent)
            for (kind, agent), group in _ordered(_by(counted, "kind", "agent"))
        ],
        "by_day": _by_day(counted),
    }


def _histogram(values: Iterable[int]) -> dict[str, int]:
    counts = Counter(values)
    return {str(k): counts[k] for k in sorted(counts)}


def attempts(found: Sequence[Unit]) -> dict[str, Any]:
    """Attempts to clean per agent (units that ended clean) and how units ended, per agent."""
    counted = [u for u in found if u.counted]
    to_clean = []
    for (kind, agent), group in _ordered(_by(counted, "kind", "agent")):
        clean = [u.attempts for u in group if u.final]
        to_clean.append(
            {
                "kind": kind,
                "agent": agent,
                "clean": len(clean),
                "histogram": _histogram(clean),
                "median": median(clean),
                "max": max(clean) if clean else None,
            }
        )
    everyone = [u.attempts for u in counted if u.final]
    return {
        "overall": {"clean": len(everyone), "median": median(everyone)},
        "to_clean": to_clean,
        "stop_reasons": _outcomes([u for u in counted if u.kind == "loop"], STOP_REASONS),
        "session_outcomes": _outcomes(
            [u for u in counted if u.kind == "session"], SESSION_OUTCOMES
        ),
    }


def _outcomes(group: Sequence[Unit], known: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for (agent,), mine in _ordered(_by(group, "agent")):
        seen = Counter(u.outcome for u in mine)
        extra = sorted(set(seen) - set(known))
        rows.append({"agent": agent, "units": len(mine), **{r: seen[r] for r in (*known, *extra)}})
    return rows


def failures(runs: Sequence[Run]) -> dict[str, Any]:
    """The stages and rules that fail most, new vs existing, and tamper findings by kind.

    Stages count runs in which they failed or could not run; rules count distinct findings
    (by fingerprint: a finding surviving five attempts is one finding) and the runs it was in.
    """
    stages: dict[str, Counter[str]] = defaultdict(Counter)
    for run in runs:
        for name, status in run.stages.items():
            stages[name][status] += 1
    stage_rows: list[dict[str, Any]] = [
        {
            "stage": name,
            "failed": c["failed"],
            "error": c["error"],
            "runs": sum(c.values()) - c["skipped"],
        }
        for name, c in stages.items()
        if c["failed"] or c["error"]
    ]
    stage_rows.sort(key=lambda r: (-(r["failed"] + r["error"]), r["stage"]))
    rules, tamper, marked = _rules(runs)
    return {
        "stages": stage_rows[:TOP_STAGES],
        "rules": rules[:TOP_RULES],
        "existing_recorded": marked,
        "tamper": tamper,
    }


def _rules(runs: Sequence[Run]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    flags: dict[str, set[bool | None]] = defaultdict(set)
    rule_of: dict[str, tuple[str, str]] = {}
    seen_in: Counter[str] = Counter()
    touched: dict[str, set[str]] = defaultdict(set)
    for run in runs:
        unit = run.loop_id or run.session_id or run.id
        for f in {f.fingerprint: f for f in run.findings}.values():
            rule_of[f.fingerprint] = (f.stage, f.rule)
            flags[f.fingerprint].add(f.existing)
            seen_in[f.fingerprint] += 1
            touched[f.fingerprint].add(unit)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for fp, (stage, rule) in rule_of.items():
        row = rows.setdefault(
            (stage, rule),
            {
                "stage": stage,
                "rule": rule,
                "findings": 0,
                "new": 0,
                "existing": 0,
                "unmarked": 0,
                "runs": 0,
                "units": set(),
            },
        )
        row["findings"] += 1
        row["runs"] += seen_in[fp]
        row["units"] |= touched[fp]
        kind = "existing" if True in flags[fp] else "new" if False in flags[fp] else "unmarked"
        row[kind] += 1
    table = sorted(rows.values(), key=lambda r: (-r["findings"], -r["runs"], r["stage"], r["rule"]))
    for row in table:
        row["units"] = len(row["units"])
    tamper = [
        {"rule": r["rule"], "findings": r["findings"], "units": r["units"]}
        for r in table
        if r["stage"] == "tamper"
    ]
    marked = any(f is not None for s in flags.values() for f in s)
    return table, tamper, marked


def timing(runs: Sequence[Run], found: Sequence[Unit], records: Records) -> dict[str, Any]:
    """Gate time per stage (median, p90; replays from the cache left out), the cache hit
    rate, gate time per run by trigger, and fixer time per attempt."""
    spent: dict[str, list[float]] = defaultdict(list)
    cached: Counter[str] = Counter()
    results: Counter[str] = Counter()
    for run in runs:
        for name, status in run.stages.items():
            if status == "skipped":
                continue
            results[name] += 1
            if name in run.cached:
                cached[name] += 1
            elif name in run.timings:
                spent[name].append(run.timings[name])
    stages = [
        {
            "stage": name,
            "runs": len(spent[name]),
            "median_s": median(spent[name]),
            "p90_s": p90(spent[name]),
            "cached": cached[name],
            "cache_hit_rate": rate(cached[name], results[name]),
        }
        for name in sorted(results, key=lambda n: (-(median(spent[n]) or 0), n))
    ]
    return {
        "stages": stages,
        "cache": {
            "results": sum(results.values()),
            "cached": sum(cached.values()),
            "hit_rate": rate(sum(cached.values()), sum(results.values())),
        },
        "fixers": fixer_times(records),
        "units": {kind: _times_of(found, kind) for kind in ("loop", "session")},
    }


def _times_of(found: Sequence[Unit], kind: str) -> dict[str, float | None]:
    spent = [u.duration_s for u in found if u.kind == kind and u.duration_s is not None]
    return {"median_s": median(spent), "p90_s": p90(spent)}


def fixer_times(records: Records) -> list[dict[str, Any]]:
    """Per fixer: its runs, timeouts and failed exits, its time per attempt (median, p90) and
    the gate's re-check after each attempt (where the ledger records it)."""
    spent: dict[str, list[float]] = defaultdict(list)
    gate: dict[str, list[float]] = defaultdict(list)
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    for a in records.attempts:
        if a.fixer is None:
            continue
        label = agent_label(a.fixer)
        outcomes[label]["attempts"] += 1
        outcomes[label]["timeouts"] += a.timed_out
        outcomes[label]["nonzero_exits"] += not a.timed_out and a.exit_code not in (0, None)
        if a.duration_s is not None:
            spent[label].append(a.duration_s)
        if a.gate_s is not None:
            gate[label].append(a.gate_s)
    return [
        {
            "fixer": label,
            "attempts": outcomes[label]["attempts"],
            "timeouts": outcomes[label]["timeouts"],
            "nonzero_exits": outcomes[label]["nonzero_exits"],
            "median_s": median(spent[label]),
            "p90_s": p90(spent[label]),
            "gate_median_s": median(gate[label]),
            "gate_p90_s": p90(gate[label]),
        }
        for label in sorted(outcomes, key=lambda n: (-outcomes[n]["attempts"], n))
    ]


def run_table(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Runs per trigger: how many, their verdicts, pass rate and gate time."""
    rows = []
    by_trigger: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_trigger[run.trigger].append(run)
    for trigger, mine in sorted(by_trigger.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        verdicts = Counter(r.verdict for r in mine)
        times = [r.duration_s for r in mine if r.duration_s is not None]
        rows.append(
            {
                "trigger": trigger,
                "runs": len(mine),
                "passed": verdicts["passed"],
                "failed": verdicts["failed"],
                "error": verdicts["error"],
                "pass_rate": rate(verdicts["passed"], len(mine)),
                "median_s": median(times),
                "p90_s": p90(times),
            }
        )
    return rows


def _step_json(step: Step) -> dict[str, Any]:
    return {
        "n": step.n,
        "ts": iso(step.ts),
        "who": step.who,
        "result": step.result,
        "after": step.after,
        "fixed": step.fixed,
        "new": step.new,
        "persisting": step.persisting,
        "open": step.open,
        "duration_s": step.duration_s,
        "note": step.note,
    }


def unit_json(u: Unit) -> dict[str, Any]:
    """A loop or session as a row of the latest-units table, with its steps."""
    return {
        "kind": u.kind,
        "id": u.id,
        "agent": u.agent,
        "commands": list(u.commands),
        "source": u.source,
        "started": iso(u.started),
        "ended": iso(u.ended),
        "outcome": u.outcome,
        "attempts": u.attempts,
        "first_pass": u.first_pass if u.counted else None,
        "duration_s": u.duration_s,
        "steps": [_step_json(s) for s in u.steps],
    }


def latest(found: Sequence[Unit], limit: int = LATEST) -> list[dict[str, Any]]:
    """The newest ``limit`` units (by their last record), newest first."""
    floor = datetime.min.replace(tzinfo=timezone.utc)
    order = sorted(
        enumerate(found),
        key=lambda item: (item[1].ended or item[1].started or floor, item[0]),
        reverse=True,
    )
    return [unit_json(u) for _n, u in order[:limit]]


def compute(
    records: Records,
    sources: Sequence[Source],
    scope: Window,
    *,
    latest_limit: int = LATEST,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Every figure of the report as one JSON-ready mapping (see the module docstring)."""
    found = units(records)
    stamps = [t for t in (r.ts for r in records.runs) if t] + [
        t for u in found for t in (u.started, u.ended) if t
    ]
    return {
        "version": VERSION,
        "generated_at": iso(now or datetime.now(timezone.utc)),
        "window": {
            "since": iso(scope.since),
            "until": iso(scope.until),
            "first": iso(min(stamps)) if stamps else None,
            "last": iso(max(stamps)) if stamps else None,
        },
        "ledgers": [
            {"ledger": s.label, "path": str(s.path), "records": s.records} for s in sources
        ],
        "records": {**records.kinds, "unusable": records.unusable},
        "yield": yields(found),
        "attempts": attempts(found),
        "runs": run_table(records.runs),
        "failures": failures(records.runs),
        "time": timing(records.runs, found, records),
        "latest": latest(found, latest_limit),
    }
