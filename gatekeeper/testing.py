"""A pytest plugin with a real temporary git repository for testing gatekeeper and its plugins.

Loaded automatically (entry point ``pytest11``) wherever gatekeeper is installed, it only adds
fixtures, so it costs nothing unless used::

    def test_my_stage(gate_repo):
        gate_repo.scaffold()
        gate_repo.write("pkg/bad.py", "x: int = 'no'\\n")
        result = gate_repo.gate("run", "--stage", "mypy", "--format", "json")
        assert result.returncode == 1
        assert result.json["verdict"] == "failed"

Git runs isolated from the user's and the system's config, with a fixed identity.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Gate Tester",
    "GIT_AUTHOR_EMAIL": "gate@example.invalid",
    "GIT_COMMITTER_NAME": "Gate Tester",
    "GIT_COMMITTER_EMAIL": "gate@example.invalid",
    "GIT_TERMINAL_PROMPT": "0",
}

CLEAN_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "sample"
version = "0.1.0"

[tool.setuptools]
packages = ["sample"]

[tool.gatekeeper.stages.build]
isolation = false
"""

CLEAN_MODULE = '''\
"""A small, clean module."""


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b
'''

CLEAN_TEST = """\
from sample import add


def test_add() -> None:
    assert add(1, 2) == 3
"""


@dataclass(frozen=True)
class GateResult:
    """A finished ``gatekeeper`` process."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        """stdout parsed as JSON (for ``--format json``)."""
        return json.loads(self.stdout)


class GateRepo:
    """A real git repository in a temporary directory, plus helpers to run the gate in it."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env

    def write(self, rel: str, text: str) -> Path:
        """Write ``text`` (dedented) to ``rel``, creating directories."""
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
        return target

    def git(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, capture_output=True, text=True
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def commit(self, message: str = "change") -> str:
        """Stage everything and commit; returns the new commit's sha."""
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def scaffold(self, *, commit: bool = True) -> None:
        """A typical clean project: a package, a test, a buildable pyproject.toml."""
        self.write("pyproject.toml", CLEAN_PYPROJECT)
        self.write("sample/__init__.py", CLEAN_MODULE)
        self.write("tests/test_sample.py", CLEAN_TEST)
        if commit:
            self.commit("clean project")

    def gate(
        self,
        *args: str,
        input: str | None = None,
        timeout: float = 300,
        env: dict[str, str] | None = None,
    ) -> GateResult:
        """Run ``python -m gatekeeper args`` in the repository."""
        done = subprocess.run(
            [sys.executable, "-m", "gatekeeper", *args],
            cwd=self.path,
            env={**self.env, **(env or {})},
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return GateResult(done.returncode, done.stdout, done.stderr)


def isolated_env(home: Path) -> dict[str, str]:
    """The process environment for tests: git isolated, no colour, no inherited venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "GATEKEEPER_", "PRE_COMMIT", "XDG_")) and k != "VIRTUAL_ENV"
    }
    env.update(GIT_ENV)
    env["HOME"] = str(home)
    env["NO_COLOR"] = "1"
    return env


def make_repo(path: Path, home: Path) -> GateRepo:
    """Create an empty repository (branch ``main``) at ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    repo = GateRepo(path, isolated_env(home))
    repo.git("init", "--quiet", "--initial-branch=main")
    return repo


@pytest.fixture
def gate_repo(tmp_path: Path) -> GateRepo:
    """An empty git repository (branch ``main``) with git isolated from the user's config."""
    return make_repo(tmp_path / "repo", tmp_path / "home")
