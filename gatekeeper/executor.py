"""Run planned stages concurrently, honouring ``after`` and ``writes``.

Stages mostly wait on subprocesses, so threads are enough: the work happens in the tools.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gatekeeper.models import StageResult
from gatekeeper.process import kill_all


@dataclass(frozen=True)
class Job:
    """One stage ready to run: ``work`` produces its result."""

    name: str
    work: Callable[[], StageResult]
    after: tuple[str, ...] = ()
    writes: bool = False


Listener = Callable[[str, StageResult | None], None]


def default_workers() -> int:
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
    ends. With ``fail_fast``, jobs not yet started are skipped after the first blocking result.
    """
    notify = listener or (lambda _name, _result: None)
    names = {j.name for j in jobs}
    pending = list(jobs)
    results: dict[str, StageResult] = {}
    running: dict[cf.Future[StageResult], Job] = {}
    stop_reason: str | None = None
    pool = cf.ThreadPoolExecutor(max_workers=workers or default_workers())
    try:
        while pending or running:
            if stop_reason:
                for job in pending:
                    results[job.name] = StageResult(job.name, "skipped", reason=stop_reason)
                    notify(job.name, results[job.name])
                pending = []
            for job in _ready(pending, results, running, names, workers or default_workers()):
                pending.remove(job)
                notify(job.name, None)
                running[pool.submit(job.work)] = job
            if not running:
                if pending:  # unsatisfiable ordering: never silently drop a stage
                    for job in pending:
                        results[job.name] = StageResult(
                            job.name, "error", reason=f"cannot order stage after {job.after}"
                        )
                    pending = []
                continue
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                job = running.pop(fut)
                result = fut.result()
                results[job.name] = result
                notify(job.name, result)
                if fail_fast and result.blocking and stop_reason is None:
                    stop_reason = f"not run: --fail-fast stopped after {job.name} {result.status}"
    except BaseException:
        kill_all()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def _ready(
    pending: list[Job],
    results: dict[str, StageResult],
    running: dict[cf.Future[StageResult], Job],
    names: set[str],
    workers: int,
) -> list[Job]:
    if any(j.writes for j in running.values()):
        return []
    ready: list[Job] = []
    for job in pending:
        if len(running) + len(ready) >= workers:
            break
        if any(dep in names and dep not in results for dep in job.after):
            continue
        if job.writes:
            if not running and not ready:
                return [job]
            continue
        ready.append(job)
    return ready
