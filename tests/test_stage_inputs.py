"""Every input that can change a stage's verdict is in its cache key and in its scope.

Real ``git push`` to a real bare remote through the installed hook, and real runs of the gate:
a push that changes only what configures a tool (a config file, a file another one
``extend``s), only a file the tests read, or that only deletes a module must be checked as
such; a cached result must not survive a change to any of those inputs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from push_support import PUSH_PYPROJECT, PushRepo, make_push_repo

from gatekeeper.testing import GateRepo, GateResult, make_repo

RUFF_EXTENDS = '\n[tool.ruff]\nextend = "configs/ruff-base.toml"\n'
NAMES = "def f(x: int) -> int:\n    l = x\n    return l\n"
HELPER = "def helper() -> int:\n    return 1\n"
USER = "from sample.helper import helper\n\n\ndef use() -> int:\n    return helper()\n"
DATA_TEST = """\
from pathlib import Path

from sample import add


def test_expected_sum() -> None:
    expected = Path(__file__).with_name("expected.txt").read_text()
    assert add(1, 2) == int(expected)
"""


@pytest.fixture(scope="module")
def pr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PushRepo]:
    repo = make_push_repo(tmp_path_factory.mktemp("inputs"))
    repo.write("pyproject.toml", PUSH_PYPROJECT + RUFF_EXTENDS)
    repo.write("configs/ruff-base.toml", '[lint]\nselect = ["F"]\n')
    repo.write("sample/names.py", NAMES)
    repo.write("sample/helper.py", HELPER)
    repo.write("sample/user.py", USER)
    repo.write("tests/expected.txt", "3\n")
    repo.write("tests/test_data.py", DATA_TEST)
    repo.commit("a project whose ruff config extends another file")
    assert repo.push("--no-verify", "origin", "main").returncode == 0
    yield repo


def _rejected(pr: PushRepo, message: str) -> str:
    """Commit, push through the hook, expect the push to be blocked; undo the commit."""
    pr.commit(message)
    try:
        pushed = pr.push("origin", "main")
    finally:
        pr.git("reset", "--quiet", "--hard", "HEAD~1")
    assert pushed.returncode != 0, pushed.output
    assert "FAILED" in pushed.output, pushed.output
    return pushed.output


def test_a_push_that_changes_a_stage_s_config_checks_all_its_files(pr: PushRepo) -> None:
    """The issue's input: enabling a rule in pyproject.toml, with no Python file changed."""
    text = (pr.path / "pyproject.toml").read_text()
    pr.write("pyproject.toml", text + '\n[tool.ruff.lint]\nextend-select = ["E741"]\n')
    output = _rejected(pr, "enable E741")
    assert "sample/names.py" in output and "E741" in output


def test_a_push_that_changes_only_an_extended_config_file_checks_all_files(pr: PushRepo) -> None:
    pr.write("configs/ruff-base.toml", '[lint]\nselect = ["F", "E741"]\n')
    output = _rejected(pr, "the shared ruff config enables E741")
    assert "sample/names.py" in output and "E741" in output


def test_a_push_that_changes_only_a_file_the_tests_read_runs_the_tests(pr: PushRepo) -> None:
    pr.write("tests/expected.txt", "4\n")
    output = _rejected(pr, "new expectation")
    assert "test_expected_sum" in output


def test_a_push_that_only_deletes_an_imported_module_runs_the_type_checker(pr: PushRepo) -> None:
    pr.git("rm", "--quiet", "sample/helper.py")
    output = _rejected(pr, "remove a module that is still imported")
    assert "sample/user.py" in output and "import-not-found" in output


def _stage(result: GateResult, name: str) -> str:
    (found,) = [s for s in result.json["stages"] if s["name"] == name]
    return str(found["status"])


def _statuses(repo: GateRepo, *stages: str, env: dict[str, str] | None = None) -> list[str]:
    args = [a for s in stages for a in ("--stage", s)]
    result = repo.gate("run", *args, "--format", "json", env=env)
    return [_stage(result, s) for s in stages]


COMPLEX = """\
def branches(a: int) -> int:
    if a == 1:
        return 1
    if a == 2:
        return 2
    if a == 3:
        return 3
    return 0
"""


