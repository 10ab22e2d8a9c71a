"""Run planned stages concurrently, honouring ``after`` and ``writes``.

Stages mostly wait on subprocesses, so threads are enough: the work happens in the tools.
At most one stage per core runs at a time (``jobs`` changes that), and among the stages ready
to start the longest expected one goes first (the LPT rule), so the slowest tool does not
start last and stretch the whole run.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gatekeeper import process
from gatekeeper.models import StageResult

_tokens = itertools.count(1)


@dataclass(frozen=True)
class Job:
    """One stage ready to run: ``work`` produces its result.

    :ivar cost: the expected duration in seconds (the last run's), used to order the start.
    """

    name: str
    work: Callable[[], StageResult]
    after: tuple[str, ...] = ()
    writes: bool = False
    cost: float = 0.0
    token: str = field(default_factory=lambda: f"job-{next(_tokens)}")


Listener = Callable[[str, StageResult | None], None]


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def execute(
    jobs: Sequence[Job],
    *,
    workers: int = 0,
    fail_fast: bool = False,
    listener: Listener | None = None,
) -> dict[str, StageResult]:
    """Run ``jobs`` and return their results by name.

    A job starts when the jobs it comes ``after`` are done; a job that ``writes`` runs alone.
    ``listener(name, None)`` is called when a job starts and ``listener(name, result)`` when it
    ends. With ``fail_fast``, the first blocking result stops the rest: jobs not yet started
    are skipped and running ones have their processes killed (reported as skipped too).
    """
    run = _Run(jobs, workers or default_workers(), fail_fast, listener)
    pool = cf.ThreadPoolExecutor(max_workers=run.workers)
    try:
        while run.pending or run.running:
            run.start_ready(pool)
            if not run.running:
                run.fail_unorderable()
                continue
            done, _ = cf.wait(run.running, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                run.finish(fut)
    except BaseException:
        process.kill_all()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return run.results


def _scoped(job: Job) -> StageResult:
    with process.scope(job.token):
        return job.work()


class _Run:
    """The state of one :func:`execute`: what waits, what runs, what is done."""

    def __init__(
        self, jobs: Sequence[Job], workers: int, fail_fast: bool, listener: Listener | None
    ) -> None:
        self.workers = max(workers, 1)
        self.fail_fast = fail_fast
        self.notify: Listener = listener or (lambda _name, _result: None)
        self.names = {j.name for j in jobs}
        # Longest expected first; ties keep the plan's order (sorted is stable).
        self.pending = sorted(jobs, key=lambda j: -j.cost)
        self.results: dict[str, StageResult] = {}
        self.running: dict[cf.Future[StageResult], Job] = {}
        self.stop_reason: str | None = None
        self.killed: set[str] = set()

    def start_ready(self, pool: cf.ThreadPoolExecutor) -> None:
        if self.stop_reason:
            for job in self.pending:
                self._settle(job, StageResult(job.name, "skipped", reason=self.stop_reason))
            self.pending = []
        for job in self._ready():
            self.pending.remove(job)
            self.notify(job.name, None)
            self.running[pool.submit(_scoped, job)] = job

    def fail_unorderable(self) -> None:
        # An ordering that can never be satisfied must not silently drop a stage.
        for job in self.pending:
            reason = f"cannot order stage after {', '.join(job.after)}"
            self._settle(job, StageResult(job.name, "error", reason=reason))
        self.pending = []

    def finish(self, fut: cf.Future[StageResult]) -> None:
        job = self.running.pop(fut)
        result = fut.result()
        if job.token in self.killed and result.status != "failed":
            # Killed by fail-fast: an error now is an artefact of the kill, not a verdict.
            reason = (self.stop_reason or "").replace("not run:", "stopped:", 1)
            result = StageResult(job.name, "skipped", result.duration_s, reason=reason)
        self._settle(job, result)
        if self.fail_fast and result.blocking and self.stop_reason is None:
            self.stop_reason = f"not run: --fail-fast stopped after {job.name} {result.status}"
            self._stop_running()

    def _settle(self, job: Job, result: StageResult) -> None:
        self.results[job.name] = result
        self.notify(job.name, result)

    def _stop_running(self) -> None:
        for job in self.running.values():
            self.killed.add(job.token)
            process.kill_scope(job.token)

    def _ready(self) -> list[Job]:
        if any(j.writes for j in self.running.values()):
            return []
        ready: list[Job] = []
        for job in self.pending:
            if len(self.running) + len(ready) >= self.workers:
                break
            if any(dep in self.names and dep not in self.results for dep in job.after):
                continue
            if job.writes:
                if not self.running and not ready:
                    return [job]
                continue
            ready.append(job)
        return ready
