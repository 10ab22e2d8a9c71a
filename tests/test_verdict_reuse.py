"""A verdict of a tree is reused across scopes, and a reused verdict is the one a run would give.

The loop and ``gatekeeper run`` check the whole tree; the push that follows checks what its
commits changed. A file-local stage answers the narrowed run from its whole-tree result only
through :attr:`Stage.narrow`, which must give exactly the findings a real narrowed run gives.
"""

from __future__ import annotations

from typing import Any

from gatekeeper.testing import GateRepo

SIMPLE = '''\
"""Simple functions."""


def one() -> int:
    """One."""
    return 1


def two() -> int:
    """Two."""
    return 2


def three() -> int:
    """Three."""
    return 3
'''

BRANCHY = '''\
"""One function with branches."""


def pick(a: int) -> int:
    """Pick a number."""
    if a == 1:
        return 10
    if a == 2:
        return 20
    if a == 3:
        return 30
    if a == 4:
        return 40
    if a == 5:
        return 50
    if a == 6:
        return 60
    return {n}
'''


def _findings(report: dict[str, Any], stage: str) -> list[tuple[str, str, int]]:
    (found,) = [s for s in report["stages"] if s["name"] == stage]
    return sorted((f["rule"], f["path"], f["line"]) for f in found["findings"])


def _stage(report: dict[str, Any], stage: str) -> dict[str, Any]:
    (found,) = [s for s in report["stages"] if s["name"] == stage]
    return found


def test_a_narrowed_run_reuses_the_whole_tree_result_with_the_same_findings(
    gate_repo: GateRepo,
) -> None:
    gate_repo.write("pyproject.toml", '[project]\nname = "sample"\nversion = "0.1.0"\n')
    gate_repo.write("sample/__init__.py", '"""Sample."""\n')
    gate_repo.write("sample/simple.py", SIMPLE)
    gate_repo.write("sample/branchy.py", BRANCHY.format(n=0))
    gate_repo.write("sample/lint.py", '"""Lint."""\n\nimport os\n')
    gate_repo.commit("base")
    gate_repo.write("sample/branchy.py", BRANCHY.format(n=1))
    gate_repo.write("sample/lint.py", '"""Lint."""\n\nimport os  \n')
    gate_repo.commit("change two files")
    stages = ["--stage", "radon", "--stage", "ruff", "--stage", "ruff-format"]

    # The whole tree: the average over every block is within its limit (A); lint findings in
    # lint.py, none elsewhere.
    whole = gate_repo.gate("run", *stages, "--format", "json").json
    assert _findings(whole, "radon") == []
    assert "F401" in [r for r, _p, _l in _findings(whole, "ruff")]

    # The change alone: branchy.py's blocks average above A. The narrowed run comes from the
    # stored whole-tree results (no tool ran) and says exactly what a real narrowed run says.
    narrowed = gate_repo.gate("run", *stages, "--base", "HEAD~1", "--format", "json").json
    real = gate_repo.gate("run", *stages, "--base", "HEAD~1", "--no-cache", "--format", "json")
    for stage in ("radon", "ruff", "ruff-format"):
        assert _stage(narrowed, stage)["cached"] is True, stage
        assert _stage(narrowed, stage)["status"] == _stage(real.json, stage)["status"], stage
        assert _findings(narrowed, stage) == _findings(real.json, stage), stage
    assert [r for r, _p, _l in _findings(narrowed, "radon")] == ["max-average"]
    assert narrowed["verdict"] == real.json["verdict"] == "failed"