def test_a_cached_result_never_outlives_a_change_to_what_configures_the_tool(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """ruff's extended config, a config file named in args, radon's own config files."""
    tmp = tmp_path_factory.mktemp("cache-inputs")
    repo = make_repo(tmp / "repo", tmp / "home")
    repo.write(
        "pyproject.toml",
        '[project]\nname = "sample"\nversion = "0.1"\n'
        + RUFF_EXTENDS
        + '\n[tool.gatekeeper.stages.mypy]\nargs = ["--config-file", "ci/types.ini"]\n'
        + '\n[tool.gatekeeper.stages.radon]\nmax_block = 2\nmax_module = "F"\nmax_average = "F"\n',
    )
    repo.write("configs/ruff-base.toml", '[lint]\nselect = ["F"]\n')
    repo.write("ci/types.ini", "[mypy]\n")
    repo.write("radon.cfg", "[radon]\ncc_min = C\n")  # radon lists nothing below rank C
    repo.write("sample/__init__.py", "def untyped(x):\n    l = x\n    return l\n")
    repo.write("sample/complex.py", COMPLEX)
    repo.commit("configured")
    stages = ("ruff", "mypy", "radon")
    assert _statuses(repo, *stages) == ["passed", "passed", "passed"]
    repo.write("configs/ruff-base.toml", '[lint]\nselect = ["F", "E741"]\n')
    repo.write("ci/types.ini", "[mypy]\ndisallow_untyped_defs = true\n")
    repo.write("radon.cfg", "[radon]\n")
    assert _statuses(repo, *stages) == ["failed", "failed", "failed"]
    # An environment variable that points radon at a config file, and that file's content.
    (repo.path / "radon.cfg").unlink()
    repo.write("elsewhere.cfg", "[radon]\ncc_min = C\n")
    pointed = {"RADONCFG": str(repo.path / "elsewhere.cfg")}
    assert _statuses(repo, "radon", env=pointed) == ["passed"]
    assert _statuses(repo, "radon") == ["failed"]
    repo.write("elsewhere.cfg", "[radon]\n")
    assert _statuses(repo, "radon", env=pointed) == ["failed"]


def test_each_stage_names_the_config_files_its_tool_follows(tmp_path: Path) -> None:
    """The discovery behind the keys and scopes above, for every stage that follows files."""
    from gatekeeper_plugins import _ruff_config
    from gatekeeper_plugins import mypy as mypy_stage
    from gatekeeper_plugins import pyright as pyright_stage

    from gatekeeper.gate import _files_named_in

    files = {
        "pyproject.toml": '[tool.ruff]\nextend = "configs/base.toml"\n'
        '[tool.pyright]\nextends = "configs/pyright-base.json"\n'
        '[tool.mypy]\nfiles = ["src"]\nmypy_path = "$MYPY_CONFIG_FILE_DIR/stubs"\n'
        'plugins = ["tools/check.py", "pkg.mypy_plugin"]\n',
        "configs/base.toml": 'extend = "shared.toml"\nextend-include = ["scripts/**/*.pyw"]\n',
        "configs/shared.toml": 'include = ["src/**/*.py"]\n',
        "configs/pyright-base.json": '{\n  // comments are allowed\n  "extends": "strict.json"\n}',
        "configs/strict.json": '{"typeCheckingMode": "strict"}',
        "sub/ruff.toml": 'extend = "../configs/sub.toml"\n',
        "configs/sub.toml": "",
        "src/pkg/py.typed": "",
        "stubs/vendor/__init__.pyi": "",
        "typings/lib/__init__.pyi": "",
        "tools/check.py": "",
        "src/pkg/mypy_plugin.py": "",
        "ci/types.ini": "[mypy]\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    listed = sorted(files)
    lint = _ruff_config.lint_inputs(tmp_path, listed)
    assert lint.config == ("configs/base.toml", "configs/shared.toml", "configs/sub.toml")
    assert lint.patterns == ("*.py", "*.pyw")  # `include` replaced the defaults
    assert _ruff_config.format_inputs(tmp_path, listed).patterns == ("*.py", "*.pyw")
    assert pyright_stage.inputs(tmp_path, listed).config == (
        "configs/pyright-base.json",
        "configs/strict.json",
        "typings/lib/__init__.pyi",
    )
    # Outside mypy's own `files`, yet each changes its verdict: stubs, plugins, markers.
    assert mypy_stage.inputs(tmp_path, listed).config == (
        "src/pkg/mypy_plugin.py",
        "src/pkg/py.typed",
        "stubs/vendor/__init__.pyi",
        "tools/check.py",
    )
    args = ["--config-file", "ci/types.ini", "--strict", "-c=ci/types.ini", "missing.ini"]
    assert _files_named_in(tmp_path, args) == ["ci/types.ini", "ci/types.ini"]
    # A config that does not parse adds nothing (ruff reports it); a loop ends.
    (tmp_path / "configs/shared.toml").write_text('extend = "base.toml"\n')
    assert _ruff_config.lint_inputs(tmp_path, listed).config == (
        "configs/base.toml",
        "configs/shared.toml",
        "configs/sub.toml",
    )
    (tmp_path / "pyproject.toml").write_text("[tool.ruff\n")
    assert _ruff_config.lint_inputs(tmp_path, listed).patterns == _ruff_config.DEFAULT_INCLUDE


def test_a_change_to_stubs_outside_mypy_s_own_files_runs_mypy(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """``files = ["src"]`` selects what mypy checks, not what it reads: its stubs decide too."""
    tmp = tmp_path_factory.mktemp("stubs")
    repo = make_repo(tmp / "repo", tmp / "home")
    repo.write(
        "pyproject.toml",
        '[project]\nname = "app"\nversion = "0.1"\n\n'
        '[tool.mypy]\nfiles = ["src"]\nmypy_path = "stubs"\n',
    )
    repo.write("stubs/vendor/__init__.pyi", "def answer() -> int: ...\n")
    repo.write("src/app/__init__.py", "from vendor import answer\n\nX: int = answer()\n")
    repo.commit("typed against a local stub")
    repo.write("stubs/vendor/__init__.pyi", "def answer() -> str: ...\n")
    repo.commit("the stub changes")
    result = repo.gate("run", "--stage", "mypy", "--base", "HEAD~1", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert _stage(result, "mypy") == "failed"
