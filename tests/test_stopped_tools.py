"""A stage whose tool stopped early is never green, and no baseline can hold what stopped it.

Real pytest, mypy, ruff and radon on real temporary git repositories. Each tool is stopped the
way users meet it: a test module that no longer imports (pytest's collection is interrupted,
zero tests run), ``-x`` after a baselined failure, a mypy blocking error, a mypy plugin that
crashes after ordinary errors were printed, a file ruff and radon cannot parse.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.testing import GateRepo, GateResult, make_repo

PYPROJECT = '[project]\nname = "pkg"\nversion = "0.1"\n'
ADD = "def add(a: int, b: int) -> int:\n    return a + b\n"
TEST_ADD = "from pkg import add\n\n\ndef test_add() -> None:\n    assert add(1, 2) == 3\n"
LEGACY_TEST = (
    "import module_that_no_longer_exists\n\n\n"
    "def test_old() -> None:\n    assert module_that_no_longer_exists.x == 1\n"
)
BROKEN = "def broken(:\n    return 1\n"
STAGES = ("ruff", "radon", "mypy", "pytest")


def _stage(result: GateResult, name: str) -> dict[str, Any]:
    (found,) = [s for s in result.json["stages"] if s["name"] == name]
    return dict(found)


def _project(tmp: Path, name: str) -> GateRepo:
    repo = make_repo(tmp / name, tmp / f"{name}-home")
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("pkg/__init__.py", ADD)
    repo.write("tests/test_add.py", TEST_ADD)
    return repo


def _only(*stages: str) -> list[str]:
    return [a for s in stages for a in ("--stage", s)]


def _hand_written_baseline(repo: GateRepo, findings: list[dict[str, Any]]) -> None:
    """A baseline file that holds ``findings``, as an older gatekeeper (or a person) wrote it."""
    entries = [
        {k: f[k] for k in ("stage", "rule", "path", "fingerprint", "message")} | {"count": 1}
        for f in findings
    ]
    text = json.dumps({"version": 1, "findings": entries}, indent=2)
    repo.write(".gatekeeper-baseline.json", text)


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> GateRepo:
    """One repository where every tool is stopped: a dead test import and a syntax error."""
    repo = _project(tmp_path_factory.mktemp("stopped"), "repo")
    repo.write("tests/test_legacy.py", LEGACY_TEST)
    repo.write("pkg/broken.py", BROKEN)
    repo.commit("legacy")
    return repo


def test_baseline_refuses_whatever_stopped_a_tool_and_names_it(stopped: GateRepo) -> None:
    made = stopped.gate("baseline", *_only(*STAGES))
    assert made.returncode == 2, made.stdout + made.stderr
    assert "stopped a tool and can never be baselined" in made.stderr
    for named in (
        "pytest collection-error tests/test_legacy.py:1",
        "mypy syntax pkg/broken.py:1",
        "radon parse-error pkg/broken.py",
        "ruff invalid-syntax pkg/broken.py:1",
    ):
        assert named in made.stderr
    assert "nothing was written" in made.stderr
    assert not (stopped.path / ".gatekeeper-baseline.json").exists()


def test_a_baseline_that_holds_a_stop_does_not_hide_it(stopped: GateRepo) -> None:
    first = stopped.gate("run", *_only(*STAGES), "--format", "json", "--no-baseline")
    findings = [f for s in first.json["stages"] for f in s["findings"]]
    stops = {(f["stage"], f["rule"]) for f in findings if f["stops_tool"]}
    assert stops >= {
        ("pytest", "collection-error"),
        ("mypy", "syntax"),
        ("radon", "parse-error"),
        ("ruff", "invalid-syntax"),
    }
    _hand_written_baseline(stopped, findings)
    try:
        held = stopped.gate("run", *_only(*STAGES), "--format", "json")
    finally:
        (stopped.path / ".gatekeeper-baseline.json").unlink()
    assert held.returncode == 1, held.stdout + held.stderr
    for name in STAGES:
        stage = _stage(held, name)
        assert stage["status"] == "failed", stage
        assert not any(f["baselined"] for f in stage["findings"] if f["stops_tool"])


def test_a_session_cut_short_after_a_baselined_failure_is_never_green(tmp_path: Path) -> None:
    repo = _project(tmp_path, "cut")
    repo.write("tests/test_add.py", TEST_ADD + "\n\ndef test_legacy() -> None:\n    assert 0\n")
    repo.write("tests/test_zlater.py", TEST_ADD.replace("test_add", "test_later"))
    repo.commit("one legacy failure")
    made = repo.gate("baseline", "--stage", "pytest")
    assert made.returncode == 0, made.stderr
    repo.commit("baseline")
    repo.write("pkg/__init__.py", ADD.replace("a + b", "a * b"))  # breaks the later tests
    repo.commit("regression")
    for addopts in ("-x", "--maxfail=1"):
        result = repo.gate(
            "run", "--stage", "pytest", "--format", "json", env={"PYTEST_ADDOPTS": addopts}
        )
        assert result.returncode == 1, (addopts, result.stdout, result.stderr)
        stage = _stage(result, "pytest")
        (stop,) = [f for f in stage["findings"] if f["stops_tool"]]
        assert stop["rule"] == "stopped-early"
        assert "2 of 3 collected tests did not run" in stop["message"]
        assert not stop["baselined"]


CRASHING_PLUGIN = """\
from mypy.plugin import Plugin


def boom(ctx):
    raise RuntimeError("a bug in the project's mypy plugin")


class Crash(Plugin):
    def get_function_hook(self, fullname):
        return boom if fullname.endswith(".trigger") else None


def plugin(version):
    return Crash
"""


def test_mypy_s_own_config_note_is_shown_not_an_error_and_a_crash_still_is(
    tmp_path: Path,
) -> None:
    """Issue 18: ``warn_unused_configs`` (and ``strict``) with a section for unchecked paths."""
    repo = _project(tmp_path, "notes")
    repo.write(
        "setup.cfg",
        "[mypy]\nstrict = true\nwarn_unused_configs = true\n\n"
        "[mypy-tests.*]\ndisallow_untyped_defs = false\n",
    )
    repo.commit("strict mypy with a section for the tests")
    result = repo.gate("run", "--stage", "mypy", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    stage = _stage(result, "mypy")
    assert stage["status"] == "passed"
    assert [(f["path"], f["rule"], f["severity"], f["message"]) for f in stage["findings"]] == [
        ("setup.cfg", "config", "note", "unused section(s): [mypy-tests.*]")
    ]
    text = repo.gate("run", "--stage", "mypy")
    assert "unused section(s): [mypy-tests.*]" in text.stdout
    # The same project with a plugin that crashes: still an error of the stage.
    repo.write(
        "setup.cfg",
        repo.path.joinpath("setup.cfg")
        .read_text()
        .replace("[mypy]\n", "[mypy]\nplugins = crashplugin.py\n"),
    )
    repo.write("crashplugin.py", CRASHING_PLUGIN)
    repo.write(
        "pkg/a.py", 'x: int = "printed before the crash"\n\n\ndef trigger() -> int:\n    return 1\n'
    )
    repo.write("pkg/z.py", "from pkg.a import trigger\n\ny: int = trigger()\n")
    crashed = repo.gate("run", "--stage", "mypy", "--format", "json")
    assert crashed.returncode == 2, crashed.stdout + crashed.stderr
    assert "mypy crashed (INTERNAL ERROR)" in _stage(crashed, "mypy")["reason"]
