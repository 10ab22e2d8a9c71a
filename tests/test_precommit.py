"""The real pre-commit runs the `gatekeeper` hook id from .pre-commit-hooks.yaml on `git push`.

pre-commit installs gatekeeper into an isolated virtualenv of its own (this needs PyPI for
the build backend and gatekeeper's dependencies), so this also proves that the stages find
the project's interpreter (its `.venv`) from there. Slow: one test, two pushes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from push_support import TYPE_ERROR, make_push_repo

from gatekeeper.testing import isolated_env

SOURCE = Path(__file__).resolve().parent.parent
# What a pip install of gatekeeper needs from the checkout.
PACKAGE_FILES = ("gatekeeper", "plugins", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")


def _package_repo(where: Path, env: dict[str, str]) -> str:
    """This checkout's working copy as a git repository pre-commit can clone; returns HEAD."""
    where.mkdir()
    for name in PACKAGE_FILES:
        src = SOURCE / name
        if src.is_dir():
            shutil.copytree(src, where / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, where / name)

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=where, env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    git("init", "--quiet", "--initial-branch=main")
    git("add", "--all")
    git("commit", "--quiet", "-m", "gatekeeper under test")
    return git("rev-parse", "HEAD")


def test_pre_commit_hook_blocks_a_broken_push_and_passes_a_clean_one(tmp_path: Path) -> None:
    pr = make_push_repo(tmp_path)
    _hook = pr.path / ".git" / "hooks" / "pre-push"
    _hook.unlink()  # pre-commit owns the hook in this repository
    env = {**isolated_env(tmp_path / "home"), "PRE_COMMIT_HOME": str(tmp_path / "pc-home")}
    pr.repo.env.update(env)
    sha = _package_repo(tmp_path / "gatekeeper-src", env)
    # The project's own environment, found by gatekeeper from inside pre-commit's venv.
    os.symlink(sys.prefix, pr.path / ".venv")
    pr.write(".gitignore", ".venv\n.gatekeeper/\n")
    pr.write(
        ".pre-commit-config.yaml",
        f"""\
        default_install_hook_types: [pre-push]
        repos:
          - repo: {tmp_path / "gatekeeper-src"}
            rev: {sha}
            hooks:
              - id: gatekeeper
        """,
    )
    pr.commit("use pre-commit")
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=pr.path,
        env=pr.repo.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    pr.write("sample/bad.py", TYPE_ERROR)
    broken = pr.commit("broken")
    pr.write("sample/bad.py", '"""Fixed, but not committed."""\n')
    rejected = pr.push("origin", "main")
    assert rejected.returncode != 0, rejected.output
    assert f"FAILED: commit {broken[:12]} (refs/heads/main)" in rejected.output
    assert "sample/bad.py" in rejected.output
    assert pr.remote_sha("main") is None

    pr.commit("fixed")
    clean = pr.push("origin", "main")
    assert clean.returncode == 0, clean.output
    assert "PASSED: commit" in clean.output
    assert "mypy" in clean.output and "pytest" in clean.output

    # An existing branch: measured from what the remote has; a dirty tree does not matter.
    pr.write("sample/more.py", '"""More."""\n\nMORE: int = 1\n')
    more = pr.commit("more")
    pr.write("sample/more.py", TYPE_ERROR)
    again = pr.push("origin", "main")
    assert again.returncode == 0, again.output
    assert f"PASSED: commit {more[:12]} (refs/heads/main)" in again.output
    assert "(PRE_COMMIT_FROM_REF)" in again.output  # pre-commit stashed the dirt
    pr.assert_clean()
