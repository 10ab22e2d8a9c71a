"""Notebooks are code: the ruff stages check every file ruff itself would, in full and in scope.

Real ruff on a real repository: a notebook with an unused import and unformatted code, a
``.pyw`` script the project adds with ``extend-include``, and a project whose ``include``
leaves notebooks out, where the gate must agree with ``ruff check .`` too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from gatekeeper.testing import GateRepo, make_repo

PYPROJECT = """\
[project]
name = "sample"
version = "0.1"

[tool.ruff]
extend-include = ["*.pyw"]
"""


def notebook(*sources: str) -> str:
    """A minimal nbformat-4 notebook with one code cell per source."""
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": source.splitlines(keepends=True),
        }
        for source in sources
    ]
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    return json.dumps({"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5})


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> GateRepo:
    tmp = tmp_path_factory.mktemp("notebooks")
    repo = make_repo(tmp / "repo", tmp / "home")
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("sample/__init__.py", '"""Clean."""\n')
    repo.write("tool.pyw", '"""Clean."""\n')
    repo.write("analysis.ipynb", notebook('"""Clean."""\n', "x = 1\n"))
    repo.commit("clean")
    repo.write("tool.pyw", "import os\n")
    repo.write("analysis.ipynb", notebook('"""Clean."""\n', "import sys\nx=1\n"))
    repo.commit("an unused import in a notebook and in a script ruff is told to include")
    return repo


def _findings(repo: GateRepo, *args: str) -> dict[str, list[dict[str, Any]]]:
    result = repo.gate(
        "run", "--stage", "ruff", "--stage", "ruff-format", "--format", "json", *args
    )
    assert result.returncode == 1, result.stdout + result.stderr
    return {s["name"]: s["findings"] for s in result.json["stages"]}


def _ruff_itself(repo: GateRepo) -> set[tuple[str, str]]:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--output-format", "json", "--no-cache", "."],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    return {(repo.path.joinpath(d["filename"]).relative_to(repo.path).as_posix(), d["code"])
            for d in json.loads(done.stdout)}  # fmt: skip


@pytest.mark.parametrize("scope", [(), ("--base", "HEAD~1")], ids=["full", "changed"])
def test_a_notebook_and_an_extend_include_file_are_checked(repo: GateRepo, scope) -> None:
    found = _findings(repo, *scope)
    lint = {(f["path"], f["rule"]) for f in found["ruff"]}
    assert {("analysis.ipynb", "F401"), ("tool.pyw", "F401")} <= lint
    assert lint == _ruff_itself(repo)
    (unused,) = [f for f in found["ruff"] if f["path"] == "analysis.ipynb" and f["rule"] == "F401"]
    assert unused["message"].startswith("cell 2: ")
    assert [f["path"] for f in found["ruff-format"]] == ["analysis.ipynb"]


def test_a_project_whose_include_leaves_notebooks_out_is_agreed_with(repo: GateRepo) -> None:
    text = (repo.path / "pyproject.toml").read_text()
    repo.write("pyproject.toml", text.replace("extend-include", "include"))
    try:
        found = _findings(repo)
        itself = _ruff_itself(repo)
    finally:
        repo.write("pyproject.toml", text)
    lint = {(f["path"], f["rule"]) for f in found["ruff"]}
    assert {path for path, _ in lint} == {"tool.pyw"}
    assert lint == itself
