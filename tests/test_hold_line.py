"""Hold the line: a change is judged against its base, with the real tools and real git history.

One repository with debt on ``main`` (pushed to a bare ``origin``): a type error, a lint
finding, a function over the complexity limit and a failing test. Each scenario is a branch
off ``main`` in its own worktree, so the base run is paid once and shared through the state
directory, as it would be between agents working on the same repository.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.change import judge
from gatekeeper.fingerprint import fingerprint_all
from gatekeeper.models import Finding, StageResult
from gatekeeper.testing import GateRepo, GateResult, make_repo

LEGACY = '''\
"""Old code with debt."""

import os


def legacy(x: int) -> str:
    """Wrongly typed since forever."""
    return x


def tangled(n: int) -> int:
    """Far too many branches."""
    total = 0
{branches}
    return total
'''


def _branches(count: int) -> str:
    return "\n".join(f"    if n == {i}:\n        total += {i}" for i in range(count))


BROKEN_TEST = """\
from sample import add


def test_already_broken() -> None:
    assert add(1, 1) == 3
"""

FAST = ("--skip", "build", "--format", "json")


def _git(path: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def debt_repo(tmp_path_factory: pytest.TempPathFactory) -> GateRepo:
    """``main`` with debt, pushed to ``origin``; scenarios branch off it in worktrees."""
    top = tmp_path_factory.mktemp("hold")
    repo = make_repo(top / "repo", top / "home")
    repo.scaffold(commit=False)
    repo.write("sample/legacy.py", LEGACY.format(branches=_branches(22)))
    repo.write("tests/test_legacy.py", BROKEN_TEST)
    repo.commit("legacy code with debt")
    _git(top, repo.env, "init", "--quiet", "--bare", str(top / "origin.git"))
    repo.git("remote", "add", "origin", str(top / "origin.git"))
    repo.git("push", "--quiet", "-u", "origin", "main")
    return repo


class Scenario:
    """A branch off ``main`` checked out in its own worktree."""

    def __init__(self, repo: GateRepo, name: str) -> None:
        self.path = repo.path.parent / f"wt-{name}"
        repo.git("worktree", "add", "--quiet", "-b", name, str(self.path), "main")
        self.repo = GateRepo(self.path, repo.env)

    def change(self, files: dict[str, str], *, commit: bool = True) -> None:
        for rel, text in files.items():
            self.repo.write(rel, text)
        if commit:
            self.repo.commit("the change")

    def gate(self, *args: str) -> GateResult:
        return self.repo.gate("run", *args)


@pytest.fixture
def scenario(debt_repo: GateRepo, request: pytest.FixtureRequest) -> Iterator[Scenario]:
    yield Scenario(debt_repo, request.node.name.replace("[", "-").rstrip("]"))


def _findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for s in data["stages"] for f in s["findings"]]


def _new(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f["stage"], f["rule"]) for f in _findings(data) if not f["existing"]]


LEGACY_LINT = ("ruff", "F401")


def test_clean_change_passes_over_existing_debt(scenario: Scenario) -> None:
    scenario.change(
        {
            "sample/extra.py": "def double(x: int) -> int:\n    return 2 * x\n",
            "tests/test_extra.py": (
                "from sample.extra import double\n\n\n"
                "def test_double() -> None:\n    assert double(2) == 4\n"
            ),
        }
    )
    done = scenario.gate(*FAST)
    assert done.returncode == 0, done.stdout
    data = done.json
    assert data["verdict"] == "passed"
    base = data["base"]
    assert base["mode"] == "change" and base["source"] == "merge-base with origin/main"
    kinds = {(f["stage"], f["rule"]) for f in _findings(data) if f["existing"]}
    assert {
        ("mypy", "return-value"),
        LEGACY_LINT,
        ("radon", "max-block"),
        ("pytest", "test-failed"),
    } <= kinds
    assert _new(data) == []
    assert base["existing"] == len(_findings(data))
    # A person sees the base, the collapsed debt, and the already-failing test loudly.
    text = scenario.gate("--skip", "build").stdout
    assert "base: merge-base with origin/main" in text
    assert "WARNING: 1 test already failing at the base still fails" in text
    assert "tests/test_legacy.py::test_already_broken" in text
    assert "sample/legacy.py::tangled" in text  # complexity debt, shown once
    # An agent is told the existing findings are not its job.
    agent = scenario.gate("--skip", "build", "--format", "agent").stdout
    assert "already existed at the base of this change" in agent and "not your job" in agent
    # --all: the whole tree must be clean.
    strict = scenario.gate("--all", *FAST)
    assert strict.returncode == 1
    assert strict.json["base"]["mode"] == "all"
    assert len(_new(strict.json)) == len(_findings(data))


def test_debt_made_worse_blocks(scenario: Scenario) -> None:
    worse = LEGACY.format(branches=_branches(24)).replace(
        "    return x\n", "    y: str = x\n    return x\n"
    )
    scenario.change({"sample/legacy.py": worse})
    done = scenario.gate(*FAST)
    assert done.returncode == 1
    new = _new(done.json)
    # The complexity grew (ratchet) and the function gained a second type error.
    assert ("radon", "max-block") in new
    assert new.count(("mypy", "assignment")) == 1
    assert ("mypy", "return-value") not in new
    assert LEGACY_LINT not in new


def test_new_finding_in_an_old_file_blocks(scenario: Scenario) -> None:
    text = LEGACY.format(branches=_branches(22)).replace("import os\n", "import os\nimport sys\n")
    scenario.change({"sample/legacy.py": text})
    done = scenario.gate(*FAST)
    assert done.returncode == 1
    assert _new(done.json) == [LEGACY_LINT]
    agent = scenario.gate("--skip", "build", "--format", "agent").stdout
    assert "import `sys`" in agent or "`sys`" in agent
    assert "`os`" not in agent  # the existing one is not the agent's job


def test_passing_test_made_failing_blocks(scenario: Scenario) -> None:
    scenario.change({"sample/__init__.py": "def add(a: int, b: int) -> int:\n    return a - b\n"})
    done = scenario.gate(*FAST, "--stage", "pytest")
    assert done.returncode == 1
    new = [f for f in _findings(done.json) if not f["existing"]]
    assert [f["subject"] for f in new] == ["tests/test_sample.py::test_add"]
    # The test that already failed still fails, differently: existing, not blocking.
    old = [f for f in _findings(done.json) if f["existing"]]
    assert [f["subject"] for f in old] == ["tests/test_legacy.py::test_already_broken"]


def test_stage_error_always_blocks(scenario: Scenario) -> None:
    pyproject = (scenario.path / "pyproject.toml").read_text()
    scenario.change(
        {"pyproject.toml": pyproject + '\n[tool.gatekeeper.stages.mypy]\nargs = ["--no-such"]\n'}
    )
    done = scenario.gate(*FAST, "--stage", "mypy")
    assert done.returncode == 2
    assert done.json["stages"][0]["status"] == "error"


def test_edits_around_existing_findings_keep_them_existing(scenario: Scenario) -> None:
    """Lines moved, another function renamed, the file reformatted: nothing new, exit 0."""
    moved = LEGACY.format(branches=_branches(22))
    moved = moved.replace('"""Old code with debt."""\n', '"""Old code with debt."""\n\n\nA = 1\n')
    moved = moved.replace("def tangled(", "def knotted(")  # radon's subject changes with it
    moved = moved.replace("    return x\n", "    return (\n        x\n    )\n")
    scenario.change({"sample/legacy.py": moved})
    done = scenario.gate(*FAST, "--stage", "mypy", "--stage", "ruff")
    assert done.returncode == 0, done.stdout
    assert {(f["stage"], f["rule"]) for f in _findings(done.json)} == {
        ("mypy", "return-value"),
        LEGACY_LINT,
    }
    assert done.json["base"]["cached"] is True or done.json["base"]["existing"] == 2


def test_base_is_paid_once_and_uncommitted_changes_are_judged(scenario: Scenario) -> None:
    scenario.change({"sample/extra.py": "def f() -> int:\n    return '1'\n"}, commit=False)
    first = scenario.gate(*FAST, "--stage", "mypy")
    second = scenario.gate(*FAST, "--stage", "mypy")
    assert first.returncode == second.returncode == 1
    assert second.json["base"]["cached"] is True
    assert _new(second.json) == [("mypy", "return-value")]
    assert second.json["base"]["existing"] == 1


def test_forged_base_results_are_not_trusted(scenario: Scenario, debt_repo: GateRepo) -> None:
    """A fixer that plants its own finding in the stored base results (``.gatekeeper/`` is
    writable by the change) does not get it counted as ``existing``: entries are signed."""
    scenario.change({"sample/forged.py": "def g() -> int:\n    return '1'\n"})
    first = scenario.gate(*FAST, "--stage", "mypy")
    assert first.returncode == 1 and _new(first.json) == [("mypy", "return-value")]
    planted = [f for f in _findings(first.json) if not f["existing"]]
    entries = list(debt_repo.path.parent.rglob("bases/*.json"))
    assert entries, "the base run stored nothing"
    for entry in entries:
        outer = json.loads(entry.read_text())
        stored = json.loads(outer["sealed"]) if "sealed" in outer else outer
        stage = stored["stage"]
        keys = set(stage["findings"][0]) if stage["findings"] else set(planted[0])
        stage["findings"] += [{k: v for k, v in f.items() if k in keys} for f in planted]
        # What an agent would write: the entry in its plain form, the planted finding added.
        entry.write_text(
            json.dumps({"format": stored["format"], "key": entry.stem, "stage": stage})
        )
    second = scenario.gate(*FAST, "--stage", "mypy")
    assert second.returncode == 1, second.stdout
    assert _new(second.json) == [("mypy", "return-value")]
    assert second.json["base"]["cached"] is False  # recomputed, not replayed


def test_without_a_base_the_whole_tree_is_judged(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "fresh", tmp_path / "home")
    repo.scaffold(commit=False)
    repo.write("sample/bad.py", "import os\n")
    repo.commit("first")
    done = repo.gate("run", "--stage", "ruff", "--format", "json")
    assert done.returncode == 1
    assert done.json["base"] == {
        "mode": "all",
        "commit": None,
        "source": "none (no upstream branch and no remote default branch)",
        "existing": 0,
        "cached": False,
        "duration_s": 0.0,
    }
    text = repo.gate("run", "--stage", "ruff").stdout
    assert (
        "base: none (no upstream branch and no remote default branch); the whole tree must" in text
    )
    bad = repo.gate("run", "--base", "no-such-ref")
    assert bad.returncode == 2 and "is not a commit" in bad.stderr


# -- the comparison itself ------------------------------------------------------------------


def _stage(name: str, *findings: Finding, status: str = "failed") -> StageResult:
    return StageResult(name, status, findings=findings)  # type: ignore[arg-type]


def test_what_can_never_be_existing() -> None:
    collect = Finding(
        "pytest",
        "pytest",
        "collection-error",
        "t.py",
        1,
        0,
        "boom",
        fingerprint="c",
        stops_tool=True,
    )
    lint = Finding("ruff", "ruff", "F401", "a.py", 1, 1, "unused", fingerprint="l")
    base = {"pytest": _stage("pytest", collect), "ruff": _stage("ruff", lint)}
    stages, held = judge([_stage("pytest", collect), _stage("ruff", lint, lint)], base)
    assert held == 1
    assert stages[0].status == "failed" and not stages[0].findings[0].existing
    assert stages[1].status == "failed"  # one of the two is new: counts matter
    assert [f.existing for f in stages[1].findings] == [True, False]
    error = StageResult("ruff", "error", reason="crashed")
    assert judge([error], base)[0] == (error,)
    # A stage the base could not vouch for: every finding is new.
    broken_base = {"ruff": StageResult("ruff", "error", reason="crashed")}
    assert judge([_stage("ruff", lint)], broken_base)[0][0].status == "failed"


def test_fingerprints_survive_moves_renames_and_reformatting(tmp_path: Path) -> None:
    before = (
        "def helper(a, b):\n    return a\n\n\n"
        "def target(values):\n    total = compute(values, 'x', [1, 2])\n    return total\n"
    )
    after_lines = (
        "import os\n\n\n"
        "def renamed_helper(a, b):\n    return a\n\n\n"
        "def target(values):\n"
        '    total = compute(\n        values,\n        "x",\n        [\n            1,\n'
        "            2,\n        ],\n    )  # a comment\n    return total\n"
    )
    (tmp_path / "a.py").write_text(before)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "a.py").write_text(after_lines)
    old = Finding("mypy", "mypy", "name-defined", "a.py", 6, 13, 'Name "compute" is not defined')
    new = Finding("mypy", "mypy", "name-defined", "a.py", 12, 9, 'Name "compute" is not defined')
    (fp_old,) = fingerprint_all(tmp_path, [old])
    (fp_new,) = fingerprint_all(tmp_path / "b", [new])
    assert fp_old.fingerprint == fp_new.fingerprint
    # A different statement is a different finding.
    other = Finding("mypy", "mypy", "name-defined", "a.py", 2, 5, 'Name "compute" is not defined')
    assert fingerprint_all(tmp_path, [other])[0].fingerprint != fp_old.fingerprint
    # ... and after the real formatter rewrote the file it is still the same finding.
    subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--quiet", "a.py"], cwd=tmp_path, check=True
    )
    reformatted = (tmp_path / "a.py").read_text()
    assert reformatted != before
    line = next(i for i, ln in enumerate(reformatted.splitlines(), 1) if "compute(" in ln)
    (again,) = fingerprint_all(tmp_path, [replace(old, line=line)])
    assert again.fingerprint == fp_old.fingerprint


FIXER = """\
import pathlib, sys
pathlib.Path(sys.argv[1]).write_text(sys.stdin.read())
legacy = pathlib.Path("sample/legacy.py")
legacy.write_text(legacy.read_text().replace("    y: str = x\\n", ""))
"""


def test_loop_and_stop_hook_ask_for_the_new_findings_only(
    scenario: Scenario, tmp_path: Path
) -> None:
    worse = "    y: str = x\n    return x\n"
    text = LEGACY.format(branches=_branches(22)).replace("    return x\n", worse)
    # A new fixable lint finding too: the loop's autofix tier fixes it, and only its file.
    scenario.change({"sample/legacy.py": text, "sample/extra.py": "import sys\n"})
    prompt = tmp_path / "prompt.md"
    agent = shlex.join([sys.executable, "-c", FIXER, str(prompt)])
    done = scenario.repo.gate(
        "loop", "--agent", agent, "--max-attempts", "2", "--skip", "build", "--format", "json"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.json["stop_reason"] == "clean"
    asked = prompt.read_text()
    assert "Incompatible types in assignment" in asked
    assert "Incompatible return value" not in asked  # existing: not the agent's job
    assert "already existed at the base of this change" in asked and "not your job" in asked
    assert "import sys" not in (scenario.path / "sample/extra.py").read_text()
    assert "import os" in (scenario.path / "sample/legacy.py").read_text()  # debt left alone
    # The Stop hook judges the session's work against the commit it started from.
    scenario.repo.write("sample/more.py", "def more() -> int:\n    return 'x'\n")
    session = {
        "session_id": "hold-line",
        "transcript_path": "/nonexistent/transcript.jsonl",
        "cwd": str(scenario.path),
        "hook_event_name": "Stop",
        "stop_hook_active": False,
    }
    hook = scenario.repo.gate("hook", "claude-stop", "--stage", "mypy", input=json.dumps(session))
    out = json.loads(hook.stdout)
    assert out["decision"] == "block"
    assert "sample/more.py" in out["reason"] and "legacy.py" not in out["reason"]
    assert "1 finding already existed at the base of this change" in out["reason"]


def test_one_project_of_a_monorepo_is_judged_against_the_same_project(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "mono", tmp_path / "home")
    for name in ("a", "b"):
        repo.write(f"{name}/pyproject.toml", f'[project]\nname = "{name}"\nversion = "0"\n')
        repo.write(f"{name}/pkg_{name}/__init__.py", '"""Package."""\n')
    repo.write("a/pkg_a/old.py", "import os\n")
    repo.commit("two projects, debt in a")
    _git(tmp_path, repo.env, "init", "--quiet", "--bare", str(tmp_path / "origin.git"))
    repo.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    repo.git("push", "--quiet", "-u", "origin", "main")
    repo.git("checkout", "--quiet", "-b", "change")
    repo.write("a/pkg_a/new.py", '"""New."""\n\nVALUE = 1\n')
    repo.commit("clean change in a")
    project = GateRepo(repo.path / "a", repo.env)
    done = project.gate("run", "--stage", "ruff", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.json["base"]["existing"] == 1
    # From the top, every project is gated with its own base; one base line for all.
    top = repo.gate("run", "--stage", "ruff", "--format", "json")
    assert top.returncode == 0, top.stdout + top.stderr
    assert top.json["base"]["existing"] == 1
    assert [f["path"] for f in _findings(top.json)] == ["a/pkg_a/old.py"]
