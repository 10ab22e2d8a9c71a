"""The fast path of an attempt: what can fail first runs first; the full verdict runs once.

In the fix loop, the Claude Code Stop hook and ``verify`` (the *attempt* triggers), a stage
that supports it (``Stage.fast_path``: the tests) runs first with ``ctx.fast_path`` set: it
checks what is most likely to fail — the tests that failed last time, then the tests the change
affects — and reports those findings at once, so an attempt that is still broken costs what the
edit can affect rather than the whole suite.

A fast-path run that finds nothing proves nothing. Its result is held back as *pending* (a
``skipped`` stage with ``extra["fast_path"] == "pending"``), and:

- when every other stage of the run passed, the stage runs again in full — the
  *confirmation* — through the result cache, so that tree's full result is stored and the push
  that follows replays it;
- otherwise the run has failed anyway and the stage stays skipped, saying why.

Nothing but a full run can make the stage ``passed``: :func:`guard` turns a ``passed``
verdict over a stage still pending into an ``error`` (the invariant, whatever the callers do).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from gatekeeper import process
from gatekeeper.executor import Listener
from gatekeeper.models import StageResult, Verdict
from gatekeeper.stage import StageContext

#: ``StageResult.extra`` key: ``"pending"`` (fast path found nothing, not yet confirmed),
#: ``"partial"`` (fast path found failures: real, but not every test ran).
KEY = "fast_path"
PENDING = "pending"
PARTIAL = "partial"
#: ``StageResult.extra`` key of a confirmed stage: what its fast path found before.
NOTE = "fast_path_note"
#: The triggers whose runs are attempts: fast feedback first, the full verdict once.
ATTEMPT_TRIGGERS = ("loop", "agent")

Compute = Callable[[StageContext], StageResult]
Lookup = Callable[[StageContext], "StageResult | None"]


def enabled_for(ctx: StageContext, fast: bool) -> StageContext:
    """``ctx`` with ``fast_path`` set when the run is an attempt and the stage supports it."""
    if fast and ctx.stage.fast_path:
        return replace(ctx, fast_path=True)
    return ctx


def work(
    ctx: StageContext,
    lookup: Lookup,
    compute: Compute,
    full: Callable[[], StageResult],
    handback: Handback | None = None,
) -> Callable[[], StageResult]:
    """The job of a fast-path stage: a stored full result of this tree, else the fast path.

    :param lookup: the result cache's look-up of the *full* check of ``ctx`` (None: missing).
    :param compute: runs the stage for a context (the core's :func:`~gatekeeper.runner.run_stage`
        with a fresh deadline).
    :param full: runs the full check (through the cache). Used at once when the stage declines
        the fast path (it raised :class:`~gatekeeper.StageSkip`: nothing to select with yet, as
        on a first run), so a first attempt sees every failure.
    :param handback: stops the full check for a still-failing finding (see :class:`Handback`).
    """
    whole = replace(ctx, fast_path=False)

    def run() -> StageResult:
        hit = lookup(whole)
        if hit is not None:
            return hit  # the full check of exactly this tree: nothing left to confirm
        result = compute(ctx)
        if result.status == "skipped":
            return _full_unless_handed_back(ctx.stage.name, full, handback)
        if result.status == "failed":
            reason = (
                "fast path: only what failed last time and what the change affects ran; "
                "the rest runs once these pass"
            )
            return result.with_(reason=reason, extra={**result.extra, KEY: PARTIAL})
        # An empty (or broken) fast path proves nothing either way: the full check decides.
        notes = [f.message for f in result.findings if not f.blocking]
        said = result.reason.splitlines()[0] if result.reason else ""
        why = "; ".join(x for x in (f"fast path {result.status}", said, *notes[:1]) if x)
        return StageResult(
            ctx.stage.name,
            "skipped",
            result.duration_s,
            reason=f"not confirmed yet: the full check runs once every other stage passes ({why})",
            extra={KEY: PENDING},
        )

    return run


class Handback:
    """Hands a still-failing finding back at once: stops full checks that would delay it.

    ``still``: what blocked the previous run (fingerprints, and ``error:<stage>`` for a stage
    that could not run). When a stage of this run reports one of them again, the verdict is
    ``failed`` whatever the rest finds, so the full check of a fast-path stage (a whole test
    suite) is not waited for: one still running is killed and one not yet started does not
    start; either is reported as skipped. Fast paths themselves are left to finish (they are
    short, and they say which of the previous failures are fixed).
    """

    def __init__(self, still: frozenset[str]) -> None:
        self.still = still
        self.by: str | None = None
        self._lock = threading.Lock()
        self._in_full: set[str] = set()

    def see(self, name: str, result: StageResult | None) -> None:
        """Executor listener: a finished stage that still fails stops the full checks."""
        if result is None or self.by is not None or not self._still_failing(result):
            return
        with self._lock:
            self.by = name
            running = list(self._in_full)
        for scope in running:
            process.kill_scope(scope)

    def _still_failing(self, result: StageResult) -> bool:
        if result.status == "error":
            return f"error:{result.name}" in self.still
        return result.status == "failed" and any(
            f.blocking and f.fingerprint in self.still for f in result.findings
        )

    def enter_full(self) -> bool:
        """Called by a fast-path job before its full check; False: do not start it."""
        with self._lock:
            if self.by is not None:
                return False
            scope = process.current_scope()
            if scope is not None:
                self._in_full.add(scope)
            return True

    def judged(self, name: str, result: StageResult, duration_s: float) -> StageResult:
        """``result`` of a full check, or skipped when it was stopped for a hand-back."""
        if self.by is None or result.status == "failed":
            return result
        reason = (
            f"stopped: {self.by} still fails and is handed back first; "
            "the full check runs once the rest passes"
        )
        return StageResult(name, "skipped", duration_s, reason=reason)


def listen(listener: Listener | None, handback: Handback | None) -> Listener | None:
    """The executor's listener: the caller's, and the hand-back's when there is one."""
    if handback is None:
        return listener

    def both(name: str, result: StageResult | None) -> None:
        handback.see(name, result)
        if listener is not None:
            listener(name, result)

    return both


