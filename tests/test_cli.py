"""The command line: verbs, options, entry points, and the errors a person can make."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper import __version__
from gatekeeper.testing import GateRepo, isolated_env

BUILTIN = ("ruff", "ruff-format", "mypy", "radon", "pytest", "build")


@pytest.fixture
def repo(gate_repo: GateRepo) -> GateRepo:
    gate_repo.scaffold()
    return gate_repo


def test_version_from_the_console_script_and_python_m(tmp_path):
    script = Path(sys.executable).parent / "gatekeeper"
    for argv in ([str(script), "--version"], [sys.executable, "-m", "gatekeeper", "--version"]):
        done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, check=False)
        assert (done.returncode, done.stdout) == (0, f"gatekeeper {__version__}\n")


def test_not_a_git_repository_is_exit_2_with_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=isolated_env(tmp_path / "home"),
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    first, *rest = done.stderr.splitlines()
    assert first == f"gatekeeper: error: {tmp_path} is not inside a git repository"
    assert rest == ["  hint: run the gate in a git checkout, or `git init` first"]


def test_stages_lists_every_builtin_with_its_plugin(repo):
    result = repo.gate("stages", "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)["stages"]}
    for name in BUILTIN:
        assert rows[name]["plugin"] == f"gatekeeper_plugins.{name.replace('-', '_')}"
        assert rows[name]["description"]
    # The tamper guard is off for a person's run but always on for the runs it guards.
    on_for = "loop,pre-push,agent,ci"
    assert (rows["tamper"]["enabled"], rows["tamper"]["on_for"]) == ("off", on_for)
    text = repo.gate("stages").stdout
    assert "always on for: loop,pre-push,agent,ci" in text


def test_unknown_stage_and_format_are_exit_2_with_a_did_you_mean(repo):
    stage = repo.gate("run", "--stage", "mpy")
    assert stage.returncode == 2
    assert stage.stderr.splitlines() == [
        "gatekeeper: error: unknown stage 'mpy'",
        "  hint: did you mean 'mypy'?",
    ]
    fmt = repo.gate("run", "--format", "jsn")
    assert fmt.returncode == 2
    assert "unknown report format 'jsn'" in fmt.stderr
    assert "did you mean 'json'?" in fmt.stderr


def test_skip_is_loud_and_the_stage_does_not_run(repo):
    repo.write("sample/lint.py", '"""Lint."""\n\nimport os\n')
    result = repo.gate("run", "--stage", "ruff", "--stage", "radon", "--skip", "ruff")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "- ruff                    skipped: skipped on request" in result.stdout
    from_env = repo.gate(
        "run", "--stage", "ruff", "--stage", "radon", "--format", "json",
        env={"GATEKEEPER_SKIP": "ruff"},
    )  # fmt: skip
    statuses = {s["name"]: s["status"] for s in from_env.json["stages"]}
    assert statuses == {"ruff": "skipped", "radon": "passed"}


def test_paths_limit_the_run_and_may_hold_spaces_and_non_ascii_names(repo):
    repo.write("sample/ünïcode.py", '"""Ü."""\n\n\ndef f() -> int:\n    return "x"\n')
    repo.write("tools dir/my tool.py", '"""Tool."""\n\nimport os\n')
    repo.write("other/lint.py", '"""Other."""\n\nimport sys\n')
    repo.commit("odd names")
    everything = repo.gate("run", "--stage", "ruff", "--stage", "mypy", "--format", "json")
    assert everything.returncode == 1, everything.stderr
    found = {
        (f["stage"], f["path"], f["line"]) for s in everything.json["stages"] for f in s["findings"]
    }
    assert found == {
        ("mypy", "sample/ünïcode.py", 5),
        ("ruff", "sample/ünïcode.py", 1),  # N999: ruff would rather have ASCII module names
        ("ruff", "tools dir/my tool.py", 3),
        ("ruff", "other/lint.py", 3),
    }
    limited = repo.gate("run", "tools dir", "--stage", "ruff", "--format", "json")
    (stage,) = limited.json["stages"]
    assert [f["path"] for f in stage["findings"]] == ["tools dir/my tool.py"]
    text = repo.gate("run", "--stage", "mypy")
    assert "sample/ünïcode.py" in text.stdout
    agent = repo.gate("run", "--stage", "ruff", "--format", "agent")
    assert "## `tools dir/my tool.py`" in agent.stdout


def test_paths_are_relative_to_the_current_directory_and_must_exist(repo):
    repo.write("sample/lint.py", '"""Lint."""\n\nimport os\n')
    repo.write("other/lint.py", '"""Other."""\n\nimport sys\n')
    argv = [sys.executable, "-m", "gatekeeper", "run", "--stage", "ruff", "--format", "json"]
    inside = subprocess.run(
        [*argv, "lint.py"], cwd=repo.path / "sample", env=repo.env, capture_output=True, text=True
    )
    assert inside.returncode == 1, inside.stderr
    (stage,) = json.loads(inside.stdout)["stages"]
    assert [f["path"] for f in stage["findings"]] == ["sample/lint.py"]
    typo = repo.gate("run", "sample/lnt.py", "--stage", "ruff")
    assert typo.returncode == 2
    assert typo.stderr.splitlines()[0] == "gatekeeper: error: path 'sample/lnt.py' does not exist"
    outside = repo.gate("run", "..", "--stage", "ruff")
    assert outside.returncode == 2
    assert "is outside the repository" in outside.stderr
