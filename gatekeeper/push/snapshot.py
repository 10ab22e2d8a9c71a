"""Check a commit exactly as committed: in a temporary detached ``git worktree`` of it, with its
submodules, that is always removed.

The pushed commit is always checked in a snapshot, never in place: a clean ``git status``
still hides files marked ``--skip-worktree`` or ``assume-unchanged``, files ignored through
``.git/info/exclude`` (a ``conftest.py``), and stale bytecode, any of which would decide the
verdict instead of the commit. Nor does the working tree's sparse-checkout (which ``git
worktree add`` copies) or a ``git replace`` substitute shape the snapshot: it is made from
the commit's own objects. Snapshots live in the user's state directory, outside the
repository: inside it, tools that search the parent directories for their configuration
(pytest's rootdir and ini file, ruff's hierarchical settings) would find the working tree's
files. A snapshot left by a process that was killed outright (SIGKILL, power loss) is swept by
the next push.
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
from gatekeeper.push import submodules
from gatekeeper.userstate import forget_bytecode, user_state_dir

SNAPSHOTS = "snapshots"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def snapshots_dir() -> Path:
    """Where snapshots are made: ``snapshots/`` in the user's state directory."""
    return user_state_dir() / SNAPSHOTS


def sweep(root: Path) -> None:
    """Remove snapshots whose owning process is gone, and git's records of them."""
    base = snapshots_dir()
    if base.is_dir():
        for entry in base.iterdir():
            pid = entry.name.split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                forget_bytecode(entry / "tree")
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
def checkout(root: Path, commit: str, where: Path | None = None) -> Iterator[Path]:
    """A detached worktree of ``commit`` with its submodules, made in ``where`` (default:
    :func:`snapshots_dir`); removed on exit, also on failure or interruption.

    :raises GatekeeperError: a submodule's commit is not available here.
    """
    base = where or snapshots_dir()
    base.mkdir(parents=True, exist_ok=True)
    with terminate_as_interrupt():
        holder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))
        tree = holder / "tree"
        try:
            # No post-checkout hook: the user's hooks have no business in our snapshot. The
            # whole tree, whatever the working tree's sparse-checkout (which `worktree add`
            # copies) leaves out, and the commit's own objects, not `git replace`'s
            # substitutes: what is pushed is the commit as committed.
            git.git(
                root,
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "core.sparseCheckout=false",
                "worktree",
                "add",
                "--detach",
                "--quiet",
                str(tree),
                commit,
                env={"GIT_NO_REPLACE_OBJECTS": "1"},
            )
            submodules.populate(tree, root)
            yield tree
        finally:
            # Tools may still be writing into the tree when we are interrupted: stop them first.
            kill_all()
            git.git(root, "worktree", "remove", "--force", str(tree), check=False)
            forget_bytecode(tree)
            shutil.rmtree(holder, ignore_errors=True)
            git.git(root, "worktree", "prune", check=False)


@contextlib.contextmanager
def tree_of(root: Path, commit: str) -> Iterator[Path]:
    """Where to check ``commit``: always a fresh snapshot of it (see the module docstring)."""
    with checkout(root, commit) as tree:
        yield tree
