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

import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from gatekeeper.models import StageResult, Verdict
from gatekeeper.stage import StageContext

#: ``StageResult.extra`` key: ``"pending"`` (fast path found nothing, not yet confirmed),
#: ``"partial"`` (fast path found failures: real, but not every test ran).
KEY = "fast_path"
PENDING = "pending"
PARTIAL = "partial"
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
) -> Callable[[], StageResult]:
    """The job of a fast-path stage: a stored full result of this tree, else the fast path.

    :param lookup: the result cache's look-up of the *full* check of ``ctx`` (None: missing).
    :param compute: runs the stage for a context (the core's :func:`~gatekeeper.runner.run_stage`
        with a fresh deadline).
    :param full: runs the full check (through the cache). Used at once when the stage declines
        the fast path (it raised :class:`~gatekeeper.StageSkip`: nothing to select with yet, as
        on a first run), so a first attempt sees every failure.
    """
    whole = replace(ctx, fast_path=False)

    def run() -> StageResult:
        hit = lookup(whole)
        if hit is not None:
            return hit  # the full check of exactly this tree: nothing left to confirm
        result = compute(ctx)
        if result.status == "skipped":
            return full()
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
    confirmed = confirm(waiting)
    return {**results, **confirmed}, time.monotonic() - started


def guard(verdict: Verdict, stages: tuple[StageResult, ...]) -> Verdict:
    """Never ``passed`` while a stage's full check has not run (a fast path proves nothing)."""
    if verdict == "passed" and any(s.extra.get(KEY) == PENDING for s in stages):
        return "error"
    return verdict
