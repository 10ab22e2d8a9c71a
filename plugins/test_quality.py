"""The ``test-quality`` stage: tests that test, judged on the change only.

Compared with ``ctx.base`` (the pushed base, the loop's or agent session's starting tree,
``run --base REF``, the pull request's base in CI), it reports, each at ``file:line``:

- ``uncovered-change``: changed executable lines of project code that no test ran, measured by
  coverage.py in the gate's own pytest run (see :mod:`._coverage`), at the first line of each
  uncovered range; ``min_coverage`` (percent of the changed statements, default 100) is the bar;
- ``no-assert``: a test the change added or modified that can pass without checking anything,
  at its ``def`` line (see :mod:`._test_slop` for what counts as a check);
- ``tautology``: an assertion on a changed line that cannot fail, at the assertion;
- ``survived-mutant`` (deep mode only: ``--deep`` or ``deep = true``): a mutant of a changed
  line that none of the tests covering that line kills, at the mutated line.

On by default for the loop, the Stop hook, pre-push and ci, and for ``run --base REF``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import gatekeeper
from gatekeeper import Finding, Stage, StageContext

from . import _change, _coverage, _deep, _mutants, _test_slop, _uncovered

NAME = "test-quality"
UNCOVERED_HINT = (
    "add a test that runs these lines and asserts what they do (or remove them if no caller "
    "needs them)"
)
MUTANT_HINT = (
    "add an assertion that fails for the mutated code: check the exact value this line computes"
)


def run(ctx: StageContext) -> list[Finding]:
    """Judge the change's tests; see the module docstring for the rules."""
    if not ctx.base:
        return [
            ctx.finding(
                "no-base",
                ".",
                0,
                0,
                "nothing to compare with (no commits yet): test quality was not judged",
                severity="note",
            )
        ]
    changed = _change.changed_lines(ctx, ctx.base)
    findings = list(_slop(ctx, changed))
    if ctx.fast_path:
        # An attempt's fast path: the tests have not all run yet, so coverage waits for the
        # full check (the core runs it after the full test run, before any verdict).
        return findings
    package = _change.package_files(ctx, changed)
    if package:
        findings += _coverage_findings(ctx, package)
    return findings


# -- no-assert, tautology ---------------------------------------------------------------------


def _is_test_module(path: str) -> bool:
    name = PurePosixPath(path).name
    return name.startswith("test_") or name.endswith("_test.py")


def _conftests(ctx: StageContext, path: str) -> Iterator[ast.Module]:
    """The conftest modules that apply to ``path``, nearest first."""
    folder = PurePosixPath(path).parent
    for parent in (folder, *folder.parents):
        candidate = ctx.root / parent / "conftest.py"
        if candidate.is_file():
            tree = _test_slop.parse(candidate.read_text(encoding="utf-8", errors="replace"))
            if tree is not None:
                yield tree


