"""Each built-in stage against its real tool, in a real temporary git repository.

Every defect kind gives the right exit code and a finding with the right stage, path and line
in ``--format json``. Each test runs only the stages it needs (``--stage``).
"""

from __future__ import annotations

from typing import Any

import pytest

from gatekeeper.testing import GateRepo, GateResult

TYPE_ERROR = '''\
"""Types."""


def count() -> int:
    """Count."""
    return "three"
'''

LINT_ERROR = '''\
"""Lint."""

import os


def f() -> None:
    """Nothing."""
'''

FORMAT_DRIFT = '''\
"""Format."""


def f() -> int:
    """One."""
    return  1
'''

COMPLEX = '''\
"""A function with 12 branches: complexity 13 (rank C)."""


def branchy(x: int) -> int:
    """Many branches."""
'''
COMPLEX += "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12))
COMPLEX += "    return -1\n"

SIX = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(6))
# Three functions of complexity 7 (rank B): fine one by one, a B module average.
MEDIUM = '"""Medium."""\n' + "".join(
    f"\n\ndef m{n}(x: int) -> int:\n    {chr(34) * 3}M.{chr(34) * 3}\n{SIX}    return -1\n"
    for n in range(3)
)

FAILING_TEST = """\
from sample import add


def test_add() -> None:
    assert add(1, 2) == 3


def test_wrong() -> None:
    total = add(2, 2)
    assert total == 5, "two and two"
"""


def findings(result: GateResult, stage: str) -> dict[str, Any]:
    stages: list[dict[str, Any]] = result.json["stages"]
    (found,) = [s for s in stages if s["name"] == stage]
    return found


