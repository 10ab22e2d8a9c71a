"""The ``radon`` stage: cyclomatic complexity per function and method, with three limits.

Like xenon: ``max_block`` bounds the worst function, ``max_module`` each module's average and
``max_average`` the average over everything checked. Each limit is a rank letter (A–F) or a
number (the highest complexity allowed). Averages are over functions and methods (closures
included); classes are not blocks of their own, as their methods already count.

radon reads every table of the ``pyproject.toml`` in its working directory into configparser,
so an unrelated ``%`` in another tool's table crashes it (attrs). It therefore runs from an
empty temporary directory, on absolute paths, with a ``radon.cfg`` there holding only the
project's own radon settings (``[tool.radon]``, ``radon.cfg`` or ``setup.cfg [radon]``).

By default tests are not measured (``include_tests = false``): the limits are for the
project's code, and a table-driven test is not a design problem.
"""

from __future__ import annotations

import configparser
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import gatekeeper
from gatekeeper import Finding, Option, Stage, StageContext, StageError, StageResult

#: The highest complexity of each rank, as radon defines the ranks.
RANK_MAX = {"A": 5, "B": 10, "C": 20, "D": 30, "E": 40, "F": 10**9}


def limit_of(value: str | int) -> int:
    """A limit as a number: a rank letter means the top of that rank."""
    if isinstance(value, int):
        return value
    return RANK_MAX[value.upper()]


def rank_of(complexity: float) -> str:
    """radon's rank letter for a complexity (or an average of them)."""
    return next(r for r, top in RANK_MAX.items() if complexity <= top)


def _check_limit(value: Any) -> str | None:
    if isinstance(value, bool):
        return "must be a rank letter A-F or a positive integer"
    if isinstance(value, int):
        return None if value > 0 else "must be greater than 0"
    return None if str(value).upper() in RANK_MAX else "must be a rank letter A-F or an integer"


def _limit(default: str, help_text: str) -> Option:
    return Option(default, (str, int), _check_limit, help_text)


OPTIONS = {
    "max_block": _limit("C", "worst complexity allowed for one function or method"),
    "max_module": _limit("B", "highest average complexity allowed for one module"),
    "max_average": _limit("A", "highest average complexity allowed over all checked code"),
    "include_tests": Option(
        False, help="measure test files too (test directories, test_*.py, *_test.py, conftest.py)"
    ),
}

#: ``extra`` key of the complexity scores of each measured file (what :func:`narrow` needs).
SCORES = "scores_by_file"
HINT = (
    "split the function: extract branches into helpers, replace if/elif chains with a "
    "lookup table, return early"
)
MODULE_HINT = (
    "the module's functions are complex on average: simplify the worst ones (`radon cc -s "
    "FILE` lists them by complexity) or split the module"
)


@dataclass(frozen=True)
class Limits:
    """The three limits as numbers, and as the user spelled them (for messages)."""

    block: int
    module: int
    average: int
    spelled: dict[str, str]

    @classmethod
    def of(cls, options: Any) -> Limits:
        spelled = {k: str(options[k]) for k in ("max_block", "max_module", "max_average")}
        return cls(
            limit_of(options["max_block"]),
            limit_of(options["max_module"]),
            limit_of(options["max_average"]),
            spelled,
        )

    def above(self, key: str, limit: int) -> str:
        spelled = self.spelled[key]
        return f"above the limit {limit}" + (f" ({spelled})" if spelled != str(limit) else "")


def load(output: str) -> dict[str, Any]:
    """radon's JSON: a mapping of path to blocks (or to an error); else a StageError."""
    try:
        data = json.loads(output)
    except json.JSONDecodeError as exc:
        raise StageError(f"cannot parse radon's JSON output: {exc}", output) from None
    if not isinstance(data, dict):
        raise StageError("radon's JSON output is not a mapping of files", output)
    return data


