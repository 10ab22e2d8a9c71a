"""A missing tool is an error, never a skip; only the project's config turns a stage off.

Real gate runs on real repositories: a project whose virtualenv lacks pytest, a stage whose
tool is in neither the project's nor the gate's environment, stages turned off by config,
and the fix loop and the Stop hook on a run that left a stage out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from loop_support import fixer

import gatekeeper
from gatekeeper import Stage
from gatekeeper.gate import GateRequest, plan
from gatekeeper.plugins import load_plugins
from gatekeeper.testing import CLEAN_MODULE, CLEAN_TEST, GateRepo, GateResult, make_repo

PYPROJECT = """\
[project]
name = "sample"
version = "0.1.0"

[tool.gatekeeper.stages.build]
enabled = false

[tool.gatekeeper.stages.radon]
enabled = false
"""


def _stage(result: GateResult, name: str) -> dict[str, Any]:
    (found,) = [s for s in result.json["stages"] if s["name"] == name]
    return dict(found)


def _project(tmp: Path, name: str, config: str = PYPROJECT) -> GateRepo:
    repo = make_repo(tmp / name, tmp / f"{name}-home")
    repo.write(".gitignore", ".venv/\n")
    repo.write("pyproject.toml", config)
    repo.write("sample/__init__.py", CLEAN_MODULE)
    repo.write("tests/test_sample.py", CLEAN_TEST)
    repo.commit("clean")
    return repo


def test_a_tool_missing_from_the_project_is_an_error_with_the_install_command(
    tmp_path: Path,
) -> None:
    repo = _project(tmp_path, "bare")
    repo.write("sample/bad.py", 'def broken() -> int:\n    return "not an int"\n')
    repo.write("tests/test_bad.py", "def test_fails() -> None:\n    assert 1 == 2\n")
    repo.commit("a type error and a failing test")
    # The project's environment: a virtualenv with nothing in it, not even pip.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=repo.path)
    python = repo.path / ".venv" / "bin" / "python"
    result = repo.gate("run", "--format", "json")
    assert result.returncode == 2, result.stdout + result.stderr
    pytest_stage = _stage(result, "pytest")
    assert pytest_stage["status"] == "error"
    assert f"pytest is not installed in {python}" in pytest_stage["reason"]
    assert f"`{python} -m pip install pytest`" in pytest_stage["reason"]
    # mypy may run from the gate's own environment, pointed at the project: not missing.
    assert _stage(result, "mypy")["status"] == "failed"
    assert result.json["verdict"] == "error"
    assert sorted(result.json["off_by_config"]) == ["build", "radon"]
    text = repo.gate("run")
    assert "2 stages off by config" in text.stdout
    agent = repo.gate("run", "--format", "agent")
    assert "(2 stages off by config)" in agent.stdout.splitlines()[0]
    # Nothing is skipped for a missing tool; only the change judge, which has no base here.
    skipped = [line for line in text.stdout.splitlines() if "skipped:" in line]
    assert all("no base to judge the change" in line for line in skipped), skipped


class _AbsentToolPlugin:
    """A third-party stage whose tool is installed nowhere."""

    @staticmethod
    @gatekeeper.hookimpl
    def gatekeeper_register_stages(register: Any) -> None:
        register(Stage(name="absent", run=lambda ctx: [], tool="gatekeeper_absent_tool_xyz"))


def test_a_tool_missing_from_both_environments_is_an_error_unless_turned_off(
    tmp_path: Path,
) -> None:
    repo = _project(tmp_path, "absent")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=repo.path)
    plugins = load_plugins(entry_points=False)
    plugins.pm.register(_AbsentToolPlugin())
    planned = plan(GateRequest(root=repo.path, state=tmp_path / "state"), plugins)
    absent = planned.decided["absent"]
    assert absent.status == "error"
    assert "gatekeeper_absent_tool_xyz is not installed in" in (absent.reason or "")
    assert f"nor in gatekeeper's {sys.executable}" in (absent.reason or "")
    assert "enabled = false" in (absent.reason or "")
    repo.write("pyproject.toml", PYPROJECT + "\n[tool.gatekeeper.stages.absent]\nenabled = false\n")
    plugins = load_plugins(entry_points=False)
    plugins.pm.register(_AbsentToolPlugin())
    off = plan(GateRequest(root=repo.path, state=tmp_path / "state"), plugins)
    assert "absent" not in off.decided and "absent" in off.off


ONLY_RUFF_AND_PYTEST = (
    PYPROJECT
    + "\n".join(
        f"\n[tool.gatekeeper.stages.{name}]\nenabled = false"
        for name in ("mypy", "ruff-format", "tamper")
    )
    + "\n"
)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> GateRepo:
    return _project(tmp_path_factory.mktemp("left-out"), "clean", ONLY_RUFF_AND_PYTEST)


def test_the_loop_never_ends_clean_with_a_stage_left_out(clean: GateRepo) -> None:
    done = clean.gate(
        "loop", "--agent", fixer("noop"), "--format", "json", env={"GATEKEEPER_SKIP": "pytest"}
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.json["stop_reason"] == "error"
    assert "pytest left out by GATEKEEPER_SKIP" in done.stderr


def test_the_stop_hook_never_calls_a_run_with_a_stage_left_out_clean(clean: GateRepo) -> None:
    payload = {
        "session_id": "left-out",
        "transcript_path": "/nonexistent/transcript.jsonl",
        "cwd": str(clean.path),
        "hook_event_name": "Stop",
        "stop_hook_active": False,
    }
    done = clean.gate(
        "hook",
        "claude-stop",
        input=json.dumps(payload),
        env={"GATEKEEPER_SKIP": "pytest"},
    )
    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)["systemMessage"]
    assert message.startswith("gatekeeper: NOT CLEAN")
    assert "pytest" in message
