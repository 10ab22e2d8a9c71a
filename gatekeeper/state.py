"""The repository's private state directory: ledger, caches, tool caches.

One per repository, shared by all of its worktrees, so caches and the ledger follow the
repository, not the checkout: agents working in linked worktrees land in one ledger. It is
``.gatekeeper/`` in the main worktree, or ``gatekeeper/`` inside the repository's git directory
when there is no main worktree to hold it (a bare repository with linked worktrees, a
``--separate-git-dir`` checkout). It ignores itself (a ``.gitignore`` of ``*`` inside it), so
the user's ``.gitignore`` is never edited and the directory never shows up as untracked.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from gatekeeper import git

STATE_DIR = ".gatekeeper"
#: the name inside the git directory, for layouts without a main worktree
GIT_DIR_STATE = "gatekeeper"


@functools.lru_cache(maxsize=64)
def _shared_location(root: Path) -> Path:
    # Asked several times per run (plan, cache, ledger); the answer cannot change meanwhile.
    # Every worktree of a repository has the same common git directory; a linked worktree's
    # own checkout is not where its state belongs.
    common = git.git(root, "rev-parse", "--path-format=absolute", "--git-common-dir").strip()
    common_path = Path(common)
    if common_path.name == ".git" and common_path.is_dir():
        return common_path.parent / STATE_DIR
    return common_path / GIT_DIR_STATE


def repository_state(root: Path) -> Path:
    """Where the repository at ``root`` keeps its state, whatever ``GATEKEEPER_STATE_DIR``
    says (for reading another repository's ledger). Raises
    :class:`~gatekeeper.errors.GatekeeperError` when ``root`` is not in a git repository."""
    return _shared_location(root)


def state_path(root: Path) -> Path:
    """Where the state directory of the repository at ``root`` is (it may not exist yet).

    ``GATEKEEPER_STATE_DIR`` overrides it. Raises :class:`~gatekeeper.errors.GatekeeperError`
    when ``root`` is not in a git repository.
    """
    override = os.environ.get("GATEKEEPER_STATE_DIR")
    return Path(override) if override else _shared_location(root)


def state_dir(root: Path) -> Path:
    """The state directory for the repository at ``root``, created on first use."""
    path = state_path(root)
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        tmp = path / f".gitignore.{os.getpid()}"
        tmp.write_text("# created by gatekeeper: nothing in here belongs in git\n*\n")
        os.replace(tmp, ignore)
    return path
