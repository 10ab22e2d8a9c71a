"""Deep mode: run the tests that cover each changed line against mutants of that line.

For every mutant (see :mod:`._mutants`) only the tests whose coverage context holds the line run,
with ``-x``, in the project's interpreter, importing the mutated module through the
``gatekeeper_pytest_mutant`` plugin. A failing run (or a crashed collection, or a run past its
time) kills the mutant; a passing run in which the mutant was really imported means it survived.
The whole search is bounded by a time budget: what was not tried in time is counted, not guessed.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from gatekeeper import StageContext, StageError

from . import _private_plugin
from ._mutants import Mutant

REPORT_DIR = Path(__file__).parent / "_pytest_report"
PLUGIN = "gatekeeper_pytest_mutant"
#: A mutant's test run may take this many times the unmutated run's time (a mutant that loops
#: forever is killed when it has taken that long), and at least MIN_TIMEOUT seconds.
SLOWER = 5.0
MIN_TIMEOUT = 20.0


@dataclass
class Tally:
    """What the deep mode did within its budget."""

    budget_s: float
    tried: int = 0
    killed: int = 0
    not_tried: int = 0
    no_tests: int = 0
    not_applied: int = 0
    failing_tests: int = 0
    elapsed_s: float = 0.0
    survivors: list[tuple[str, Mutant]] = field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"deep mode: {self.tried} mutants of the changed lines run in {self.elapsed_s:.1f}s "
            f"(budget {self.budget_s:g}s): {self.killed} killed, {len(self.survivors)} survived"
        ]
        if self.not_tried:
            parts.append(f"{self.not_tried} not tried (budget spent)")
        if self.no_tests:
            parts.append(f"{self.no_tests} on lines no test context reaches (not run)")
        if self.not_applied:
            parts.append(f"{self.not_applied} never imported by the tests (not counted)")
        if self.failing_tests:
            parts.append(f"{self.failing_tests} whose tests fail without any mutant (not run)")
        return "; ".join(parts)


@dataclass(frozen=True)
class Job:
    """One mutant of ``path`` and the tests that cover its line."""

    path: str
    mutant: Mutant
    tests: tuple[str, ...]


def run_all(ctx: StageContext, jobs: Sequence[Job], budget_s: float) -> Tally:
    """Run each job's tests against its mutant until the budget is spent.

    The tests of each line first run once unmutated: that time bounds the mutants' runs
    (``SLOWER`` times it), and a selection that fails without a mutant kills nothing.
    """
    tally = Tally(budget_s=budget_s)
    started = time.monotonic()
    baselines: dict[tuple[str, ...], float | None] = {}
    with tempfile.TemporaryDirectory(prefix="gatekeeper-mutant-") as tmp:
        plugin = _private_plugin.install(REPORT_DIR / f"{PLUGIN}.py", Path(tmp) / "plugin")
        for index, job in enumerate(jobs):
            left = budget_s - (time.monotonic() - started)
            if left <= 0 or ctx.remaining() <= 1:
                tally.not_tried = len(jobs) - index
                break
            if not job.tests:
                tally.no_tests += 1
                continue
            if job.tests not in baselines:
                baselines[job.tests] = _baseline(ctx, job.tests, left)
            took = baselines[job.tests]
            if took is None:
                tally.failing_tests += 1
                continue
            source = Path(tmp) / f"mutant-{index}.py"
            source.write_text(job.mutant.source, encoding="utf-8")
            limit = min(max(left, 1.0), max(MIN_TIMEOUT, SLOWER * took))
            _count(tally, job, _run_one(ctx, job, source, limit, plugin))
    tally.elapsed_s = time.monotonic() - started
    return tally


def _baseline(ctx: StageContext, tests: tuple[str, ...], left: float) -> float | None:
    """Seconds the unmutated tests take; None when they do not pass (or run out of time)."""
    begun = time.monotonic()
    bounded = replace(ctx, deadline=time.monotonic() + max(left, 1.0))
    try:
        done = bounded.run(_argv(ctx, None, tests), ok=(0, 1, 2, 3, 4, 5), env=_env("", ""))
    except StageError:
        if bounded.remaining() <= 0:
            return None
        raise
    return time.monotonic() - begun if done.returncode == 0 else None


def _count(tally: Tally, job: Job, outcome: str) -> None:
    if outcome == "not-applied":
        tally.not_applied += 1
        return
    tally.tried += 1
    if outcome == "survived":
        tally.survivors.append((job.path, job.mutant))
    else:
        tally.killed += 1


def _run_one(ctx: StageContext, job: Job, source: Path, timeout: float, plugin: str) -> str:
    """``killed``, ``survived`` or ``not-applied`` for one mutant (``plugin``: the module
    name of this run's copy of the mutant plugin, next to ``source``)."""
    env = _env(os.path.realpath(ctx.root / job.path), str(source), source.parent / "plugin")
    bounded = replace(ctx, deadline=time.monotonic() + timeout)
    try:
        done = bounded.run(_argv(ctx, plugin, job.tests), ok=(0, 1, 2, 3, 4, 5), env=env)
    except StageError:
        if bounded.remaining() <= 0:
            return "killed"  # ran past the time the tests need: an endless loop, say
        raise
    loaded = Path(f"{source}.loaded").exists()
    if done.returncode in (1, 2) and loaded:
        return "killed"
    if done.returncode == 0 and loaded:
        return "survived"
    if done.returncode in (3, 4):
        raise StageError(
            f"pytest could not run the tests of a mutant (exit {done.returncode})", done.output
        )
    return "not-applied"


def _env(target: str, source: str, plugin_dir: Path | None = None) -> dict[str, str]:
    parts = (str(plugin_dir) if plugin_dir else "", os.environ.get("PYTHONPATH"))
    return {
        "GATEKEEPER_MUTANT_TARGET": target,
        "GATEKEEPER_MUTANT_SOURCE": source,
        # by path, not by name: the working directory comes first on sys.path
        "GATEKEEPER_IMPORT_HOOK": str(REPORT_DIR / "gatekeeper_import_hook.py"),
        "PYTHONPATH": os.pathsep.join(p for p in parts if p),
    }


def _argv(ctx: StageContext, plugin: str | None, tests: Sequence[str]) -> list[str]:
    argv = [str(ctx.project_python), "-m", "pytest", *(("-p", plugin) if plugin else ())]
    return [*argv, "-p", "no:cacheprovider", "-x", "-q", "--color=no", "-p", "no:randomly", *tests]


def tests_of(contexts: Mapping[str, Sequence[str]], line: int) -> tuple[str, ...]:
    """The test node ids recorded for ``line`` (coverage contexts ``nodeid``)."""
    return tuple(sorted({c for c in contexts.get(str(line), ()) if c}))
