"""Ledger lines as typed records, read defensively.

One ledger holds the records of every gatekeeper that ever wrote to it — older ones without
the fields a report wants, newer ones with fields this one does not know — and the lines of
several clones may be read together. Nothing here trusts a field: a missing or mistyped value
is ``None`` (or empty), never an exception, so one odd record costs its own figures only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def text(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def number(value: Any) -> float | None:
    """``value`` as a float when it is a finite int or float (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    result = float(value)
    return result if result == result and abs(result) != float("inf") else None


def count(value: Any) -> int | None:
    """``value`` when it is a non-negative int (bools are not counts)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def integer(value: Any) -> int | None:
    """``value`` when it is an int, negative ones included (bools are not)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def when(value: Any) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (a naive one is taken as UTC), else None."""
    raw = text(value)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(v for v in value if isinstance(v, str) and v)


@dataclass(frozen=True)
class Finding:
    """A finding as a run record describes it; ``existing`` is None where not recorded."""

    fingerprint: str
    stage: str
    rule: str
    existing: bool | None


@dataclass(frozen=True)
class Run:
    """One gate run (``kind: "run"``). Durations in seconds; ``timings`` per stage."""

    id: str
    ts: datetime | None
    source: str
    trigger: str
    verdict: str
    duration_s: float | None
    stages: Mapping[str, str]
    timings: Mapping[str, float]
    cached: frozenset[str]
    findings: tuple[Finding, ...]
    loop_id: str | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class Attempt:
    """One round of a fix loop (``kind: "attempt"``); ``fixer`` None for autofix-only rounds."""

    id: str
    ts: datetime | None
    source: str
    loop_id: str
    attempt: int
    fixer: str | None
    exit_code: int | None
    timed_out: bool
    duration_s: float | None
    verdict_after: str | None
    fixed: int | None
    new: int | None
    persisting: int | None
    stuck: str | None
    escalated_to: str | None
    autofix_fixed: int = 0
    #: seconds of the gate's re-check after the attempt, where recorded
    gate_s: float | None = None


@dataclass(frozen=True)
class Loop:
    """A fix loop's end (``kind: "loop"``): why it stopped and after how many fixer runs."""

    id: str
    ts: datetime | None
    source: str
    loop_id: str
    stop_reason: str
    attempts: int
    fixers: tuple[str, ...]
    verdict: str | None
    duration_s: float | None


@dataclass(frozen=True)
class Decision:
    """A Stop-hook decision (``kind: "hook"``): ``block`` sent the agent back, ``stop`` let
    it end its turn; ``agent`` names who was behind the session, None where not recorded."""

    id: str
    ts: datetime | None
    source: str
    session_id: str
    agent: str | None
    decision: str
    why: str | None
    verdict: str
    open: int


@dataclass(frozen=True)
class Records:
    """The typed records of one or more ledgers, each kind oldest first."""

    runs: tuple[Run, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    loops: tuple[Loop, ...] = ()
    decisions: tuple[Decision, ...] = ()
    #: lines of a known kind that lacked what makes them usable (a loop without its id …)
    unusable: int = 0
    kinds: Mapping[str, int] = field(default_factory=dict)


@functools.lru_cache(maxsize=8192)
def _shared_finding(fingerprint: Any, stage: Any, rule: Any, existing: Any) -> Finding | None:
    # A finding that survives attempts is described in every run: it is checked and built
    # once, and one object serves every run that describes it.
    fingerprint, stage = text(fingerprint), text(stage)
    if fingerprint is None or stage is None:
        return None
    return Finding(
        fingerprint, stage, text(rule) or "?", existing if isinstance(existing, bool) else None
    )


def _finding(raw: Any) -> Finding | None:
    if not isinstance(raw, Mapping):
        return None
    get = raw.get
    try:
        return _shared_finding(get("fingerprint"), get("stage"), get("rule"), get("existing"))
    except TypeError:  # a list or an object where a string belongs: not hashable, not valid
        return None


def _run(r: Mapping[str, Any], source: str, ts: datetime | None) -> Run | None:
    verdict = text(r.get("verdict"))
    if verdict is None:
        return None
    stages = {k: v for k, v in _mapping(r.get("stages")).items() if isinstance(v, str)}
    timings = {k: t for k, v in _mapping(r.get("timings")).items() if (t := number(v)) is not None}
    described = [*_list(r.get("findings")), *_list(r.get("existing_findings"))]
    findings = tuple(f for f in map(_finding, described) if f is not None)
    return Run(
        id=text(r.get("id")) or "",
        ts=ts,
        source=source,
        trigger=text(r.get("trigger")) or "?",
        verdict=verdict,
        duration_s=number(r.get("duration_s")),
        stages=stages,
        timings=timings,
        cached=frozenset(_strings(r.get("cached"))),
        findings=findings,
        loop_id=text(r.get("loop_id")),
        session_id=text(r.get("session_id")),
    )


def _attempt(r: Mapping[str, Any], source: str, ts: datetime | None) -> Attempt | None:
    loop_id, attempt = text(r.get("loop_id")), count(r.get("attempt"))
    if loop_id is None or attempt is None:
        return None
    auto = _mapping(r.get("autofix"))
    return Attempt(
        id=text(r.get("id")) or "",
        ts=ts,
        source=source,
        loop_id=loop_id,
        attempt=attempt,
        fixer=text(r.get("fixer")),
        exit_code=integer(r.get("fixer_exit")),
        timed_out=r.get("fixer_timed_out") is True,
        duration_s=number(r.get("fixer_duration_s")),
        verdict_after=text(r.get("verdict_after")),
        fixed=count(r.get("fixed")),
        new=count(r.get("new")),
        persisting=count(r.get("persisting")),
        stuck=text(r.get("stuck")),
        escalated_to=text(r.get("escalated_to")),
        autofix_fixed=count(auto.get("fixed")) or 0,
        gate_s=number(r.get("gate_duration_s")),
    )


def _loop(r: Mapping[str, Any], source: str, ts: datetime | None) -> Loop | None:
    loop_id, reason = text(r.get("loop_id")), text(r.get("stop_reason"))
    if loop_id is None or reason is None:
        return None
    return Loop(
        id=text(r.get("id")) or "",
        ts=ts,
        source=source,
        loop_id=loop_id,
        stop_reason=reason,
        attempts=count(r.get("attempts")) or 0,
        fixers=_strings(r.get("fixers")),
        verdict=text(r.get("verdict")),
        duration_s=number(r.get("duration_s")),
    )


def _decision(r: Mapping[str, Any], source: str, ts: datetime | None) -> Decision | None:
    session_id, decision = text(r.get("session_id")), text(r.get("decision"))
    if session_id is None or decision is None:
        return None
    fingerprints = r.get("fingerprints")
    return Decision(
        id=text(r.get("id")) or "",
        ts=ts,
        source=source,
        session_id=session_id,
        agent=text(r.get("agent")),
        decision=decision,
        why=text(r.get("why")),
        verdict=text(r.get("verdict")) or "error",
        open=len(fingerprints) if isinstance(fingerprints, list) else 0,
    )


PARSERS = {"run": _run, "attempt": _attempt, "loop": _loop, "hook": _decision}


def parse_timed(lines: Iterable[tuple[str, datetime | None, Mapping[str, Any]]]) -> Records:
    """Typed records from ``(source, time, raw record)`` in the order given, the time already
    read from the record's ``ts`` (see :func:`when`).

    Records of kinds this gatekeeper does not know are counted in ``kinds`` and otherwise
    left alone; records of a known kind without their identifying fields count as unusable.
    """
    out: dict[str, list[Any]] = {kind: [] for kind in PARSERS}
    kinds: dict[str, int] = {}
    unusable = 0
    for source, ts, raw in lines:
        kind = str(raw.get("kind"))
        kinds[kind] = kinds.get(kind, 0) + 1
        parser = PARSERS.get(kind)
        if parser is None:
            continue
        parsed = parser(raw, source, ts)
        if parsed is None:
            unusable += 1
        else:
            out[kind].append(parsed)
    return Records(
        runs=tuple(out["run"]),
        attempts=tuple(out["attempt"]),
        loops=tuple(out["loop"]),
        decisions=tuple(out["hook"]),
        unusable=unusable,
        kinds=dict(sorted(kinds.items())),
    )