def where(stage: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    return [(f["stage"], f["rule"], f["path"], f["line"]) for f in stage["findings"]]


@pytest.fixture
def repo(gate_repo: GateRepo) -> GateRepo:
    gate_repo.scaffold()
    return gate_repo


def test_lint_error_is_a_ruff_finding_with_a_safe_fix(repo):
    repo.write("sample/lint.py", LINT_ERROR)
    result = repo.gate("run", "--stage", "ruff", "--format", "json")
    assert result.returncode == 1, result.stderr
    stage = findings(result, "ruff")
    assert where(stage) == [("ruff", "F401", "sample/lint.py", 3)]
    assert stage["findings"][0]["fixable"] is True
    assert (repo.path / "sample/lint.py").read_text() == LINT_ERROR  # never fixed by a check


def test_format_drift_is_a_ruff_format_finding(repo):
    repo.write("sample/fmt.py", FORMAT_DRIFT)
    result = repo.gate("run", "--stage", "ruff-format", "--format", "json")
    assert result.returncode == 1, result.stderr
    stage = findings(result, "ruff-format")
    assert where(stage) == [("ruff-format", "format", "sample/fmt.py", 6)]
    assert (repo.path / "sample/fmt.py").read_text() == FORMAT_DRIFT


def test_too_complex_function_with_the_default_limits_as_rank_letters(repo):
    repo.write("sample/complex.py", COMPLEX)
    result = repo.gate("run", "--stage", "radon", "--format", "json")
    assert result.returncode == 1, result.stderr
    stage = findings(result, "radon")
    # max_block C (20) lets 13 through; the module average 13 is over B (10); the project
    # average (1 + 13) / 2 = 7 is over A (5).
    assert where(stage) == [
        ("radon", "max-average", "", 0),
        ("radon", "max-module", "sample/complex.py", 1),
    ]
    pyproject = (repo.path / "pyproject.toml").read_text()
    repo.write("pyproject.toml", pyproject + '\n[tool.gatekeeper.stages.radon]\nmax_block = "B"\n')
    stage = findings(repo.gate("run", "--stage", "radon", "--format", "json"), "radon")
    assert ("radon", "max-block", "sample/complex.py", 4) in where(stage)
    assert "complexity 13 (rank C), above the limit 10 (B)" in stage["findings"][2]["message"]


def test_radon_limits_as_numbers_and_a_module_average(repo):
    repo.write(
        "pyproject.toml",
        (repo.path / "pyproject.toml").read_text()
        + "\n[tool.gatekeeper.stages.radon]\nmax_block = 12\nmax_module = 6\nmax_average = 20\n",
    )
    repo.write("sample/complex.py", COMPLEX)
    repo.write("sample/medium.py", MEDIUM)
    result = repo.gate("run", "--stage", "radon", "--format", "json")
    assert result.returncode == 1, result.stderr
    stage = findings(result, "radon")
    assert where(stage) == [
        ("radon", "max-module", "sample/complex.py", 1),
        ("radon", "max-block", "sample/complex.py", 4),
        ("radon", "max-module", "sample/medium.py", 1),
    ]
    assert "complexity 13 (rank C), above the limit 12" in stage["findings"][1]["message"]


def test_failing_test_is_reported_at_the_assertion_with_its_message(repo):
    repo.write("tests/test_sample.py", FAILING_TEST)
    result = repo.gate("run", "--stage", "pytest", "--format", "json")
    assert result.returncode == 1, result.stderr
    stage = findings(result, "pytest")
    assert where(stage) == [("pytest", "test-failed", "tests/test_sample.py", 10)]
    message = stage["findings"][0]["message"]
    assert message.startswith("tests/test_sample.py::test_wrong: ")
    assert "two and two" in message
    assert "assert 4 == 5" in message


def test_tests_run_by_pytest_xdist_count_as_run(repo):
    repo.write("tests/test_sample.py", FAILING_TEST)
    pyproject = (repo.path / "pyproject.toml").read_text()
    repo.write(
        "pyproject.toml", pyproject + '\n[tool.gatekeeper.stages.pytest]\nargs = ["-n", "2"]\n'
    )
    result = repo.gate("run", "--stage", "pytest", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert where(findings(result, "pytest")) == [
        ("pytest", "test-failed", "tests/test_sample.py", 10)
    ]


def test_error_during_collection_is_a_finding_at_the_import(repo):
    repo.write(
        "tests/test_broken.py", "import sample\nimport not_a_module\n\n\ndef test_x():\n    pass\n"
    )
    result = repo.gate("run", "--stage", "pytest", "--format", "json")
    assert result.returncode == 1, result.stderr
    stage = findings(result, "pytest")
    assert where(stage) == [("pytest", "collection-error", "tests/test_broken.py", 2)]
    assert "No module named 'not_a_module'" in stage["findings"][0]["message"]


def test_no_tests_at_all_is_an_error(repo):
    repo.git("rm", "-q", "tests/test_sample.py")
    repo.commit("no tests")
    result = repo.gate("run", "--stage", "pytest", "--format", "json")
    assert result.returncode == 2
    assert result.json["verdict"] == "error"
    stage = findings(result, "pytest")
    assert stage["status"] == "error"
    assert "collected no tests" in stage["reason"]


def test_only_skipped_tests_is_an_error(repo):
    repo.write(
        "tests/test_sample.py",
        "import pytest\n\n\n@pytest.mark.skip(reason='later')\ndef test_x():\n    pass\n",
    )
    result = repo.gate("run", "--stage", "pytest", "--format", "json")
    assert result.returncode == 2
    assert "no tests ran (1 collected, 1 skipped)" in findings(result, "pytest")["reason"]


def test_syntax_error_is_reported_by_ruff_and_mypy_and_never_passes(repo):
    repo.write("sample/broken.py", "def f(:\n    pass\n")
    result = repo.gate(
        "run", "--stage", "ruff", "--stage", "mypy", "--stage", "ruff-format", "--format", "json"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    for name in ("ruff", "mypy", "ruff-format"):
        stage = findings(result, name)
        assert stage["status"] == "failed", stage
        assert ("sample/broken.py", 1) in [(f["path"], f["line"]) for f in stage["findings"]]
    assert {f["rule"] for f in findings(result, "mypy")["findings"]} == {"syntax"}
    assert {f["rule"] for f in findings(result, "ruff")["findings"]} == {"invalid-syntax"}


COMMANDS = """
[tool.gatekeeper.commands.check-docs]
run = "python -c 'import sys; print(\\"line\\\\n\\" * 40 + \\"docs are broken\\"); sys.exit(3)'"

[tool.gatekeeper.commands.ok-cmd]
run = ["python", "-c", "print('fine')"]
"""


def test_command_stage_exit_code_decides_and_the_output_tail_is_kept(repo):
    repo.write("pyproject.toml", (repo.path / "pyproject.toml").read_text() + COMMANDS)
    result = repo.gate("run", "--stage", "check-docs", "--stage", "ok-cmd", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert findings(result, "ok-cmd")["status"] == "passed"
    stage = findings(result, "check-docs")
    assert where(stage) == [("check-docs", "exit-3", "", 0)]
    message = stage["findings"][0]["message"]
    assert "exited with code 3" in message
    assert message.endswith("docs are broken")
    assert message.count("line") < 30  # only the tail is kept
    listed = repo.gate("stages")
    assert "check-docs" in listed.stdout
    assert "gatekeeper_plugins.command" in listed.stdout