def blocks(entries: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Functions and methods with their closures (radon lists methods at the top level too)."""
    for e in entries:
        if e.get("type") in ("function", "method"):
            yield e
            yield from blocks(e.get("closures") or [])


def _block_finding(ctx: StageContext, path: str, block: dict[str, Any], lim: Limits) -> Finding:
    score = int(block["complexity"])
    name = f"{block['classname']}.{block['name']}" if block.get("classname") else block["name"]
    return ctx.finding(
        "max-block",
        path,
        block["lineno"],
        block.get("col_offset", 0) + 1,
        f"{block['type']} {name!r} has cyclomatic complexity {score} (rank {rank_of(score)}), "
        f"{lim.above('max_block', lim.block)}",
        hint=HINT,
        # The function by name, its complexity as the measure: hold the line is a ratchet.
        subject=f"{ctx.relpath(path)}::{name}",
        measure=float(score),
    )


def _parse_error(ctx: StageContext, path: str, entries: dict[str, Any]) -> Finding:
    return ctx.finding(
        "parse-error",
        path,
        0,
        0,
        f"radon cannot parse the file: {entries.get('error')}",
        hint="fix the syntax error",
        stops_tool=True,  # nothing in the file was measured
    )


def check_file(
    ctx: StageContext, path: str, entries: Any, lim: Limits
) -> tuple[list[Finding], list[int]]:
    """Findings for one file's blocks and average, and the file's complexity scores."""
    if isinstance(entries, dict):
        return [_parse_error(ctx, path, entries)], []
    found = list(blocks(entries))
    scores = [int(b["complexity"]) for b in found]
    findings = [_block_finding(ctx, path, b, lim) for b in found if b["complexity"] > lim.block]
    avg = sum(scores) / len(scores) if scores else 0.0
    if avg > lim.module:
        message = (
            f"module average complexity {avg:.1f} (rank {rank_of(avg)}) is "
            f"{lim.above('max_module', lim.module)}"
        )
        findings.append(ctx.finding("max-module", path, 1, 0, message, hint=MODULE_HINT))
    return findings, scores


def check_average(ctx: StageContext, scores: list[int], lim: Limits) -> list[Finding]:
    """The project-average finding, when the average over every block is over its limit."""
    avg = sum(scores) / len(scores) if scores else 0.0
    if avg <= lim.average:
        return []
    message = (
        f"average complexity {avg:.1f} over {len(scores)} blocks (rank {rank_of(avg)}) is "
        f"{lim.above('max_average', lim.average)}"
    )
    hint = "the code is complex on average: simplify the most complex functions first"
    return [ctx.finding("max-average", "", 0, 0, message, hint=hint)]


def parse(ctx: StageContext, output: str) -> list[Finding]:
    """Findings for every block, module and the project over their limits."""
    lim = Limits.of(ctx.options)
    findings: list[Finding] = []
    everything: list[int] = []
    by_file: dict[str, list[int]] = {}
    for path, entries in sorted(load(output).items()):
        found, scores = check_file(ctx, path, entries, lim)
        findings += found
        everything += scores
        by_file[ctx.relpath(path)] = scores
    ctx.tell(SCORES, by_file)
    return findings + check_average(ctx, everything, lim)


def narrow(ctx: StageContext, whole: StageResult) -> list[Finding]:
    """The findings of ``ctx.files`` from the whole tree's result: each file's own, and the
    average over these files' blocks (from the scores the whole run kept)."""
    scores = whole.extra[SCORES]
    wanted = set(ctx.files)
    own = [f for f in whole.findings if f.path in wanted]
    measured = [int(s) for path in sorted(wanted) for s in scores.get(path, ())]
    return own + check_average(ctx, measured, Limits.of(ctx.options))


def is_test(path: str, test_dirs: tuple[str, ...]) -> bool:
    """A test file: under a test directory, or named like pytest's test modules."""
    pure = PurePosixPath(path)
    in_dir = any(path.startswith(f"{d.rstrip('/')}/") for d in test_dirs)
    in_dir = in_dir or any(part in ("tests", "test") for part in pure.parts[:-1])
    name = pure.name
    return in_dir or name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py")


def project_settings(root: Path) -> dict[str, str]:
    """The project's own radon settings (``[tool.radon]``, ``radon.cfg``, ``setup.cfg``)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib
    found: dict[str, str] = {}
    for name in ("radon.cfg", "setup.cfg"):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(root / name, encoding="utf-8")
        except configparser.Error:
            continue  # a broken file of another tool is none of radon's business
        if parser.has_section("radon"):
            found.update(parser.items("radon"))
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}
    table = data.get("tool", {}).get("radon", {}) if isinstance(data.get("tool"), dict) else {}
    if isinstance(table, dict):
        found.update({k: str(v) for k, v in table.items()})
    return found


def write_settings(where: Path, settings: dict[str, str]) -> None:
    """A ``radon.cfg`` holding only the radon section (``%`` escaped for configparser)."""
    lines = ["[radon]", *(f"{k} = {v.replace('%', '%%')}" for k, v in settings.items())]
    (where / "radon.cfg").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(ctx: StageContext) -> list[Finding]:
    """Measure the files in scope with ``radon cc`` and apply the three limits."""
    targets = list(ctx.files) if not ctx.whole_tree or not ctx.paths else ctx.paths
    if not ctx.options["include_tests"]:
        targets = [t for t in targets if not is_test(t, ctx.layout.tests)]
        if not targets:
            ctx.tell("files_checked", 0)
            return []
    ctx.tell("files_checked", len(targets))
    argv = ["cc", "--json", "--show-complexity", *ctx.args, "--"]
    with tempfile.TemporaryDirectory(prefix="gatekeeper-radon-") as neutral:
        write_settings(Path(neutral), project_settings(ctx.root))
        paths = [str(ctx.root / t) for t in targets]
        done = ctx.run_tool([*argv, *paths], ok=(0,), cwd=Path(neutral))
    return parse(ctx, done.stdout)


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``radon`` stage."""
    register(
        Stage(
            name="radon",
            run=run,
            description="cyclomatic complexity limits with radon",
            tool="radon",
            options=OPTIONS,
            # radon reads [tool.radon], radon.cfg and setup.cfg's [radon] (exclude, ignore …).
            config_files=("pyproject.toml", "radon.cfg", "setup.cfg"),
            narrow=narrow,
        )
    )
