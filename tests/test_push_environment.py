"""The project's interpreter is found from pre-commit's isolated env, worktrees and snapshots."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from gatekeeper.environment import project_python
from gatekeeper.testing import GateRepo


def _venv(where: Path) -> Path:
    """A minimal virtualenv layout (pyvenv.cfg + bin/python) borrowing this interpreter."""
    (where / "bin").mkdir(parents=True)
    shutil.copy(Path(sys.prefix) / "pyvenv.cfg", where / "pyvenv.cfg")
    os.symlink(Path(sys.executable).resolve(), where / "bin" / "python")
    return where / "bin" / "python"


def test_the_venv_pre_commit_shadowed_is_found_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = _venv(tmp_path / "users-venv")
    # What pre-commit does: its env (here: ours) first on PATH and in VIRTUAL_ENV.
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    path = os.pathsep.join([str(Path(sys.prefix) / "bin"), str(users.parent), "/usr/bin"])
    monkeypatch.setenv("PATH", path)
    _venv(tmp_path / "repo" / ".venv")
    assert project_python(tmp_path / "repo") == users


def test_an_activated_venv_wins_and_own_env_is_the_last_resort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = _venv(tmp_path / "users-venv")
    monkeypatch.setenv("VIRTUAL_ENV", str(users.parent.parent))
    assert project_python(tmp_path) == users
    monkeypatch.delenv("VIRTUAL_ENV")
    assert project_python(tmp_path) == Path(sys.executable)


def test_a_linked_worktree_uses_the_main_worktrees_venv_and_config(
    gate_repo: GateRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    gate_repo.write("a.py", "A = 1\n")
    gate_repo.commit("first")
    python = _venv(gate_repo.path / ".venv")
    linked = gate_repo.path.parent / "linked"
    gate_repo.git("worktree", "add", "-q", "--detach", str(linked))
    for name, value in gate_repo.env.items():
        if name.startswith("GIT_"):
            monkeypatch.setenv(name, value)  # the in-process git call, isolated too
    assert project_python(linked) == python
    assert project_python(linked, ".venv/bin/python") == gate_repo.path / ".venv/bin/python"
