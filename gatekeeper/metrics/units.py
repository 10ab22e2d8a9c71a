"""Units of work: a fix loop, or an agent's session behind the Stop hook.

A unit is what yield is counted over. A **loop** is one ``gatekeeper loop``: its fixer's
claims of "done" are its attempts, judged by the gate run after each. A **session** is one
coding-agent session behind the Stop hook: each time the agent ends its turn it claims to be
done, and the hook's decision says whether that was true.

- *first pass*: the unit was clean at its first claim — a loop that ended ``clean`` after at
  most one fixer run, a session whose first Stop was clean;
- *final*: the unit ended clean (a loop's ``clean`` stop reason, a session's last Stop clean).

A loop that found the tree clean before any fixer or autofix ran had nothing to fix, and a
loop still running has no ending yet: neither is counted in yields.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gatekeeper.metrics.records import Attempt, Decision, Loop, Records

MAX_LABEL = 48
UNKNOWN_AGENT = "agent (not recorded)"


@functools.lru_cache(maxsize=1024)  # a ledger names few fixers, in thousands of records
def agent_label(spec: str) -> str:
    """A fixer's command line or preset, short enough for a chart axis.

    ``/usr/bin/python3 /x/fixers/honest.py --crash-first`` → ``honest --crash-first``,
    ``python -m mytool --fast`` → ``mytool --fast``, ``claude`` → ``claude``.
    """
    try:
        words = shlex.split(spec)
    except ValueError:
        words = spec.split()
    if not words:
        return spec.strip() or "?"
    program, rest = Path(words[0]).name, words[1:]
    if re.fullmatch(r"python[\d.]*", program) and rest:
        if rest[0] == "-m" and len(rest) > 1:
            program, rest = rest[1], rest[2:]
        elif rest[0].endswith(".py"):
            program, rest = Path(rest[0]).stem, rest[1:]
    label = " ".join([program, *rest])
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def ladder_label(fixers: Iterable[str]) -> str:
    """The label of a fixer ladder: its fixers' labels, cheapest first, joined by arrows."""
    labels = [agent_label(f) for f in fixers]
    return " → ".join(labels) if labels else "?"


@dataclass(frozen=True)
class Step:
    """One claim within a unit: a loop attempt or a Stop-hook decision.

    ``who`` is the fixer's label, ``autofix`` or the session's agent; ``result`` what it did
    (``exit 0``, ``timed out``, ``block``, ``stop``); ``after`` the gate's verdict after it.
    """

    n: int
    ts: datetime | None
    who: str
    result: str
    after: str | None
    fixed: int | None = None
    new: int | None = None
    persisting: int | None = None
    open: int | None = None
    duration_s: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Unit:
    """A loop or a session, with its outcome and the steps that led to it."""

    kind: str
    id: str
    agent: str
    commands: tuple[str, ...]
    source: str
    started: datetime | None
    ended: datetime | None
    outcome: str
    attempts: int
    counted: bool
    first_pass: bool
    final: bool
    duration_s: float | None
    steps: tuple[Step, ...]


def _attempt_step(a: Attempt) -> Step:
    if a.fixer is None:
        result, who = f"fixed {a.autofix_fixed}", "autofix"
    else:
        who = agent_label(a.fixer)
        result = "timed out" if a.timed_out else f"exit {a.exit_code}"
    note = a.stuck and f"stuck: {a.stuck}"
    if a.escalated_to:
        note = f"{note + '; ' if note else ''}escalated to {agent_label(a.escalated_to)}"
    return Step(
        n=a.attempt,
        ts=a.ts,
        who=who,
        result=result,
        after=a.verdict_after,
        fixed=a.fixed,
        new=a.new,
        persisting=a.persisting,
        duration_s=a.duration_s,
        note=note,
    )


def _running_loop(loop_id: str, attempts: list[Attempt]) -> Unit:
    # Attempts without the loop's end: still running (or killed without a trace of its end).
    fixers = tuple(dict.fromkeys(a.fixer for a in attempts if a.fixer))
    return Unit(
        kind="loop",
        id=loop_id,
        agent=ladder_label(fixers),
        commands=fixers,
        source=attempts[0].source,
        started=attempts[0].ts,
        ended=None,
        outcome="running",
        attempts=sum(1 for a in attempts if a.fixer),
        counted=False,
        first_pass=False,
        final=False,
        duration_s=None,
        steps=tuple(_attempt_step(a) for a in attempts),
    )


def _loop_unit(loop_id: str, end: Loop | None, attempts: list[Attempt]) -> Unit:
    if end is None:
        return _running_loop(loop_id, attempts)
    # Clean with no attempt at all: the tree was clean before any fixer or autofix ran.
    counted = not (end.stop_reason == "clean" and end.attempts == 0 and not attempts)
    clean = end.stop_reason == "clean" and counted
    return Unit(
        kind="loop",
        id=loop_id,
        agent=ladder_label(end.fixers),
        commands=end.fixers,
        source=end.source,
        started=attempts[0].ts if attempts else end.ts,
        ended=end.ts,
        outcome=end.stop_reason,
        attempts=end.attempts,
        counted=counted,
        first_pass=clean and end.attempts <= 1,
        final=clean,
        duration_s=end.duration_s,
        steps=tuple(_attempt_step(a) for a in attempts),
    )


def session_outcome(last: Decision) -> str:
    """How a session stands after its decision ``last``.

    ``open`` while the agent was last sent back; ``clean`` when the hook said so; ``budget`` or
    ``stuck`` when it gave up; ``partial`` when the gate passed with stages left out (by
    ``GATEKEEPER_SKIP``: never clean); else the verdict (``failed``, ``error``).
    """
    if last.decision == "block":
        return "open"
    why = last.why or ""
    if why == "clean":
        return "clean"
    for reason in ("budget", "stuck"):
        if why.startswith(reason):
            return reason
    return "partial" if last.verdict == "passed" else last.verdict


def _session_unit(decisions: list[Decision]) -> Unit:
    first, last = decisions[0], decisions[-1]
    agent = next((d.agent for d in reversed(decisions) if d.agent), None) or UNKNOWN_AGENT
    outcome = session_outcome(last)
    steps = tuple(
        Step(
            n=n,
            ts=d.ts,
            who=agent,
            result=d.decision,
            after=d.verdict,
            open=d.open,
            note=d.why,
        )
        for n, d in enumerate(decisions, 1)
    )
    duration = (last.ts - first.ts).total_seconds() if first.ts and last.ts else None
    return Unit(
        kind="session",
        id=first.session_id,
        agent=agent,
        commands=(),
        source=last.source,
        started=first.ts,
        ended=last.ts,
        outcome=outcome,
        attempts=len(decisions),
        counted=True,
        first_pass=session_outcome(first) == "clean",
        final=outcome == "clean",
        duration_s=duration,
        steps=steps,
    )


def units(records: Records) -> list[Unit]:
    """Every loop (in the order of their first record) and then every session."""
    attempts: dict[str, list[Attempt]] = defaultdict(list)
    for a in records.attempts:
        attempts[a.loop_id].append(a)
    ends = {loop.loop_id: loop for loop in records.loops}
    found = [
        _loop_unit(i, ends.get(i), attempts.get(i, [])) for i in dict.fromkeys([*ends, *attempts])
    ]
    sessions: dict[str, list[Decision]] = defaultdict(list)
    for d in records.decisions:
        sessions[d.session_id].append(d)
    found += [_session_unit(ds) for ds in sessions.values()]
    return found
