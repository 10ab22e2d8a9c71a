"""Nothing outside the named tree decides the verdict (issue 10, T2), with the real tools.

Each test sets up what a cheating agent or an everyday setup leaves around the tree — a module
named like a tool, stale bytecode, user-level tool config, start-up code in the ignored
``.venv``, a test that rewrites files — and checks that the verdict is still the tree's.
"""

from __future__ import annotations

import os
import py_compile
import sys
from pathlib import Path

from named_tree_support import project_venv

from gatekeeper.testing import GateRepo

PYPROJECT = '[project]\nname = "pkg"\nversion = "0.1"\n'
BUGGY = "def add(a: int, b: int) -> int:\n    return a - b\n"
CORRECT = "def add(a: int, b: int) -> int:\n    return a + b\n"
TEST = "from pkg import add\n\n\ndef test_add() -> None:\n    assert add(1, 2) == 3\n"
# What a module standing in for a tool does: say "all is well" in the tool's own words.
IMPOSTOR = """\
import json
import os
import sys

report = os.environ.get("GATEKEEPER_PYTEST_REPORT")
if report:
    with open(report, "w") as fh:
        data = {"collected": 1, "outcomes": {"passed": 1}, "failures": [], "collect_errors": []}
        json.dump(data, fh)
if "ruff" in sys.argv[0]:
    print("[]")
if "radon" in sys.argv[0]:
    print("{}")
"""


def _stages(result_json: dict[str, object]) -> dict[str, str]:
    stages = result_json["stages"]
    assert isinstance(stages, list)
    return {s["name"]: s["status"] for s in stages}


IMPOSTORS = ("pytest", "mypy", "ruff", "radon", "gatekeeper_pytest_report")


def test_a_module_named_like_a_tool_or_the_reporter_does_not_stand_in_for_it(
    gate_repo: GateRepo,
) -> None:
    excluded = ", ".join(f'"{name}.py"' for name in IMPOSTORS)
    gate_repo.write(
        "pyproject.toml",
        f"{PYPROJECT}\n[tool.gatekeeper]\nexclude = [{excluded}]\n"
        "\n[tool.gatekeeper.stages.radon]\nmax_block = 1\n"
        # The reporter is not imported before pytest asks for it: no "already imported" warning.
        '\n[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n',
    )
    gate_repo.write(
        "pkg/__init__.py",
        "import os\n\n\ndef add(a: int, b: int) -> int:\n"
        "    if a:\n        return a - b\n    return 'x'\n",
    )
    gate_repo.write("tests/test_add.py", TEST)
    for name in IMPOSTORS:
        gate_repo.write(f"{name}.py", IMPOSTOR)
    gate_repo.commit("a defect for every stage, and impostors in the root")
    stages = ("pytest", "mypy", "ruff", "radon")
    only = [arg for name in stages for arg in ("--stage", name)]
    result = gate_repo.gate("run", "--no-cache", "--format", "json", *only)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _stages(result.json) == dict.fromkeys(stages, "failed"), result.stdout


def test_stale_bytecode_beside_the_source_does_not_stand_in_for_it(gate_repo: GateRepo) -> None:
    gate_repo.write("pyproject.toml", PYPROJECT)
    source = gate_repo.write("pkg/__init__.py", CORRECT)
    gate_repo.write("tests/test_add.py", TEST)
    # Bytecode of the correct version, then the bug with the same size and timestamp: Python
    # itself would take the bytecode (it checks only size and mtime).
    # Beside the source by name: a PYTHONPYCACHEPREFIX in this process (a gate running this
    # suite sets one) would send it elsewhere.
    beside = source.parent / "__pycache__" / f"__init__.{sys.implementation.cache_tag}.pyc"
    py_compile.compile(str(source), cfile=str(beside), doraise=True)
    stamp = source.stat().st_mtime_ns
    source.write_text(BUGGY)
    os.utime(source, ns=(stamp, stamp))
    gate_repo.write(".gitignore", "__pycache__/\n")
    gate_repo.commit("the bug, with stale bytecode of the fix beside it")
    result = gate_repo.gate("run", "--no-cache", "--stage", "pytest")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "assert -1 == 3" in result.stdout
    assert list((gate_repo.path / "pkg" / "__pycache__").iterdir())  # left as it was


