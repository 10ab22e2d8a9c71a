"""The project's own tools, the project's own way: each kind on a small real repository.

One repository per kind, shared by its tests (module scope), each gate run checking several
things at once.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.stage import tripped_on
from gatekeeper.testing import GateRepo, GateResult, make_repo


def stage_of(result: GateResult, name: str) -> dict[str, Any]:
    (found,) = [s for s in result.json["stages"] if s["name"] == name]
    return dict(found)


def places(stage: dict[str, Any]) -> list[tuple[str, int, str]]:
    return sorted((f["path"], f["line"], f["rule"]) for f in stage["findings"])


def _repo(tmp_path_factory: pytest.TempPathFactory, name: str) -> GateRepo:
    base = tmp_path_factory.mktemp(name)
    return make_repo(base / "repo", base / "home")


# -- kind 1: mypy checks what the project's [tool.mypy] selects -----------------------------

MYPY_FILES = """\
[tool.mypy]
files = ["src", "tests/typing"]

[tool.ruff]
include = ["src/**/*.py", "tests/**/*.py"]
"""


@pytest.fixture(scope="module")
def mypy_files(tmp_path_factory: pytest.TempPathFactory) -> GateRepo:
    repo = _repo(tmp_path_factory, "mypy-files")
    repo.write("pyproject.toml", MYPY_FILES)
    repo.write("src/pkg/__init__.py", "def one() -> int:\n    return 1\n")
    repo.write("tests/typing/check_one.py", "from pkg import one\n\nx: int = one()\n")
    repo.write("tests/test_one.py", "def test_one():\n    assert 1\n")
    # Outside ruff's `include`: plain `ruff check` never lints it, so neither may the gate.
    repo.write("scripts/helper.py", "import os\n")
    repo.commit("clean")
    return repo


def test_ruff_lints_and_formats_only_what_its_include_selects(mypy_files):
    mypy_files.write("scripts/helper.py", "import os\nx  =  1\n")
    result = mypy_files.gate(
        "run", "--stage", "ruff", "--stage", "ruff-format", "--format", "json", "--no-cache"
    )
    mypy_files.git("checkout", "--", ".")
    assert result.returncode == 0, result.stdout
    assert stage_of(result, "ruff")["files_checked"] == 3
    assert stage_of(result, "ruff-format")["files_checked"] == 3


def test_mypy_checks_the_configured_files_and_counts_what_it_checked(mypy_files):
    mypy_files.write("tests/typing/check_one.py", "from pkg import one\n\nx: str = one()\n")
    result = mypy_files.gate("run", "--stage", "mypy", "--format", "json", "--no-cache")
    mypy_files.git("checkout", "--", ".")
    stage = stage_of(result, "mypy")
    assert result.returncode == 1, result.stdout
    assert places(stage) == [("tests/typing/check_one.py", 3, "assignment")]
    # src/pkg/__init__.py and tests/typing/check_one.py; tests/test_one.py is outside `files`
    assert stage["files_checked"] == 2


def test_a_change_outside_mypys_files_does_not_run_it_one_inside_does(mypy_files):
    base = mypy_files.git("rev-parse", "HEAD").strip()
    mypy_files.write("tests/test_one.py", "def test_one():\n    assert 2\n")
    outside = mypy_files.gate("run", "--stage", "mypy", "--base", base, "--format", "json")
    mypy_files.write("tests/typing/check_one.py", "from pkg import one\n\nx: str = one()\n")
    inside = mypy_files.gate("run", "--stage", "mypy", "--base", base, "--format", "json")
    mypy_files.git("checkout", "--", ".")
    assert stage_of(outside, "mypy")["status"] == "skipped"
    assert stage_of(outside, "mypy")["reason"] == "no relevant files changed"
    assert inside.returncode == 1
    assert places(stage_of(inside, "mypy")) == [("tests/typing/check_one.py", 3, "assignment")]


# -- kind 2: the type checker the project configures ----------------------------------------

CHECKERS_PYPROJECT = """\
[tool.pyright]
include = ["app"]

[tool.ty.src]
include = ["app"]
"""

APP = """\
import os


def count(items):
    return len(items)


