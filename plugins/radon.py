"""The ``radon`` stage: cyclomatic complexity per function and method, with three limits.

Like xenon: ``max_block`` bounds the worst function, ``max_module`` each module's average and
``max_average`` the average over everything checked. Each limit is a rank letter (A–F) or a
number (the highest complexity allowed).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import gatekeeper
from gatekeeper import Finding, Option, Stage, StageContext, StageError

#: The highest complexity of each rank, as radon defines the ranks.
RANK_MAX = {"A": 5, "B": 10, "C": 20, "D": 30, "E": 40, "F": 10**9}


def limit_of(value: str | int) -> int:
    """A limit as a number: a rank letter means the top of that rank."""
    if isinstance(value, int):
        return value
    return RANK_MAX[value.upper()]


def rank_of(complexity: float) -> str:
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
}

HINT = (
    "split the function: extract branches into helpers, replace if/elif chains with a "
    "lookup table, return early"
)


def _blocks(entries: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for e in entries:
        if e.get("type") in ("function", "method"):
            yield e
            yield from _blocks(e.get("closures") or [])


def parse(ctx: StageContext, output: str) -> list[Finding]:
    """Findings for every block, module and the project over their limits."""
    try:
        data: dict[str, Any] = json.loads(output or "{}")
    except json.JSONDecodeError as exc:
        raise StageError(f"cannot parse radon's JSON output: {exc}", output) from None
    block_max = limit_of(ctx.options["max_block"])
    module_max = limit_of(ctx.options["max_module"])
    average_max = limit_of(ctx.options["max_average"])
    findings: list[Finding] = []
    everything: list[int] = []
    for path, entries in sorted(data.items()):
        if isinstance(entries, dict):
            findings.append(
                ctx.finding(
                    "parse-error",
                    path,
                    0,
                    0,
                    f"radon cannot parse the file: {entries.get('error')}",
                    hint="fix the syntax error",
                )
            )
            continue
        scores = []
        for b in _blocks(entries):
            score = int(b["complexity"])
            scores.append(score)
            if score > block_max:
                name = f"{b['classname']}.{b['name']}" if b.get("classname") else b["name"]
                findings.append(
                    ctx.finding(
                        "max-block",
                        path,
                        b["lineno"],
                        b.get("col_offset", 0) + 1,
                        f"{b['type']} {name!r} has cyclomatic complexity {score} "
                        f"(rank {rank_of(score)}), above the limit {block_max} "
                        f"({ctx.options['max_block']})",
                        hint=HINT,
                    )
                )
        everything += scores
        if scores and sum(scores) / len(scores) > module_max:
            avg = sum(scores) / len(scores)
            findings.append(
                ctx.finding(
                    "max-module",
                    path,
                    1,
                    0,
                    f"module average complexity {avg:.1f} (rank {rank_of(avg)}) is above the "
                    f"limit {module_max} ({ctx.options['max_module']})",
                    hint=HINT,
                )
            )
    if everything and sum(everything) / len(everything) > average_max:
        avg = sum(everything) / len(everything)
        findings.append(
            ctx.finding(
                "max-average",
                "",
                0,
                0,
                f"average complexity {avg:.1f} over {len(everything)} blocks "
                f"(rank {rank_of(avg)}) is above the limit {average_max} "
                f"({ctx.options['max_average']})",
                hint=HINT,
            )
        )
    return findings


def run(ctx: StageContext) -> list[Finding]:
    targets = list(ctx.files) if not ctx.whole_tree or not ctx.paths else ctx.paths
    done = ctx.run_tool(["cc", "--json", "--show-complexity", *ctx.args, "--", *targets], ok=(0,))
    return parse(ctx, done.stdout)


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    register(
        Stage(
            name="radon",
            run=run,
            description="cyclomatic complexity limits with radon",
            tool="radon",
            options=OPTIONS,
            config_files=("pyproject.toml",),
        )
    )
