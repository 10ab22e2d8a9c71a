"""The push gate checks the pushed commit, all of it, and nothing else (issue 10, T1 and T2).

Real git, a real bare remote, a real ``pip install -e .`` into the repository's ``.venv`` and a
real submodule.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from named_tree_support import pip_install_editable, project_venv
from push_support import PushRepo, make_push_repo

SRC_PYPROJECT = """\
[project]
name = "calc"
version = "0.1"

[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[tool.gatekeeper]
exclude = ["extra/*"]

[tool.gatekeeper.stages.build]
enabled = false
[tool.gatekeeper.stages.radon]
enabled = false
[tool.gatekeeper.stages.ruff-format]
enabled = false
[tool.gatekeeper.stages.mypy]
enabled = false
"""
GATE_PYTEST = ("-m", "gatekeeper", "run", "--stage", "pytest", "--no-cache")
GOOD = "def add(a: int, b: int) -> int:\n    return a + b\n"
BAD = "def add(a: int, b: int) -> int:\n    return a - b\n"
TEST = "from calc import add\n\n\ndef test_add() -> None:\n    assert add(1, 2) == 3\n"


@pytest.fixture(scope="module")
def editable(tmp_path_factory: pytest.TempPathFactory) -> PushRepo:
    """A src/ layout installed with ``pip install -e .`` into its ``.venv``, pushed once."""
    pr = make_push_repo(tmp_path_factory.mktemp("editable"))
    pr.git("rm", "-q", "-r", "sample", "tests", "pyproject.toml")
    pr.write("pyproject.toml", SRC_PYPROJECT)
    pr.write("src/calc/__init__.py", GOOD)
    pr.write("tests/test_add.py", TEST)
    pr.write(".gitignore", ".venv/\n*.egg-info/\n")
    python = project_venv(pr.path, pr.repo.env)
    pip_install_editable(python, pr.path, pr.repo.env)
    pr.commit("calc, installed editable")
    first = pr.push("origin", "main")
    assert first.returncode == 0, first.output
    return pr


def test_the_pushed_commit_is_tested_not_the_main_worktree_through_the_editable_install(
    editable: PushRepo,
) -> None:
    pr = editable
    pr.git("checkout", "-q", "-b", "t1-bug", "main")
    pr.write("src/calc/__init__.py", BAD)
    pr.commit("bug")
    pr.write("src/calc/__init__.py", GOOD)  # fixed on disk, not committed
    rejected = pr.push("origin", "t1-bug")
    assert rejected.returncode != 0, rejected.output
    assert "tests/test_add.py" in rejected.output
    assert "assert -1 == 3" in rejected.output
    assert pr.remote_sha("refs/heads/t1-bug") is None
    pr.git("checkout", "-q", "--", ".")
    pr.git("checkout", "-q", "main")


def test_a_linked_worktree_runs_its_own_code_not_the_installed_checkout(
    editable: PushRepo,
) -> None:
    pr = editable
    linked = pr.path.parent / "linked"
    pr.git("worktree", "add", "-q", "-b", "t1-linked", str(linked), "main")
    (linked / "src" / "calc" / "__init__.py").write_text(BAD)
    done = subprocess.run(
        [str(pr.path / ".venv" / "bin" / "python"), *GATE_PYTEST],
        cwd=linked,
        env=pr.repo.env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "assert -1 == 3" in done.stdout
    pr.git("worktree", "remove", "--force", str(linked))


def test_an_editable_install_the_gate_cannot_place_stops_the_stage_naming_it(
    editable: PushRepo,
) -> None:
    pr = editable
    # A second distribution of the repository, in a directory the gate does not discover.
    pr.write(
        "extra/pyproject.toml",
        '[project]\nname = "extra-tools"\nversion = "0.1"\n\n'
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n',
    )
    pr.write("extra/extra_tools/__init__.py", "VALUE = 1\n")
    pr.write(
        "tests/test_extra.py",
        "import extra_tools\n\n\ndef test_v() -> None:\n    assert extra_tools.VALUE == 1\n",
    )
    pip_install_editable(pr.path / ".venv" / "bin" / "python", pr.path / "extra", pr.repo.env)
    pr.git("checkout", "-q", "-b", "t1-extra", "main")
    pr.commit("extra tools")
    blocked = pr.push("origin", "t1-extra")
    assert blocked.returncode != 0, blocked.output
    assert "ERROR (the gate could not run)" in blocked.output
    assert "`import extra_tools` resolves to" in blocked.output
    assert "editable install extra-tools (pip install -e" in blocked.output
    pr.git("checkout", "-q", "main")


def _submodule_repo(tmp: Path) -> PushRepo:
    pr = make_push_repo(tmp)
    lib = tmp / "libsrc"
    lib.mkdir()
    env = pr.repo.env
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "t@example.invalid"],
        ["config", "user.name", "t"],
    ):
        subprocess.run(["git", *args], cwd=lib, env=env, check=True)
    (lib / "helper").mkdir()
    (lib / "helper" / "__init__.py").write_text('"""Helper."""\n\nTWO: int = 2\n')
    subprocess.run(["git", "add", "-A"], cwd=lib, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", "helper"], cwd=lib, env=env, check=True)
    pr.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor")
    pr.write(
        "tests/test_vendor.py",
        "import importlib\nimport sys\nfrom pathlib import Path\n\n"
        "sys.path.insert(0, str(Path(__file__).parent.parent / 'vendor'))\n\n\n"
        "def test_two() -> None:\n    assert importlib.import_module('helper').TWO == 2\n",
    )
    pr.commit("vendor a submodule")
    return pr


def test_submodules_are_in_the_snapshot_or_the_push_stops_naming_them(tmp_path: Path) -> None:
    pr = _submodule_repo(tmp_path)
    pr.write("sample/extra.py", '"""Changed."""\n\nX: int = 1\n')
    pr.commit("change")
    pr.write("sample/extra.py", '"""Dirty."""\n')  # only a snapshot is the commit
    accepted = pr.push("origin", "main")
    assert accepted.returncode == 0, accepted.output
    pr.assert_clean()

    missing = "1" * 40
    pr.git("update-index", "--cacheinfo", f"160000,{missing},vendor")
    pr.git("commit", "-q", "-m", "pin a commit nobody has")
    blocked = pr.push("origin", "main")
    assert blocked.returncode != 0, blocked.output
    assert f"submodule vendor is pinned at {missing[:12]}" in blocked.output
    pr.assert_clean()
