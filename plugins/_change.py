"""The lines a change added or modified, per Python file, read from git.

Shared by the ``pytest`` stage (which files to measure) and the ``test-quality`` stage (which
lines to judge). The tree under check is the working tree, compared with ``ctx.base`` (a commit
or a tree); files git does not track yet count as added whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gatekeeper import StageContext, StageError

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)
_PYTHON = ("*.py",)


def changed_lines(ctx: StageContext, base: str) -> dict[str, frozenset[int]]:
    """Repo-relative ``.py`` paths to the 1-based lines the change added or modified.

    A file with only deletions maps to an empty set; deleted files are left out.

    :raises StageError: ``base`` is not a commit or tree of the repository.
    """
    check = ctx.run(["git", "rev-parse", "--verify", "--quiet", f"{base}^{{tree}}"], ok=(0, 1))
    if check.returncode != 0:
        raise StageError(f"cannot compare with {base}: not a commit or tree in this repository")
    diff = ctx.run(
        ["git", "diff", "-U0", "--no-renames", "--no-ext-diff", "--no-color", base, "--", *_PYTHON],
        ok=(0,),
    ).stdout
    lines = _parse_diff(diff)
    untracked = ctx.run(
        ["git", "ls-files", "-z", "--others", "--exclude-standard", "--", *_PYTHON], ok=(0,)
    ).stdout
    for path in (p for p in untracked.split("\0") if p):
        try:
            text = (ctx.root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        lines[path] = frozenset(range(1, len(text.splitlines()) + 1))
    return lines


def _parse_diff(diff: str) -> dict[str, frozenset[int]]:
    """``git diff -U0`` output to new-side line numbers per file (deleted files left out)."""
    found: dict[str, frozenset[int]] = {}
    for section in diff.split("\ndiff --git ")[0:]:
        target = re.search(r"^\+\+\+ (?:b/(.*)|/dev/null)$", section, re.M)
        if target is None or target.group(1) is None:
            continue
        numbers: set[int] = set()
        for hunk in _HUNK.finditer(section):
            start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
            numbers.update(range(start, start + count))
        found[_unquote(target.group(1))] = frozenset(numbers)
    return found


def _unquote(path: str) -> str:
    # git quotes unusual names ("a b.py" stays bare, "\303\251.py" gets C quoting)
    if path.startswith('"') and path.endswith('"'):
        raw = path[1:-1].encode("latin-1").decode("unicode_escape").encode("latin-1")
        return raw.decode("utf-8", errors="replace")
    return path.rstrip("\t")


def base_text(ctx: StageContext, base: str, path: str) -> str | None:
    """The file's text at ``base`` (None when it did not exist there)."""
    done = ctx.run(["git", "cat-file", "-p", f"{base}:{path}"], ok=(0, 128))
    return done.stdout if done.returncode == 0 else None


def package_files(
    ctx: StageContext, changed: Mapping[str, frozenset[int]]
) -> dict[str, frozenset[int]]:
    """The changed files that are project code, with added lines: in the discovered packages
    and top-level modules (any non-test file when none were found), not tests or conftest."""
    return {
        path: lines
        for path, lines in changed.items()
        if lines
        and in_sources(ctx, path)
        and not is_test_path(ctx, path)
        and (ctx.root / path).is_file()
    }


def in_sources(ctx: StageContext, path: str) -> bool:
    """True when ``path`` is in a discovered package or is a top-level module."""
    sources = ctx.layout.sources
    return not sources or any(path == s or path.startswith(s + "/") for s in sources)


def is_test_path(ctx: StageContext, path: str) -> bool:
    """True for test modules, conftest files and anything under the discovered test dirs."""
    name = path.rsplit("/", 1)[-1]
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    parts = path.split("/")
    if any(p in ("tests", "test", "testing") for p in parts[:-1]):
        return True
    return any(path == t or path.startswith(t.rstrip("/") + "/") for t in ctx.layout.tests)
