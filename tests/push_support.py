"""A real repository with a real bare remote on disk and the gate's pre-push hook installed."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.testing import CLEAN_MODULE, CLEAN_TEST, GateRepo, make_repo

# A fast subset: lint, types, tests. The build stage stays off to keep push tests quick.
PUSH_PYPROJECT = """\
[project]
name = "sample"
version = "0.1.0"

[tool.gatekeeper.stages.build]
enabled = false

[tool.gatekeeper.stages.radon]
enabled = false

[tool.gatekeeper.stages.ruff-format]
enabled = false

# The pushes here test the push itself with untested sample code, not the tests' quality
# (tests/test_test_quality.py runs the pre-push hook with it on).
[tool.gatekeeper.stages.test-quality]
enabled = false
"""

TYPE_ERROR = 'def broken() -> int:\n    return "not an int"\n'
LINT_ERROR = "import os\n"


@dataclass(frozen=True)
class Pushed:
    """A finished ``git push``."""

    returncode: int
    output: str


class PushRepo:
    """A working repository with ``origin`` pointing at a bare repository beside it."""

    def __init__(self, repo: GateRepo, remote: Path) -> None:
        self.repo = repo
        self.remote = remote

    @property
    def path(self) -> Path:
        return self.repo.path

    def write(self, rel: str, text: str) -> Path:
        return self.repo.write(rel, text)

    def git(self, *args: str, check: bool = True) -> str:
        return self.repo.git(*args, check=check)

    def commit(self, message: str = "change") -> str:
        return self.repo.commit(message)

    def push(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> Pushed:
        """``git push args`` for real; the hook's output is in ``output``."""
        done = subprocess.run(
            ["git", "push", *args],
            cwd=cwd or self.path,
            env={**self.repo.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
        )
        return Pushed(done.returncode, done.stdout + done.stderr)

    def remote_sha(self, ref: str) -> str | None:
        """What the bare remote has for ``ref`` (None: nothing)."""
        done = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", ref],
            cwd=self.remote,
            env=self.repo.env,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip() or None

    def install(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """``gatekeeper install`` with the current interpreter, as a user would run it."""
        return subprocess.run(
            [sys.executable, "-m", "gatekeeper", "install", *args],
            cwd=cwd or self.path,
            env=self.repo.env,
            capture_output=True,
            text=True,
        )

    def worktrees(self) -> list[str]:
        """The worktrees git knows about (``git worktree list``), one line each."""
        return self.git("worktree", "list").splitlines()

    def leftovers(self) -> list[Path]:
        """Snapshot directories still on disk under the state dir."""
        snaps = self.path.parent / "home" / ".local" / "state" / "gatekeeper" / "snapshots"
        return sorted(snaps.iterdir()) if snaps.is_dir() else []

    def assert_clean(self) -> None:
        """No temporary worktree registered or left on disk."""
        assert len(self.worktrees()) == 1, self.git("worktree", "list")
        assert self.leftovers() == []


def make_push_repo(tmp: Path, name: str = "repo") -> PushRepo:
    """A clean committed project with ``origin`` (bare, empty) and the hook installed."""
    remote = tmp / "remote.git"
    repo = make_repo(tmp / name, tmp / "home")
    subprocess.run(["git", "init", "--quiet", "--bare", str(remote)], env=repo.env, check=True)
    repo.write("pyproject.toml", PUSH_PYPROJECT)
    repo.write("sample/__init__.py", CLEAN_MODULE)
    repo.write("tests/test_sample.py", CLEAN_TEST)
    repo.commit("clean project")
    repo.git("remote", "add", "origin", str(remote))
    pushed = PushRepo(repo, remote)
    done = pushed.install()
    assert done.returncode == 0, done.stderr
    return pushed