def test_user_level_tool_config_does_not_decide(gate_repo: GateRepo) -> None:
    home = Path(gate_repo.env["HOME"])
    (home / ".config" / "ruff").mkdir(parents=True)
    (home / ".config" / "ruff" / "ruff.toml").write_text('[lint]\nignore = ["F401"]\n')
    (home / ".config" / "mypy").mkdir(parents=True)
    (home / ".config" / "mypy" / "config").write_text("[mypy]\nignore_errors = True\n")
    gate_repo.write("pyproject.toml", PYPROJECT)
    gate_repo.write("pkg/__init__.py", "import os\n\nX: int = 'not an int'\n")
    gate_repo.commit("an unused import and a type error")
    result = gate_repo.gate(
        "run", "--no-cache", "--format", "json", "--stage", "ruff", "--stage", "mypy"
    )
    assert _stages(result.json) == {"ruff": "failed", "mypy": "failed"}, result.stdout


def test_start_up_code_in_the_venv_that_steers_the_tools_is_refused_and_reported(
    gate_repo: GateRepo,
) -> None:
    gate_repo.write("pyproject.toml", PYPROJECT)
    gate_repo.write("pkg/__init__.py", BUGGY)
    gate_repo.write("tests/test_add.py", TEST)
    gate_repo.write("tests/test_other.py", "def test_other() -> None:\n    assert 1 + 1 == 2\n")
    gate_repo.write(".gitignore", ".venv/\n")
    gate_repo.commit("the bug")
    python = project_venv(gate_repo.path, gate_repo.env)
    first = gate_repo.gate("run", "--no-cache", "--stage", "pytest", "--format", "json")
    assert first.json["verdict"] == "failed", first.stdout
    site = next((gate_repo.path / ".venv").glob("lib/python3*/site-packages"))
    (site / "zz-quiet.pth").write_text(
        'import os; os.environ["PYTEST_ADDOPTS"] = "-k \'not test_add\'"\n'
    )
    text = gate_repo.gate("run", "--no-cache", "--stage", "pytest")
    assert text.returncode == 2, text.stdout + text.stderr
    assert "changed since the last run" in text.stdout
    assert f"+ {site / 'zz-quiet.pth'}" in text.stdout and "$ PYTEST_ADDOPTS" in text.stdout
    result = gate_repo.gate("run", "--no-cache", "--stage", "pytest", "--format", "json")
    assert result.returncode == 2, result.stdout + result.stderr
    (stage,) = result.json["stages"]
    assert stage["status"] == "error"
    assert f"{python} sets PYTEST_ADDOPTS when it starts" in stage["reason"]
    environment = result.json["environment"]
    assert environment["set_at_startup"] == {"PYTEST_ADDOPTS": "-k 'not test_add'"}
    assert str(site / "zz-quiet.pth") in environment["startup_files"]


def test_a_test_that_rewrites_the_tree_makes_the_run_an_error(gate_repo: GateRepo) -> None:
    gate_repo.write("pyproject.toml", PYPROJECT)
    gate_repo.write("pkg/__init__.py", CORRECT)
    gate_repo.write(
        "tests/test_add.py",
        "from pathlib import Path\n\nfrom pkg import add\n\n\ndef test_add() -> None:\n"
        "    assert add(1, 2) == 3\n"
        "    Path(__file__).with_name('test_more.py').write_text('X = 1\\n')\n",
    )
    gate_repo.commit("a test that writes into the repository")
    result = gate_repo.gate("run", "--no-cache", "--stage", "pytest", "--format", "json")
    assert result.returncode == 2, result.stdout + result.stderr
    statuses = _stages(result.json)
    assert statuses == {"pytest": "passed", "tree-changed": "error"}
    reasons = {s["name"]: s["reason"] for s in result.json["stages"]}
    assert "tests/test_more.py" in reasons["tree-changed"]
