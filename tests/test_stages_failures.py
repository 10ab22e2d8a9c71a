"""The gate never fails open: missing tools, hung tools, garbage output and tool errors.

Everything here runs the real gate and real processes in a real temporary git repository.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.testing import GateRepo, GateResult


def stage_of(result: GateResult, name: str) -> dict[str, Any]:
    stages: list[dict[str, Any]] = result.json["stages"]
    (found,) = [s for s in stages if s["name"] == name]
    return found


def fresh_venv(where: Path) -> Path:
    """A real virtualenv with nothing installed (not even pip)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    return where / "bin" / "python"


@pytest.fixture
def repo(gate_repo: GateRepo) -> GateRepo:
    gate_repo.scaffold()
    return gate_repo


def test_missing_tool_in_the_configured_python_is_an_error(repo, tmp_path):
    python = fresh_venv(tmp_path / "bare venv")
    repo.write(
        "pyproject.toml",
        (repo.path / "pyproject.toml")
        .read_text()
        .replace(
            "[tool.gatekeeper.stages.build]",
            f'[tool.gatekeeper]\npython = "{python}"\n\n'
            "[tool.gatekeeper.stages.pytest]\nenabled = true\n\n[tool.gatekeeper.stages.build]",
        ),
    )
    result = repo.gate("run", "--stage", "pytest", "--format", "json")
    assert result.returncode == 2, result.stdout + result.stderr
    stage = stage_of(result, "pytest")
    assert stage["status"] == "error"
    assert f"pytest is not installed in {python}" in stage["reason"]
    assert f"`{python} -m pip install pytest`" in stage["reason"]
    assert result.json["verdict"] == "error"


def test_missing_tool_in_zero_config_is_an_error_with_the_reason_and_the_pip_command(gate_repo):
    gate_repo.write(".gitignore", ".venv/\n")
    gate_repo.write("pyproject.toml", '[project]\nname = "sample"\nversion = "0.1.0"\n')
    gate_repo.write("sample/__init__.py", '"""Sample."""\n')
    gate_repo.write("tests/test_sample.py", "def test_x() -> None:\n    assert True\n")
    gate_repo.commit("zero config")
    python = fresh_venv(gate_repo.path / ".venv")
    result = gate_repo.gate("run", "--skip", "build", "--format", "json")
    assert result.returncode == 2, result.stdout + result.stderr
    stage = stage_of(result, "pytest")
    assert stage["status"] == "error"
    assert stage["reason"].startswith(
        f"pytest is not installed in {python}; install it with `{python} -m pip install pytest`"
    )
    # Tools that need not import the project still run, from the gate's own environment.
    assert stage_of(result, "mypy")["status"] == "passed"
    text = gate_repo.gate("run", "--skip", "build")
    assert "! pytest" in text.stdout and f"pytest is not installed in {python}" in text.stdout


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


HANGING_TEST = """\
import os
import subprocess
import sys
import time


def test_hangs() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open(os.environ["PID_FILE"] + ".tmp", "w") as fh:
        fh.write(str(child.pid))
    os.replace(os.environ["PID_FILE"] + ".tmp", os.environ["PID_FILE"])
    time.sleep(300)
"""


def test_hung_tool_times_out_and_its_whole_process_group_is_killed(repo, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    repo.write("tests/test_sample.py", HANGING_TEST)
    repo.write(
        "pyproject.toml",
        (repo.path / "pyproject.toml").read_text()
        + "\n[tool.gatekeeper.stages.pytest]\ntimeout = 12\n",
    )
    result = repo.gate(
        "run", "--stage", "pytest", "--format", "json", env={"PID_FILE": str(pid_file)}, timeout=60
    )
    assert result.returncode == 2, result.stdout + result.stderr
    stage = stage_of(result, "pytest")
    assert stage["status"] == "error"
    assert stage["reason"].startswith("timed out after 12s (process group killed)")
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 10  # the reaper (init) may take a moment
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), f"grandchild {grandchild} survived the timeout"


@pytest.mark.parametrize(
    ("stage", "module"), [("ruff", "ruff"), ("mypy", "mypy"), ("radon", "radon")]
)
def test_a_tool_printing_garbage_instead_of_json_is_an_error(repo, tmp_path, stage, module):
    # A stand-in module that shadows the real tool on PYTHONPATH, like a broken install would.
    fake = tmp_path / "fake" / module
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text("print('All good, trust me!')\n")
    env = {"PYTHONPATH": str(tmp_path / "fake")}
    result = repo.gate("run", "--stage", stage, "--format", "json", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    found = stage_of(result, stage)
    assert found["status"] == "error"
    assert "All good, trust me!" in found["reason"]


@pytest.mark.parametrize(
    ("stage", "args", "expected"),
    [
        ("ruff", ["--select", "NOPE999"], "exited with code 2"),
        ("ruff-format", ["--line-length", "0"], "could not run (exit 2)"),
        ("mypy", ["--no-such-flag"], "could not check the program (exit 2)"),
        ("pytest", ["--no-such-option"], "code 4"),
    ],
)
def test_tool_usage_errors_are_errors_not_findings(repo, stage, args, expected):
    repo.write(
        "pyproject.toml",
        (repo.path / "pyproject.toml").read_text()
        + f"\n[tool.gatekeeper.stages.{stage}]\nargs = {args!r}\n".replace("'", '"'),
    )
    result = repo.gate("run", "--stage", stage, "--format", "json")
    assert result.returncode == 2, result.stdout + result.stderr
    found = stage_of(result, stage)
    assert found["status"] == "error"
    assert expected in found["reason"]
    assert found["findings"] == []


def test_timeout_of_a_command_stage_is_an_error(repo):
    repo.write(
        "pyproject.toml",
        (repo.path / "pyproject.toml").read_text()
        + '\n[tool.gatekeeper.commands.slow]\nrun = "sleep 60"\ntimeout = 1\n',
    )
    result = repo.gate("run", "--stage", "slow", "--format", "json")
    assert result.returncode == 2
    assert stage_of(result, "slow")["reason"].startswith("timed out after 1")