def _full_unless_handed_back(
    name: str, full: Callable[[], StageResult], handback: Handback | None
) -> StageResult:
    started = time.monotonic()
    if handback is None:
        return full()
    if not handback.enter_full():
        return handback.judged(name, StageResult(name, "skipped"), 0.0)
    return handback.judged(name, full(), time.monotonic() - started)


def pending(results: Mapping[str, StageResult]) -> list[str]:
    """Stages whose fast path found nothing and whose full check has not run."""
    return [name for name, r in results.items() if r.extra.get(KEY) == PENDING]


def settle(
    results: Mapping[str, StageResult],
    confirm: Callable[[list[str]], Mapping[str, StageResult]],
) -> tuple[dict[str, StageResult], float | None]:
    """Run the confirmation when only pending stages stand between the run and ``passed``.

    :returns: the results with confirmed stages replaced, and the confirmation's wall time in
        seconds (None when no confirmation ran).
    """
    waiting = pending(results)
    others = [r for name, r in results.items() if name not in waiting]
    if not waiting or any(r.blocking for r in others):
        return dict(results), None
    started = time.monotonic()
    confirmed = {
        name: r.with_(extra={**r.extra, NOTE: results[name].reason})
        for name, r in confirm(waiting).items()
    }
    return {**results, **confirmed}, time.monotonic() - started


def guard(verdict: Verdict, stages: tuple[StageResult, ...]) -> Verdict:
    """Never ``passed`` while a stage's full check has not run (a fast path proves nothing)."""
    unconfirmed = (PENDING, PARTIAL)
    if verdict == "passed" and any(s.extra.get(KEY) in unconfirmed for s in stages):
        return "error"
    return verdict
