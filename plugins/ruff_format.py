"""The ``ruff-format`` stage: ``ruff format --check --diff``, one finding per drifted file."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import gatekeeper
from gatekeeper import Finding, Stage, StageContext

_FILE = re.compile(r"^--- (.+?)(\t.*)?$")
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")


def parse(ctx: StageContext, diff: str) -> Iterator[Finding]:
    """One finding per file of a unified diff, at its first changed line, counting hunks."""
    hunks: dict[str, list[int]] = {}
    current: str | None = None
    lines = diff.splitlines()
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        header = _FILE.match(line)
        if header and nxt.startswith("+++ "):
            current = header.group(1).strip()
            hunks.setdefault(current, [])
            continue
        hunk = _HUNK.match(line)
        if hunk and current is not None:
            hunks[current].append(int(hunk.group(1)))
    for path, starts in hunks.items():
        first = starts[0] if starts else 0
        count = len(starts)
        yield ctx.finding(
            "format",
            path,
            first,
            1 if first else 0,
            f"file is not formatted ({count} hunk{'s' if count != 1 else ''} would change)",
            fixable=True,
            hint=f"run `ruff format {path}`",
        )


def run(ctx: StageContext) -> list[Finding]:
    targets = list(ctx.files) if not ctx.whole_tree or not ctx.paths else ctx.paths
    done = ctx.run_tool(
        ["format", "--check", "--diff", "--force-exclude", *ctx.args, "--", *targets]
    )
    return list(parse(ctx, done.stdout))


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    register(
        Stage(
            name="ruff-format",
            run=run,
            description="formatting drift with ruff format --check",
            tool="ruff",
            config_files=("pyproject.toml", "ruff.toml", ".ruff.toml"),
        )
    )
