"""The ``ruff-format`` stage: ``ruff format --check --diff``, one finding per drifted file.

ruff exits 1 when files would be reformatted and 2 when it could not format one: a file it
cannot parse is a finding (``syntax-error``, as ruff check reports it too); any other exit 2,
and an exit 1 without a diff, are errors of the stage.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import gatekeeper
from gatekeeper import Finding, Stage, StageContext, StageError, narrow_by_file

from ._ruff_config import format_inputs
from .ruff import own_selection

# A notebook's diff names each cell: `--- nb.ipynb:cell 3`.
_FILE = re.compile(r"^--- (.+?)(?::cell \d+)?(\t.*)?$")
_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@")
_PARSE_ERROR = re.compile(r"^error: Failed to parse (.+?):(\d+):(\d+): (.*)$")


@dataclass(frozen=True)
class Drift:
    """One file of the diff: the first changed line of every hunk."""

    path: str
    starts: tuple[int, ...]


@dataclass
class _Reader:
    """Walks a unified diff: files, hunks, and the first changed line of each hunk."""

    path: str | None = None
    starts: list[int] = field(default_factory=list)
    line: int = 0  # old-file line of the hunk's next line, or 0 once its change is found

    def drift(self) -> Drift | None:
        return Drift(self.path, tuple(self.starts)) if self.path is not None else None

    def feed(self, text: str, nxt: str) -> Drift | None:
        """Take one diff line; returns the previous file's drift when a new file starts."""
        header = _FILE.match(text)
        if header and nxt.startswith("+++ "):
            done = self.drift()
            self.path, self.starts, self.line = header.group(1).strip(), [], 0
            return done
        hunk = _HUNK.match(text)
        if hunk:
            self.line = int(hunk.group(1))
        elif self.line and text.startswith(("-", "+")):
            self.starts.append(self.line)
            self.line = 0
        elif self.line:
            self.line += 1
        return None


def drifts(diff: str) -> Iterator[Drift]:
    """The files of a unified diff, each with the first changed line of every hunk."""
    reader = _Reader()
    lines = diff.splitlines()
    for text, nxt in itertools.pairwise([*lines, ""]):
        done = reader.feed(text, nxt)
        if done is not None:
            yield done
    last = reader.drift()
    if last is not None:
        yield last


def parse(ctx: StageContext, diff: str) -> list[Finding]:
    """One finding per file of a unified diff, at its first changed line, counting hunks."""
    merged: dict[str, list[int]] = {}
    for drift in drifts(diff):  # a notebook's cells come as one "file" each
        merged.setdefault(drift.path, []).extend(drift.starts)
    findings = []
    for path, starts in merged.items():
        drift = Drift(path, tuple(starts))
        first = drift.starts[0] if drift.starts else 0
        count = len(drift.starts)
        findings.append(
            ctx.finding(
                "format",
                drift.path,
                first,
                1 if first else 0,
                f"file is not formatted ({count} hunk{'s' if count != 1 else ''} would change)",
                fixable=True,
                hint=f"run `ruff format {drift.path}`",
            )
        )
    return findings


def parse_errors(ctx: StageContext, stderr: str) -> tuple[list[Finding], list[str]]:
    """Files ruff could not parse, as findings, and every other ``error:`` line."""
    findings: list[Finding] = []
    other: list[str] = []
    for line in stderr.splitlines():
        match = _PARSE_ERROR.match(line.strip())
        if match:
            path, row, col, message = match.groups()
            findings.append(
                ctx.finding(
                    "syntax-error",
                    path,
                    int(row),
                    int(col),
                    f"cannot format: {message}",
                    hint="fix the syntax error; the file cannot be formatted until then",
                    stops_tool=True,
                )
            )
        elif line.startswith("error:"):
            other.append(line)
    return findings, other


def run(ctx: StageContext) -> list[Finding]:
    """Check the formatting of the files in scope that ruff's own configuration selects;
    never rewrites them."""
    targets = list(ctx.files) if not ctx.whole_tree or not ctx.paths else ctx.paths
    if targets == list(ctx.files):
        # A file passed by name is formatted even outside `include`: ask ruff what it selects.
        selected = own_selection(ctx)
        targets = [t for t in targets if t in selected and not t.endswith(".toml")]
        ctx.tell("files_checked", len(targets))
        if not targets:
            return []
    argv = ["format", "--check", "--diff", "--force-exclude", *ctx.args, "--", *targets]
    done = ctx.run_tool(argv, ok=(0, 1, 2))
    findings = parse(ctx, done.stdout)
    broken, other = parse_errors(ctx, done.stderr)
    if done.returncode == 2 and (other or not broken):
        raise StageError("ruff format could not run (exit 2)", done.output)
    if done.returncode == 1 and not findings:
        raise StageError("ruff format reported drift but printed no diff", done.output)
    return findings + broken


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``ruff-format`` stage."""
    register(
        Stage(
            name="ruff-format",
            run=run,
            description="formatting drift with ruff format --check",
            tool="ruff",
            patterns=("*.py", "*.pyi", "*.ipynb"),
            config_files=("pyproject.toml", "ruff.toml", ".ruff.toml"),
            inputs=format_inputs,
            narrow=narrow_by_file,
        )
    )
