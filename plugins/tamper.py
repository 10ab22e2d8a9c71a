"""The ``tamper`` stage: suppression creep, compared with the base of the change.

The guard's verdict rests on invariants the core checks after the stages ran
(:mod:`gatekeeper.guard.invariants`: the change's code under the base's rules and tests, added
code within reach); their findings join this stage's. The spellings found here explain why an
invariant broke, and catch type laundering the invariants cannot see. This stage compares the
tree under check with ``ctx.base`` (HEAD for a plain run, the pushed base for pre-push, the
loop's or agent session's starting tree) and reports, each at ``file:line``:

- new ``Any``, ``cast(``, ``no_type_check`` (type laundering);
- new ``# noqa``, ``# type: ignore``, ``# pragma: no cover``; new ``pytest.mark.skip`` /
  ``skipif`` / ``xfail``, ``pytest.skip(`` calls, ``unittest.skip``;
- deleted or emptied test functions, and a lower test count;
- loosened settings of the gate, ruff, mypy, pytest or coverage.

It is on by default for the ``loop``, ``pre-push``, ``agent`` and ``ci`` triggers (and a run
with ``--base``), off for a person's plain run unless configured. Deliberate exceptions go in
the top-level ``tamper_allow`` list, each with a reason; on every trigger but a person's own
run it is read from the base, so a change cannot approve itself.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import gatekeeper
from gatekeeper import Finding, Stage, StageContext, StageError
from gatekeeper.guard.allow import PERSON_TRIGGERS, allowed

from . import _config_views as views
from . import _tamper_config as configs
from . import _tamper_source as source

GUARDED_TRIGGERS = ("loop", "pre-push", "agent", "ci")
HINT = {
    "tamper-noqa": "fix the lint finding instead of silencing it, or allow-list it with a reason",
    "tamper-type-ignore": "fix the type error instead of ignoring it, or allow-list it",
    "tamper-no-cover": "test the code instead of excluding it from coverage, or allow-list it",
    "tamper-skip": "make the test pass instead of skipping it, or allow-list it with a reason",
    "tamper-test-deleted": "restore the test and fix the code it checks",
    "tamper-test-emptied": "restore the test's assertions and fix the code it checks",
    "tamper-test-count": "restore the removed tests",
    "tamper-config": "restore the setting and fix what it reports, or allow-list it",
    "tamper-type-laundering": (
        "state the real type instead of laundering it through Any, cast or no_type_check, "
        "or have a person allow it in the base's tamper_allow"
    ),
}


@dataclass
class Change:
    """The files that differ between the base and the tree, with both texts on demand."""

    ctx: StageContext
    base: str
    changed: dict[str, str]  # path -> git status letter (A, M, D, T)
    _cache: dict[str, str | None] = field(default_factory=dict)

    def base_text(self, path: str) -> str | None:
        if self.changed.get(path) == "A":
            return None
        if path not in self._cache:
            # "./": relative to the project, which may be a subdirectory of the repository
            done = self.ctx.run(["git", "cat-file", "-p", f"{self.base}:./{path}"], ok=(0, 128))
            self._cache[path] = done.stdout if done.returncode == 0 else None
        return self._cache[path]

    def now_text(self, path: str) -> str | None:
        if self.changed.get(path) == "D":
            return None
        try:
            return (self.ctx.root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None


def _tree_of_worktree(ctx: StageContext) -> str:
    """The working tree as a git tree (untracked files included) via a private index."""
    index = ctx.run(["git", "rev-parse", "--git-path", "index"], ok=(0,)).stdout.strip()
    index_path = Path(index) if Path(index).is_absolute() else ctx.root / index
    with tempfile.TemporaryDirectory(prefix="gatekeeper-tamper-") as tmp:
        private = Path(tmp) / "index"
        if index_path.is_file():
            # copy2 keeps the mtime, so git's racy-git check still sees a file rewritten in
            # the index's own second (see gatekeeper.git.tree_hash)
            shutil.copy2(index_path, private)
        env = {"GIT_INDEX_FILE": str(private)}
        ctx.run(["git", "add", "--all", "--", "."], ok=(0,), env=env)
        return ctx.run(["git", "write-tree"], ok=(0,), env=env).stdout.strip()


def changed_files(ctx: StageContext, base: str) -> dict[str, str]:
    """Paths that differ between ``base`` and the tree under check, with their status."""
    check = ctx.run(["git", "rev-parse", "--verify", "--quiet", f"{base}^{{tree}}"], ok=(0, 1))
    if check.returncode != 0:
        raise StageError(f"cannot compare with {base}: not a commit or tree in this repository")
    now = _tree_of_worktree(ctx)
    out = ctx.run(
        # --relative: a project in a subdirectory sees its own files, relative to it
        ["git", "diff", "--name-status", "-z", "--no-renames", "--relative", base, now, "--"],
        ok=(0,),
    ).stdout
    parts = [p for p in out.split("\0") if p]
    return {parts[i + 1]: parts[i][0] for i in range(0, len(parts) - 1, 2)}


def _in_scope(ctx: StageContext, path: str, status: str) -> bool:
    # Deleted files are never in ctx.files (they no longer exist) but deleting tests is
    # exactly what the guard is for.
    return status == "D" or path in ctx.files


def _suppressions(change: Change, paths: list[str]) -> Iterator[Finding]:
    ctx = change.ctx
    for path in paths:
        now = change.now_text(path)
        if now is None:
            continue
        for mark in source.new_marks(change.base_text(path), now):
            yield ctx.finding(mark.rule, path, mark.line, 0, f"new {mark.what}: {mark.text}")


@dataclass
class _TestTally:
    """Test functions seen across the changed test files."""

    before: int = 0
    after: int = 0
    vanished: list[tuple[str, source.TestFunc]] = field(default_factory=list)
    names_now: set[str] = field(default_factory=set)


def _test_file(change: Change, path: str, tally: _TestTally) -> Iterator[Finding]:
    base = source.tests(change.base_text(path))
    now = source.tests(change.now_text(path))
    if base is None or now is None:
        return  # a syntax error: the other stages report it
    tally.before += len(base)
    tally.after += len(now)
    tally.names_now |= {n.rsplit(".", 1)[-1] for n in now}
    for name, func in now.items():
        old = base.get(name)
        if func.empty and old is not None and not old.empty:
            yield change.ctx.finding(
                "tamper-test-emptied", path, func.line, 0, f"test {name} was emptied"
            )
    if len(now) < len(base):
        tally.vanished += [(path, f) for n, f in base.items() if n not in now]


def _tests(change: Change, paths: list[str]) -> Iterator[Finding]:
    ctx = change.ctx
    tally = _TestTally()
    test_files = [p for p in paths if source.is_test_file(p)]
    for path in test_files:
        yield from _test_file(change, path, tally)
    for path, func in tally.vanished:
        if func.name.rsplit(".", 1)[-1] not in tally.names_now:  # not merely moved
            yield ctx.finding(
                "tamper-test-deleted",
                path,
                0,
                0,
                f"test {func.name} (line {func.line} before the change) was deleted",
            )
    if tally.after < tally.before:
        yield ctx.finding(
            "tamper-test-count",
            test_files[0],
            0,
            0,
            f"the test count went down from {tally.before} to {tally.after}"
            " in the changed test files",
        )


def _line_of(text: str | None, key: str) -> int:
    """The first line that sets ``key`` (``key =`` / ``key:``), else one that mentions it."""
    if not text:
        return 0
    names = "|".join(re.escape(v) for v in {key, key.replace("_", "-"), key.replace("-", "_")})
    setting = re.compile(rf"(?<![\w-])[\"']?(?:{names})[\"']?\s*[=:]")
    mention = re.compile(rf"(?<![\w-])(?:{names})(?![\w-])")
    lines = text.splitlines()
    for pattern in (setting, mention):
        for n, line in enumerate(lines, 1):
            if pattern.search(line):
                return n
    return 0


def _configs(change: Change, paths: list[str]) -> Iterator[Finding]:
    ctx = change.ctx
    for path in (p for p in paths if views.is_config_file(p)):
        now = change.now_text(path)
        name = PurePosixPath(path).name
        try:
            found = configs.loosened(name, change.base_text(path), now)
        except views.Unreadable as exc:
            raise StageError(f"cannot read {path} to compare its settings: {exc}") from None
        for item in found:
            line = _line_of(now, item.key)
            yield ctx.finding("tamper-config", path, line, 0, item.message)


def _allow_entries(change: Change) -> list[dict[str, Any]]:
    """The allow-list in force: the base's on every trigger but a person's own run."""
    from_base = change.ctx.trigger not in PERSON_TRIGGERS
    entries: list[dict[str, Any]] = []
    for name in ("pyproject.toml", ".gatekeeper.yaml", ".gatekeeper.yml"):
        text = change.base_text(name) if from_base else change.now_text(name)
        entries += views.allow_list(name, text)
    return entries


def run(ctx: StageContext) -> list[Finding]:
    if not ctx.base:
        return [
            ctx.finding(
                "tamper-no-base",
                ".",
                0,
                0,
                "NOTHING COULD BE COMPARED (no commits yet, or a new branch with no base): "
                "the tamper guard checked nothing",
                severity="note",
            )
        ]
    change = Change(ctx, ctx.base, {})
    change.changed = {p: s for p, s in changed_files(ctx, ctx.base).items() if _in_scope(ctx, p, s)}
    paths = sorted(change.changed)
    py = [p for p in paths if p.endswith((".py", ".pyi"))]
    found = [*_suppressions(change, py), *_tests(change, py), *_configs(change, paths)]
    entries = _allow_entries(change)
    return [replace(f, hint=HINT[f.rule]) for f in found if not allowed(f, entries)]


def _patterns() -> tuple[str, ...]:
    return ("*.py", "*.pyi", *views.CONFIG_FILES)


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    register(
        Stage(
            name="tamper",
            run=run,
            description="suppression creep: new noqa/ignores/skips, lost tests, looser config",
            file_local=False,
            patterns=_patterns(),
            relevant=("*",),
            config_files=views.CONFIG_FILES,
            timeout=120.0,
            cacheable=False,  # the verdict depends on the base, not only on the tree
            default_enabled=False,
            default_triggers=GUARDED_TRIGGERS,
            judges_change=True,
        )
    )


__all__ = ["allowed", "changed_files", "run"]
