"""Check a commit exactly as committed: in place when the working tree is that commit, else
in a temporary detached ``git worktree`` that is always removed.

Snapshots live under the repository's state directory (``.gatekeeper/snapshots/``) rather
than the system temp dir: tool caches there are shared with ordinary runs, and a snapshot left
by a process that was killed outright (SIGKILL, power loss) is swept by the next push.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from gatekeeper import git
from gatekeeper.process import kill_all

SNAPSHOTS = "snapshots"


def clean_in_place(root: Path, commit: str) -> bool:
    """True when ``root``'s HEAD is ``commit`` and nothing is modified, staged or untracked."""
    return git.head_sha(root) == commit and not git.is_dirty(root)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep(root: Path, state: Path) -> None:
    """Remove snapshots whose owning process is gone, and git's records of them."""
    base = state / SNAPSHOTS
    if base.is_dir():
        for entry in base.iterdir():
            pid = entry.name.split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)
    git.git(root, "worktree", "prune", check=False)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Let SIGTERM/SIGHUP/SIGINT unwind as KeyboardInterrupt, so ``finally`` cleans up."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        # SIGINT too: a process started in the background inherits it ignored, and then
        # Python never turns Ctrl-C into KeyboardInterrupt.
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def checkout(root: Path, commit: str, state: Path) -> Iterator[Path]:
    """A detached worktree of ``commit``; removed on exit, also on failure or interruption."""
    base = state / SNAPSHOTS
    base.mkdir(parents=True, exist_ok=True)
    with terminate_as_interrupt():
        holder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))
        tree = holder / "tree"
        try:
            # No post-checkout hook: the user's hooks have no business in our snapshot.
            git.git(
                root,
                "-c",
                "core.hooksPath=/dev/null",
                "worktree",
                "add",
                "--detach",
                "--quiet",
                str(tree),
                commit,
            )
            yield tree
        finally:
            # Tools may still be writing into the tree when we are interrupted: stop them first.
            kill_all()
            git.git(root, "worktree", "remove", "--force", str(tree), check=False)
            shutil.rmtree(holder, ignore_errors=True)
            git.git(root, "worktree", "prune", check=False)


@contextlib.contextmanager
def tree_of(root: Path, commit: str, state: Path) -> Iterator[tuple[Path, bool]]:
    """Where to check ``commit``: ``(root, False)`` in place, or ``(snapshot, True)``."""
    if clean_in_place(root, commit):
        yield root, False
        return
    with checkout(root, commit, state) as tree:
        yield tree, True