def _slop(ctx: StageContext, changed: Mapping[str, frozenset[int]]) -> Iterator[Finding]:
    for path, lines in sorted(changed.items()):
        if not lines or not _change.is_test_path(ctx, path) or not path.endswith(".py"):
            continue
        try:
            text = (ctx.root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        tree = _test_slop.parse(text)
        if tree is None:
            continue  # a syntax error: pytest and ruff report it
        helpers = _test_slop.helpers_for(tree, _conftests(ctx, path))
        for slop in _test_slop.judge(tree, lines, helpers, is_test_module=_is_test_module(path)):
            yield ctx.finding(slop.rule, path, slop.line, 0, slop.message, hint=slop.hint)


# -- uncovered-change, survived-mutant --------------------------------------------------------


def _coverage_findings(ctx: StageContext, package: Mapping[str, frozenset[int]]) -> list[Finding]:
    files = sorted(package)
    measured = _coverage.claim(ctx, package, ctx.deep) or _coverage.measure(ctx, package, ctx.deep)
    try:
        data = _coverage.read(ctx, measured, files)
    finally:
        measured.keeper.cleanup()
    judged: dict[str, _uncovered.Judged] = {}
    for path in files:
        text = (ctx.root / path).read_text(encoding="utf-8", errors="replace")
        info = data.get(path) or {}
        try:
            judged[path] = _uncovered.judge(
                text, package[path], info.get("statements", []), info.get("executed", [])
            )
        except SyntaxError:
            continue  # mypy, ruff and pytest report a file that does not parse
    findings = _uncovered_findings(ctx, judged)
    if ctx.deep:
        findings += _mutant_findings(ctx, judged, data)
    return findings


def _uncovered_findings(
    ctx: StageContext, judged: Mapping[str, _uncovered.Judged]
) -> list[Finding]:
    total = sum(len(j.changed) for j in judged.values())
    missed = sum(len(j.missed) for j in judged.values())
    bar = float(ctx.options.get("min_coverage", 100.0))
    if not total or 100.0 * (total - missed) / total >= bar:
        return []
    percent = 100.0 * (total - missed) / total
    findings = []
    for path, result in judged.items():
        for first, last in result.ranges():
            where = f"line {first}" if first == last else f"lines {first}-{last}"
            findings.append(
                ctx.finding(
                    "uncovered-change",
                    path,
                    first,
                    0,
                    f"no test runs the changed {where} of {path} ({percent:.0f}% of the "
                    f"change's {total} statements covered, {bar:g}% required)",
                    hint=UNCOVERED_HINT,
                )
            )
    return findings


def _mutant_findings(
    ctx: StageContext, judged: Mapping[str, _uncovered.Judged], data: Mapping[str, Any]
) -> list[Finding]:
    per_line = int(ctx.options.get("mutants_per_line", 3))
    jobs: list[_deep.Job] = []
    for path, result in judged.items():
        text = (ctx.root / path).read_text(encoding="utf-8", errors="replace")
        covered = result.changed - result.missed
        tree = ast.parse(text)
        contexts = (data.get(path) or {}).get("contexts", {})
        lines = {
            n for first in covered for n in _uncovered.statement_lines(tree).get(first, [first])
        }
        for mutant in _mutants.mutants(text, lines, per_line):
            owner = _owner(tree, mutant.line, result)
            jobs.append(_deep.Job(path, mutant, _deep.tests_of(contexts, owner)))
    budget = float(ctx.options.get("deep_budget", 120.0))
    tally = _deep.run_all(ctx, jobs, budget)
    findings = [
        ctx.finding(
            "survived-mutant",
            path,
            mutant.line,
            0,
            f"no test fails when {mutant.description} at {path}:{mutant.line}",
            hint=MUTANT_HINT,
        )
        for path, mutant in tally.survivors
    ]
    findings.append(ctx.finding("deep-summary", ".", 0, 0, tally.summary(), severity="note"))
    return findings


def _owner(tree: ast.Module, line: int, result: _uncovered.Judged) -> int:
    """The coverage statement line that holds ``line`` (the key of its test contexts)."""
    first = _uncovered.statement_of(tree, line)
    span = _uncovered.statement_lines(tree).get(first, range(first, first + 1))
    executable = set(result.statements)
    return next((n for n in span if n in executable), first)


def _when(root: Path) -> tuple[bool, str]:
    return False, "on when a change is judged: run --base, pre-push, ci, loop, Stop hook, verify"


def _options() -> dict[str, Any]:
    return {"min_coverage": 100.0, "mutants_per_line": 3, "deep_budget": 120.0}


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``test-quality`` stage."""
    register(
        Stage(
            name=NAME,
            run=run,
            description="test slop in the change: uncovered lines, tests that check nothing, "
            "assertions that cannot fail, surviving mutants (--deep)",
            tool="coverage",
            package="coverage",
            needs_project_python=True,
            file_local=False,
            patterns=("*.py",),
            relevant=("*.py",),
            config_files=(),
            options=_options(),
            timeout=900.0,
            after=("pytest",),
            # Cached by tree, base tree and deep mode (the cache keys a stage that is on for a
            # change by its base): the push of a tree the loop passed replays its judgement.
            cacheable=True,
            default_enabled=False,
            on_for_change=True,
            fast_path=True,
            zero_config=_when,
        )
    )


__all__ = ["run"]