total: int = "three"
"""


@pytest.fixture(scope="module")
def checkers_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[GateRepo, GateResult]:
    repo = _repo(tmp_path_factory, "checkers")
    repo.write("pyproject.toml", CHECKERS_PYPROJECT)
    repo.write("app/__init__.py", APP)
    # Outside both tools' `include`: never checked by either.
    repo.write("scripts/tool.py", 'oops: int = "no"\n')
    repo.commit("pyright and ty")
    result = repo.gate("run", "--skip", "pytest", "--skip", "build", "--format", "json")
    return repo, result


def test_a_project_configured_for_pyright_and_ty_gets_them_and_not_mypy(checkers_run):
    _repo, result = checkers_run
    names = [s["name"] for s in result.json["stages"]]
    assert "mypy" not in names
    assert {"pyright", "ty"} <= set(names)
    assert result.returncode == 1


def test_pyright_reports_what_pyright_reports_in_its_standard_mode(checkers_run):
    _repo, result = checkers_run
    stage = stage_of(result, "pyright")
    # basedpyright's stricter default mode would add warnings (unused import, missing
    # parameter types) and fail on them; pyright's standard mode reports the one error.
    assert places(stage) == [("app/__init__.py", 8, "reportAssignmentType")]
    assert stage["files_checked"] == 1
    assert stage["findings"][0]["fingerprint"]


def test_ty_reports_its_diagnostics_within_its_include(checkers_run):
    _repo, result = checkers_run
    stage = stage_of(result, "ty")
    assert places(stage) == [("app/__init__.py", 8, "invalid-assignment")]
    assert stage["files_checked"] == 1


def test_stages_and_doctor_say_which_checker_and_why(checkers_run):
    repo, _result = checkers_run
    listed = json.loads(repo.gate("stages", "--format", "json").stdout)
    rows = {r["name"]: r for r in listed["stages"]}
    assert listed["project"]["type_checkers"] == ["pyright", "ty"]
    assert rows["mypy"]["enabled"] == "off"
    assert "configures pyright" in rows["mypy"]["why"]
    assert (
        rows["pyright"]["why"] == "the project configures pyright (pyproject.toml [tool.pyright])"
    )
    doctor = repo.gate("doctor").stdout
    assert re.search(r"type checker +pyright, ty\n", doctor), doctor


def test_a_project_without_a_checker_gets_mypy_with_its_defaults(tmp_path: Path):
    repo = make_repo(tmp_path / "repo", tmp_path / "home")
    repo.write("calc.py", "def add(a, b):\n    return a + b\n")
    repo.commit("no config")
    listed = json.loads(repo.gate("stages", "--format", "json").stdout)
    rows = {r["name"]: r for r in listed["stages"]}
    assert rows["mypy"]["enabled"] == "on"
    assert rows["mypy"]["why"] == "no type checker configured: mypy with its defaults"
    assert (rows["pyright"]["enabled"], rows["ty"]["enabled"]) == ("off", "off")


# -- kinds 3, 4, 5: radon beside unrelated settings, tests not measured, no build declared ---

FLAT_PYPROJECT = """\
[project]
name = "calc"
version = "0"

