"""The repository's private ``.gatekeeper/`` directory: ledger, caches, tool caches.

It ignores itself (a ``.gitignore`` of ``*`` inside it), so the user's ``.gitignore`` is never
edited and the directory never shows up as untracked. All worktrees of a repository share the
one in the main worktree, so caches and the ledger follow the repository, not the checkout.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from gatekeeper import git

STATE_DIR = ".gatekeeper"


@functools.lru_cache(maxsize=64)
def _main_worktree(root: Path) -> Path:
    # Asked several times per run (plan, cache, ledger); the answer cannot change meanwhile.
    common = git.git(root, "rev-parse", "--path-format=absolute", "--git-common-dir").strip()
    common_path = Path(common)
    if common_path.name == ".git":
        return common_path.parent
    return root  # a bare or unusual layout: keep state beside this checkout


def state_dir(root: Path) -> Path:
    """``.gatekeeper/`` for the repository at ``root``, created on first use."""
    override = os.environ.get("GATEKEEPER_STATE_DIR")
    path = Path(override) if override else _main_worktree(root) / STATE_DIR
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        tmp = path / f".gitignore.{os.getpid()}"
        tmp.write_text("# created by gatekeeper: nothing in here belongs in git\n*\n")
        os.replace(tmp, ignore)
    return path
