"""The few git questions the gate asks: where is the root, which files, which tree."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from gatekeeper.errors import GatekeeperError
from gatekeeper.process import ProcessTimeout, run_process

GIT_TIMEOUT = 120.0


def git(
    root: Path | str, *args: str, env: Mapping[str, str] | None = None, check: bool = True
) -> str:
    """Run ``git args`` in ``root`` and return stdout; a failure is a :class:`GatekeeperError`."""
    if shutil.which("git") is None:
        raise GatekeeperError("git is not installed", "install git and make sure it is on PATH")
    merged = {**os.environ, **(env or {})}
    # Hooks export GIT_DIR/GIT_INDEX_FILE; they would redirect the commands we run elsewhere.
    if env is None or "GIT_INDEX_FILE" not in env:
        merged.pop("GIT_INDEX_FILE", None)
    try:
        done = run_process(["git", *args], cwd=root, timeout=GIT_TIMEOUT, env=merged)
    except ProcessTimeout:
        raise GatekeeperError(f"git {args[0]} timed out", "check the repository's health") from None
    if check and done.returncode != 0:
        raise GatekeeperError(
            f"git {' '.join(args[:3])} failed: {done.stderr.strip()[:300]}",
            "check the repository state",
        )
    return done.stdout


def repo_root(start: Path | None = None) -> Path:
    """The top of the working tree containing ``start`` (default: the current directory)."""
    where = start or Path.cwd()
    if not where.exists():
        raise GatekeeperError(f"{where} does not exist", "run the gate inside a git repository")
    try:
        out = git(where, "rev-parse", "--show-toplevel")
    except GatekeeperError as exc:
        if "dubious ownership" in exc.message:
            # git refuses a repository owned by another user: it is one, just not trusted.
            raise GatekeeperError(
                f"git refuses the repository at {where}: it is owned by another user "
                "(dubious ownership)",
                "if you trust it: `git config --global --add safe.directory <repository path>`",
            ) from None
        raise GatekeeperError(
            f"{where} is not inside a git repository",
            "run the gate in a git checkout, or `git init` first",
        ) from None
    return Path(out.strip())


def _split_z(out: str) -> list[str]:
    return [p for p in out.split("\0") if p]


def list_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files that exist, repo-relative POSIX, sorted."""
    out = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    files = {p for p in _split_z(out) if (root / p).is_file()}
    return sorted(files)


def head_sha(root: Path) -> str | None:
    """HEAD's commit, or None in a repository without commits."""
    out = git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False).strip()
    return out or None


def tree_hash_of(root: Path, commit: str) -> str | None:
    """The tree id of ``commit`` (None: git does not know it)."""
    out = git(root, "rev-parse", "--verify", "--quiet", f"{commit}^{{tree}}", check=False)
    return out.strip() or None


def is_dirty(root: Path) -> bool:
    """True when the working tree or index differs from HEAD (untracked files count)."""
    return bool(git(root, "status", "--porcelain", "--untracked-files=normal").strip())


def tree_hash(root: Path) -> str:
    """A content hash of the working tree as git would commit it, untracked files included.

    Built in a private copy of the index so the user's index is never touched. The copy
    keeps the index's modification time: git trusts an entry's cached stat data only when
    the file is older than the index ("racy git", see git's
    Documentation/technical/racy-git.txt), and a copy stamped *now* would make a file
    rewritten in the same second as the index, at the same size, look unchanged — the hash
    would name the old tree while the stages read the new one.
    """
    git_dir = Path(git(root, "rev-parse", "--absolute-git-dir").strip())
    with tempfile.TemporaryDirectory(prefix="gatekeeper-index-") as tmp:
        index = Path(tmp) / "index"
        if (git_dir / "index").exists():
            shutil.copy2(git_dir / "index", index)
        env = {"GIT_INDEX_FILE": str(index)}
        git(root, "add", "--all", "--", ".", env=env)
        return git(root, "write-tree", env=env).strip()


def changed_files(root: Path, base: str, head: str | None = None) -> list[str]:
    """Files added, copied, modified or renamed between ``base`` and ``head`` (or the tree).

    Against the working tree, untracked files that git does not ignore are changes too.
    """
    # --relative: from a project in a subdirectory, its own files, relative to it (as
    # list_files gives them); at the top of the repository it changes nothing.
    args: Sequence[str] = [
        "diff",
        "--name-only",
        "-z",
        "--no-renames",
        "--diff-filter=ACMRT",
        "--relative",
        base,
    ]
    if head:
        return sorted(_split_z(git(root, *args, head)))
    untracked = _split_z(git(root, "ls-files", "-z", "--others", "--exclude-standard"))
    return sorted({*_split_z(git(root, *args)), *untracked})


def deleted_files(root: Path, base: str, head: str | None = None) -> list[str]:
    """Files that existed at ``base`` and are gone in ``head`` (or the working tree).

    A deletion is a change too: a module others import, a config file, a test's data file.
    """
    args: Sequence[str] = ["diff", "--name-only", "-z", "--no-renames", "--diff-filter=D", base]
    if head:
        args = [*args, head]
    return sorted(_split_z(git(root, *args)))