[tool.other]
date-format = "%Y-%m-%d"
"""

BRANCHY = "def branchy(x):\n" + "".join(
    f"    if x == {i}:\n        return {i}\n" for i in range(25)
)


@pytest.fixture(scope="module")
def flat_run(tmp_path_factory: pytest.TempPathFactory) -> GateResult:
    repo = _repo(tmp_path_factory, "flat")
    repo.write("pyproject.toml", FLAT_PYPROJECT)
    repo.write("calc.py", BRANCHY + "    return -1\n")
    repo.write(
        "test_calc.py", "from calc import branchy\n\n\n" + BRANCHY.replace("branchy", "test_x")
    )
    repo.commit("flat, not a package")
    return repo.gate("run", "--stage", "radon", "--stage", "build", "--format", "json")


def test_radon_is_not_broken_by_another_tools_percent_sign(flat_run):
    stage = stage_of(flat_run, "radon")
    assert stage["status"] == "failed", stage
    assert ("calc.py", 1, "max-block") in places(stage)


def test_radon_measures_the_code_not_the_tests_by_default(flat_run):
    stage = stage_of(flat_run, "radon")
    assert all(f["path"] != "test_calc.py" for f in stage["findings"])
    assert stage["files_checked"] == 1
    module = [f for f in stage["findings"] if f["rule"] == "max-module"]
    assert module and "split the function" not in module[0]["hint"]


def test_a_project_that_declares_no_build_is_not_built(flat_run):
    stage = stage_of(flat_run, "build")
    assert stage["status"] == "skipped"
    assert "declares no build" in stage["reason"]


def test_a_crashing_tool_says_what_it_tripped_on():
    output = (
        "Traceback (most recent call last):\n"
        '  File "radon/cli/__init__.py", line 88, in file_config\n'
        "configparser.InterpolationSyntaxError: '%' must be followed by '%' or '(', "
        "found: '%Y-%m-%d'\n"
    )
    assert tripped_on(output).startswith("configparser.InterpolationSyntaxError: '%' must")
    assert tripped_on("plain failure\n") == ""


# -- kind 8: the smaller things a new user hit ----------------------------------------------


def test_small_things_a_new_user_hits(mypy_files, tmp_path):
    # An unknown option of a verb prints the verb's usage, not the top-level one.
    bad = mypy_files.gate("run", "--bogus")
    assert bad.returncode == 2
    assert bad.stderr.startswith("usage: gatekeeper run ")
    assert "unrecognized arguments: --bogus" in bad.stderr
    # --format's help names every built-in format.
    helptext = mypy_files.gate("run", "--help").stdout
    assert all(name in helptext for name in ("sarif", "junit", "github"))
    # Not a terminal: one line per finished stage while the run goes on (stderr).
    run = mypy_files.gate("run", "--stage", "ruff", "--no-cache")
    assert any(line.startswith("  ✓ ruff") for line in run.stderr.splitlines()), run.stderr
    # A kind the ledger holds none of is not "the ledger is empty".
    history = mypy_files.gate("history", "--kind", "hook").stdout
    assert "ledger is empty" not in history
    assert history.startswith("no hook records in the ledger (it holds ")


def test_git_refusing_a_repository_it_does_not_trust_is_not_not_a_repository(tmp_path):
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("needs root to give the repository to another user")
    repo = make_repo(tmp_path / "theirs", tmp_path / "home")
    subprocess.run(["chown", "-R", "65534:65534", str(repo.path)], check=True)
    result = repo.gate("doctor")
    assert "dubious ownership" in result.stdout
    assert "safe.directory" in result.stdout
    assert "git init" not in result.stdout


# -- kind 6: one repository, several projects -----------------------------------------------


@pytest.fixture(scope="module")
def monorepo(tmp_path_factory: pytest.TempPathFactory) -> GateRepo:
    repo = _repo(tmp_path_factory, "monorepo")
    repo.write(
        "backend/pyproject.toml",
        '[tool.pytest.ini_options]\npythonpath = ["."]\n\n'
        "[tool.gatekeeper.stages.radon]\nenabled = false\n",
    )
    repo.write("backend/app/__init__.py", "def f() -> int:\n    return 1\n")
    repo.write(
        "backend/tests/test_app.py", "from app import f\n\n\ndef test_f():\n    assert f()\n"
    )
    repo.write("libs/util/pyproject.toml", '[project]\nname = "util"\nversion = "0"\n')
    repo.write("libs/util/util/__init__.py", 'X: int = "a"\n')
    repo.commit("two projects")
    return repo


def _gate_in(repo: GateRepo, where: Path, *args: str) -> GateResult:
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", *args],
        cwd=where,
        env=repo.env,
        capture_output=True,
        text=True,
    )
    return GateResult(done.returncode, done.stdout, done.stderr)


def test_from_a_subdirectory_the_nearest_project_is_gated_with_its_config(monorepo):
    inside = monorepo.path / "backend" / "app"
    result = _gate_in(monorepo, inside, "run", "--stage", "pytest", "--format", "json")
    # pytest ran with backend's own `pythonpath`: no collection error
    assert result.returncode == 0, result.stdout + result.stderr
    assert stage_of(result, "pytest")["extra"]["tests"]["passed"] == 1
    listed = json.loads(_gate_in(monorepo, inside, "stages", "--format", "json").stdout)
    assert listed["project"]["root"] == str(monorepo.path / "backend")
    rows = {r["name"]: r for r in listed["stages"]}
    assert (rows["radon"]["enabled"], rows["radon"]["why"]) == (
        "off",
        "enabled = false in the config",
    )


def test_from_the_top_each_project_is_gated_and_a_change_scoped_to_its_projects(monorepo):
    result = monorepo.gate("run", "--stage", "mypy", "--format", "json", "--no-cache")
    names = [s["name"] for s in result.json["stages"]]
    assert names == ["backend:mypy", "libs/util:mypy"]
    assert places(stage_of(result, "libs/util:mypy")) == [
        ("libs/util/util/__init__.py", 1, "assignment")
    ]
    base = monorepo.git("rev-parse", "HEAD").strip()
    monorepo.write("backend/app/__init__.py", "def f() -> int:\n    return 2\n")
    scoped = monorepo.gate("run", "--stage", "mypy", "--base", base, "--format", "json")
    monorepo.git("checkout", "--", ".")
    status = {s["name"]: s["status"] for s in scoped.json["stages"]}
    # the tamper guard judges each project's change too, with the project's own paths
    assert status == {
        "backend:mypy": "passed",
        "backend:tamper": "passed",
        "libs/util:mypy": "skipped",
        "libs/util:tamper": "passed",
    }
    assert "2 gated one by one: backend, libs/util" in monorepo.gate("doctor").stdout


def test_python_code_outside_every_project_is_still_checked_from_the_top(monorepo):
    from gatekeeper.projects import projects

    assert projects(monorepo.path) == ["backend", "libs/util"]
    monorepo.write("tools/release.py", "print('release')\n")
    try:
        assert projects(monorepo.path) == ["", "backend", "libs/util"]
    finally:
        (monorepo.path / "tools" / "release.py").unlink()


def test_the_new_checkers_suppressions_count_as_type_ignores_for_the_tamper_guard():
    from gatekeeper_plugins import _tamper_source as source

    text = (
        "a = 1  # pyright: ignore[reportAny]\nb = 2  # ty: ignore\nc = 3  # basedpyright: ignore\n"
    )
    assert [m.rule for m in source.new_marks("", text)] == ["tamper-type-ignore"] * 3
