"""The hybrid tree: the change's code under the base's rules and the base's tests.

Given the base (a commit or tree) and the tree under check, :func:`build` writes a git tree
in which

- every *rule file* (tool configuration at any depth, conftest, stubs, the gate's own config
  and baseline) and every *test file* is exactly as the base has it (one the change added is
  left out, one it deleted comes back);
- every comment the change added to a code file is replaced by a neutral comment of the
  same length, so no suppression of any spelling (``# noqa``, ``# ruff: disable[..]``,
  ``# mypy: ignore_errors``, ``# fmt: off`` …) survives, while lines and columns stay put.

Nothing is written to the working tree or the user's index: objects go into the object
database through a private index, and the result is a commit that
:func:`gatekeeper.push.snapshot.checkout` can materialise.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import tempfile
import tokenize
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from gatekeeper import git
from gatekeeper.errors import GatekeeperError
from gatekeeper.process import run_process

#: Files that configure a tool, the tests or the gate, by name, at any depth.
RULE_NAMES = frozenset(
    {
        "pyproject.toml",
        "setup.cfg",
        "tox.ini",
        "mypy.ini",
        ".mypy.ini",
        "ruff.toml",
        ".ruff.toml",
        "pytest.ini",
        ".pytest.ini",
        "pytest.toml",
        ".coveragerc",
        ".flake8",
        ".pylintrc",
        "pylintrc",
        ".isort.cfg",
        "pyrightconfig.json",
        "ty.toml",
        ".gatekeeper.yaml",
        ".gatekeeper.yml",
        ".gatekeeper-baseline.json",
        ".pre-commit-config.yaml",
        "conftest.py",
        "sitecustomize.py",
        "usercustomize.py",
        "py.typed",
        "setup.py",
    }
)
#: Suffixes of rule files: any TOML/INI/CFG file can be extended by a tool's config
#: (``extend = "other.toml"``), stubs change what the type checker believes, ``.pth`` files
#: run code at start-up.
RULE_SUFFIXES = (".toml", ".ini", ".cfg", ".pyi", ".pth")
TEST_DIRS = frozenset({"tests", "test", "testing"})
_ENCODING = re.compile(r"^#.*coding[:=]")
_ZERO = "0" * 40
_IDENTITY = {
    "GIT_AUTHOR_NAME": "gatekeeper",
    "GIT_AUTHOR_EMAIL": "gatekeeper@localhost",
    "GIT_COMMITTER_NAME": "gatekeeper",
    "GIT_COMMITTER_EMAIL": "gatekeeper@localhost",
}


def is_rule_file(path: str) -> bool:
    """True for a file whose content changes what a tool reports or how tests run."""
    name = PurePosixPath(path).name
    return name in RULE_NAMES or name.endswith(RULE_SUFFIXES) or "baseline" in name.lower()


def is_test_file(path: str) -> bool:
    """A test module (pytest's default names) or any file under a test directory."""
    parts = PurePosixPath(path).parts
    name = parts[-1] if parts else ""
    return (
        name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))
    ) or any(p in TEST_DIRS for p in parts[:-1])


@dataclass
class Hybrid:
    """What :func:`build` did: the hybrid commit (None when it equals the change) and why.

    :ivar restored: path -> what happened to it (``"restored"``, ``"removed"``, ``"added back"``).
    :ivar comments: path -> {line: the comment the change added there}.
    """

    commit: str | None
    tree: str
    restored: dict[str, str] = field(default_factory=dict)
    comments: dict[str, dict[int, str]] = field(default_factory=dict)

    @property
    def rule_files(self) -> list[str]:
        return sorted(p for p in self.restored if is_rule_file(p))

    @property
    def test_files(self) -> list[str]:
        return sorted(p for p in self.restored if not is_rule_file(p))


def diff(root: Path, base: str, tree: str) -> dict[str, str]:
    """Paths that differ between two tree-ish objects, with their status letter (A, M, D, T)."""
    out = git.git(root, "diff-tree", "-r", "-z", "--no-renames", "--name-status", base, tree)
    parts = [p for p in out.split("\0") if p]
    return {parts[i + 1]: parts[i][0] for i in range(0, len(parts) - 1, 2)}


