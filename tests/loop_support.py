"""Shared helpers of the loop tests: a sample repository with planted defects, fixer commands.

Scripted fixers (``tests/fixers/``) stand in for coding agents; everything else is real:
git, ruff, mypy, pytest and the ``gatekeeper loop`` process itself.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from gatekeeper.testing import GateRepo, GateResult

FIXERS = Path(__file__).parent / "fixers"

PYPROJECT = """\
[project]
name = "sample"
version = "0.1.0"

[tool.gatekeeper]
autofix = {autofix}
"""

GOOD = {
    "ruff": "",
    "mypy": "return x * 2",
    "pytest": "return a + b",
}
BAD = {
    "ruff": "    spare = 2\n",
    "mypy": "return str(x * 2)",
    "pytest": "return a - b",
}

CALC = '''\
"""Arithmetic, with defects planted by the loop tests."""


def add(a: int, b: int) -> int:
    """Add two numbers."""
    {pytest}


def double(x: int) -> int:
    """Twice x."""
    {mypy}


def one() -> int:
    """Returns one."""
{ruff}    return 1
'''

TESTS = """\
from sample.calc import add, double, one


def test_add() -> None:
    assert add(1, 2) == 3


def test_double() -> None:
    assert double(2) == 4


def test_one() -> None:
    assert one() == 1
"""


def fixer(name: str, *args: str) -> str:
    """The ``--agent`` command line of a scripted fixer."""
    return shlex.join([sys.executable, str(FIXERS / f"{name}.py"), *args])


def sample_repo(
    repo: GateRepo,
    defects: tuple[str, ...],
    *,
    autofix: str = "[]",
    extra: dict[str, str] | None = None,
    config: str = "",
) -> None:
    """Commit the sample package with the ``defects`` (ruff, mypy, pytest) planted.

    ``config`` is appended to pyproject.toml (after the ``[tool.gatekeeper]`` table).
    """
    parts = {k: (BAD if k in defects else GOOD)[k] for k in GOOD}
    repo.write("pyproject.toml", PYPROJECT.format(autofix=autofix) + config)
    repo.write("sample/__init__.py", '"""Sample package."""\n')
    repo.path.joinpath("sample/calc.py").write_text(CALC.format(**parts), encoding="utf-8")
    repo.write("tests/test_calc.py", TESTS)
    for rel, text in (extra or {}).items():
        repo.write(rel, text)
    repo.commit("sample with planted defects")


def loop(repo: GateRepo, *args: str, env: dict[str, str] | None = None) -> GateResult:
    """``gatekeeper loop ARGS --format json`` in the repository."""
    result = repo.gate("loop", *args, "--format", "json", env=env)
    log_scenario(repo)
    return result


def log_scenario(repo: GateRepo) -> None:
    """With ``LOOP_SCENARIO_LOG`` set, append the newest loop's ending to that file.

    It is how the closing table of scenarios (attempts used, stop reason) comes from test runs.
    """
    target = os.environ.get("LOOP_SCENARIO_LOG")
    path = repo.path / ".gatekeeper" / "ledger.jsonl"
    if not target or not path.exists():
        return
    ends = [r for r in ledger(repo) if r["kind"] == "loop"]
    if ends:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0].split("::")[-1]
        fixers = [
            Path(shlex.split(f)[1]).stem + " " + " ".join(shlex.split(f)[2:])
            for f in ends[-1]["fixers"]
        ]
        entry = {
            "test": test,
            "fixers": fixers,
            **{k: ends[-1][k] for k in ("attempts", "stop_reason")},
        }
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")


def ledger(repo: GateRepo) -> list[dict[str, Any]]:
    """Every line of the ledger, parsed strictly: a torn or corrupt line fails the test."""
    path = repo.path / ".gatekeeper" / "ledger.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def trace(path: Path) -> list[dict[str, Any]]:
    """The scripted fixers' trace lines."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