def _entries(root: Path, treeish: str, paths: Iterable[str]) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob) in ``treeish`` for the given paths."""
    wanted = sorted(paths)
    if not wanted:
        return {}
    out = git.git(root, "ls-tree", "-r", "-z", treeish, "--", *wanted)
    found = {}
    for record in (r for r in out.split("\0") if r):
        meta, path = record.split("\t", 1)
        mode, _kind, sha = meta.split()
        found[path] = (mode, sha)
    return found


def added_lines(base_text: str | None, now_text: str) -> set[int]:
    """1-based lines of ``now_text`` that the change added or modified."""
    now = now_text.splitlines()
    if base_text is None:
        return set(range(1, len(now) + 1))
    old = base_text.splitlines()
    # The lines both ends share are unchanged: matching only the middle keeps a one-line edit
    # of a long module instant (SequenceMatcher is quadratic in what it is given).
    head = 0
    while head < min(len(old), len(now)) and old[head] == now[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(now)) - head and old[-1 - tail] == now[-1 - tail]:
        tail += 1
    middle = difflib.SequenceMatcher(
        None, old[head : len(old) - tail], now[head : len(now) - tail], autojunk=False
    )
    added: set[int] = set()
    for op, _a1, _a2, b1, b2 in middle.get_opcodes():
        if op in ("replace", "insert"):
            added.update(range(head + b1 + 1, head + b2 + 1))
    return added


def neutralise_comments(base_text: str | None, now_text: str) -> tuple[str, dict[int, str]]:
    """``now_text`` with every comment on an added line replaced by ``# ....`` of equal length.

    Returns the new text and the comments replaced (line -> comment). A shebang or encoding
    line stays. Text that does not tokenize is returned unchanged (the stages report it).
    """
    lines = added_lines(base_text, now_text)
    if not lines:
        return now_text, {}
    try:
        comments = [
            (tok.start, tok.string)
            for tok in tokenize.generate_tokens(io.StringIO(now_text).readline)
            if tok.type == tokenize.COMMENT and tok.start[0] in lines
        ]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return now_text, {}
    text_lines = now_text.splitlines(keepends=True)
    replaced: dict[int, str] = {}
    for (row, col), comment in comments:
        if row <= 2 and (comment.startswith("#!") or _ENCODING.match(comment)):
            continue
        neutral = "#" if len(comment) < 2 else "# " + "." * max(len(comment) - 2, 0)
        line = text_lines[row - 1]
        text_lines[row - 1] = line[:col] + neutral + line[col + len(comment) :]
        replaced[row] = comment
    return "".join(text_lines), replaced


def _read_blob(root: Path, sha: str) -> str | None:
    data = git.git(root, "cat-file", "blob", sha, check=False)
    return data if "\0" not in data[:8000] else None


def _plan(
    root: Path, base: str, tree: str, changed: Mapping[str, str], tmp: Path
) -> tuple[list[str], dict[str, str], dict[str, dict[int, str]]]:
    """The ``git update-index --index-info`` lines that turn ``tree`` into the hybrid."""
    infos: list[str] = []
    restored: dict[str, str] = {}
    comments: dict[str, dict[int, str]] = {}
    in_base = _entries(root, base, [p for p, s in changed.items() if s != "A"])
    in_tree = _entries(root, tree, [p for p, s in changed.items() if s != "D"])
    for path, status in sorted(changed.items()):
        if is_rule_file(path) or is_test_file(path):
            if path in in_base:
                mode, sha = in_base[path]
                infos.append(f"{mode} {sha}\t{path}")
                restored[path] = "added back" if status == "D" else "restored"
            else:
                infos.append(f"0 {_ZERO}\t{path}")
                restored[path] = "removed"
            continue
        if not path.endswith(".py") or path not in in_tree:
            continue
        mode, sha = in_tree[path]
        now = _read_blob(root, sha)
        if now is None:
            continue
        old = _read_blob(root, in_base[path][1]) if path in in_base else None
        text, replaced = neutralise_comments(old, now)
        if replaced:
            scratch = tmp / "blob"
            scratch.write_text(text, encoding="utf-8")
            blob = git.git(root, "hash-object", "-w", "--", str(scratch)).strip()
            infos.append(f"{mode} {blob}\t{path}")
            comments[path] = replaced
    return infos, restored, comments


def _update_index(root: Path, infos: str, env: Mapping[str, str]) -> None:
    merged = {**os.environ, **env}
    done = run_process(
        ["git", "update-index", "--index-info"], cwd=root, timeout=120, env=merged, stdin=infos
    )
    if done.returncode != 0:
        raise GatekeeperError(
            f"git update-index failed: {done.stderr.strip()[:300]}", "check the repository state"
        )


def build(root: Path, base: str, tree: str, changed: Mapping[str, str] | None = None) -> Hybrid:
    """The hybrid of ``tree`` (the change) and ``base``; ``commit`` is None when identical."""
    changed = dict(changed) if changed is not None else diff(root, base, tree)
    with tempfile.TemporaryDirectory(prefix="gatekeeper-hybrid-") as tmp:
        infos, restored, comments = _plan(root, base, tree, changed, Path(tmp))
        if not infos:
            return Hybrid(None, tree)
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git.git(root, "read-tree", tree, env=env)
        _update_index(root, "".join(f"{line}\n" for line in infos), env)
        hybrid_tree = git.git(root, "write-tree", env=env).strip()
    message = f"gatekeeper: the change's code under the base's rules and tests ({base[:12]})"
    commit = git.git(root, "commit-tree", hybrid_tree, "-m", message, env=_IDENTITY).strip()
    return Hybrid(commit, hybrid_tree, restored, comments)


__all__ = [
    "Hybrid",
    "added_lines",
    "build",
    "diff",
    "is_rule_file",
    "is_test_file",
    "neutralise_comments",
]
