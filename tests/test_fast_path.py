"""The fast path of an attempt: last failures first, affected tests next, the full suite once.

Every check runs the real gate (``verify``, ``loop``, the pre-push hook) on a real repository
with real pytest and pytest-testmon. A ``conftest.py`` in the sample project logs each pytest
session's collected test ids, so a test can see which tests ran, in which order.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.testing import GateRepo, GateResult
from tests.loop_support import fixer, loop, sample_repo

CALC = '''\
"""Arithmetic."""


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a {op} b


def mul(a: int, b: int) -> int:
    """Multiply two numbers."""
    return a * b
'''

OTHER = '''\
"""Something else."""


def one() -> int:
    """One."""
    return 1
'''

TESTS = {
    "tests/test_calc.py": """\
        from sample.calc import add, mul


        def test_add() -> None:
            assert add(1, 2) == 3


        def test_mul() -> None:
            assert mul(2, 3) == 6
        """,
    "tests/test_other.py": """\
        from sample.other import one


        def test_one() -> None:
            assert one() == 1
        """,
    # Reads a data file: coverage-based selection cannot know it depends on it.
    "tests/test_data.py": """\
        from pathlib import Path


        def test_value() -> None:
            assert Path(__file__).parent.joinpath("value.txt").read_text().strip() == "42"
        """,
}

SPY = """\
import os
import sys


def pytest_collection_finish(session):
    log = os.environ.get("SPY_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(" ".join(sorted(i.nodeid.split("::")[-1] for i in session.items)) + "\\n")
        if "--testmon-noselect" in sys.argv:  # pytest-testmon records (the slow, traced run)
            with open(log + ".recorded", "a", encoding="utf-8") as fh:
                fh.write("recorded\\n")
"""

SLOW = """\
import os
import time


def test_slow() -> None:
    time.sleep(float(os.environ.get("SLOW_TEST", "0")))
"""

EVERY_TEST = "test_add test_mul test_one test_value"
PYPROJECT = '[project]\nname = "sample"\nversion = "0.1.0"\n'


def _project(repo: GateRepo) -> None:
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("sample/__init__.py", '"""Sample."""\n')
    repo.write("sample/calc.py", CALC.format(op="-"))
    repo.write("sample/other.py", OTHER)
    repo.write("tests/value.txt", "42\n")
    repo.write("conftest.py", SPY)
    for rel, text in TESTS.items():
        repo.write(rel, text)
    repo.commit("sample with a failing test")


class Spy:
    """Runs ``verify`` and returns its JSON plus the pytest sessions it started."""

    def __init__(self, repo: GateRepo, log: Path, env: dict[str, str] | None = None) -> None:
        self.repo, self.log, self.env = repo, log, env or {}

    @property
    def recorded(self) -> int:
        """How many sessions of the last ``verify`` recorded testmon's data."""
        marks = self.log.with_name(self.log.name + ".recorded")
        return len(marks.read_text().splitlines()) if marks.exists() else 0

    def verify(self) -> tuple[dict[str, Any], list[str]]:
        self.log.write_text("", encoding="utf-8")
        self.log.with_name(self.log.name + ".recorded").unlink(missing_ok=True)
        done: GateResult = self.repo.gate(
            "verify",
            "--stage",
            "pytest",
            "--format",
            "json",
            env={"SPY_LOG": str(self.log), **self.env},
        )
        assert done.returncode in (0, 1), done.stderr
        sessions = self.log.read_text(encoding="utf-8").splitlines()
        return done.json, sessions


def _pytest(report: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in report["stages"] if s["name"] == "pytest")


def _failing(report: dict[str, Any]) -> list[str]:
    return sorted(f["message"].split(": ")[0].split("::")[-1] for f in _pytest(report)["findings"])


@pytest.fixture(scope="module")
def spy(tmp_path_factory: pytest.TempPathFactory) -> Spy:
    from gatekeeper.testing import make_repo

    tmp = tmp_path_factory.mktemp("fast")
    repo = make_repo(tmp / "repo", tmp / "home")
    _project(repo)
    return Spy(repo, tmp / "sessions.log")


def test_attempts_recheck_failures_first_and_clean_only_after_the_full_suite(spy: Spy) -> None:
    repo = spy.repo
    state = repo.path / ".gatekeeper" / "tools" / "pytest"

    # A first run has nothing to select by: the whole suite runs at once.
    report, sessions = spy.verify()
    assert report["verdict"] == "failed" and _failing(report) == ["test_add"]
    assert sessions == [EVERY_TEST] and spy.recorded == 1  # the one-time data build

    # The agent fixes the one file: the test that failed is re-checked first, alone; then
    # (testmon selecting nothing else) the full suite runs before the verdict is clean.
    repo.write("sample/calc.py", CALC.format(op="+"))
    report, sessions = spy.verify()
    assert report["verdict"] == "passed"
    assert sessions[0] == "test_add"
    assert sessions[-1] == EVERY_TEST, "clean without the full suite having run"
    # testmon deselected every other test (it exits 0 then, not 5): its data stays, and the
    # confirmation runs plain pytest instead of recording the data again.
    assert spy.recorded == 0 and (state / "testmondata").is_file()
    tests = _pytest(report)["extra"]["tests"]
    assert (tests["collected"], tests["passed"], tests["deselected"]) == (4, 4, 0)

    # An edit that breaks a test the selection cannot connect to it (a data file) is still
    # caught before clean: the fast path passes, the full suite fails.
    repo.write("tests/value.txt", "41\n")
    report, sessions = spy.verify()
    assert report["verdict"] == "failed" and _failing(report) == ["test_value"]
    assert "test_value" not in " ".join(sessions[:-1]) and sessions[-1] == EVERY_TEST

    # An edit testmon does connect: only the affected test runs first, and its failure is
    # handed back without the rest of the suite (the attempt's fast feedback).
    repo.write("tests/value.txt", "42\n")
    repo.write("sample/other.py", OTHER.replace("return 1", "return 2"))
    report, sessions = spy.verify()
    assert report["verdict"] == "failed" and _failing(report) == ["test_one"]
    assert EVERY_TEST not in sessions and sessions[-1] == "test_one"
    assert _pytest(report)["extra"]["fast_path"] == "partial"

    # Corrupted selection data (testmon's database, the list of last failures) degrades to
    # the full suite, never to fewer tests, and is rebuilt.
    repo.write("sample/other.py", OTHER + "\n\nY = 2\n")
    (state / "testmondata").write_bytes(b"this is not an SQLite database" * 100)
    (state / "last-failed.json").write_text('{"failed": ["--collect-only", "../x.py::t"]}')
    report, sessions = spy.verify()
    assert report["verdict"] == "passed" and sessions == [EVERY_TEST]
    with sqlite3.connect(state / "testmondata") as db:
        assert db.execute("PRAGMA quick_check").fetchone() == ("ok",)

    # Missing data: the same.
    for item in state.iterdir():
        item.unlink()
    repo.write("sample/calc.py", CALC.format(op="+") + "\n\nX = 1\n")
    report, sessions = spy.verify()
    assert report["verdict"] == "passed" and sessions == [EVERY_TEST]


def test_without_testmon_last_failures_still_go_first_and_it_says_so(
    tmp_path: Path, gate_repo: GateRepo
) -> None:
    _project(gate_repo)
    # pytest loads pytest-testmon only through its entry point: with autoloading off it is
    # as good as not installed in the project's interpreter.
    spy = Spy(gate_repo, tmp_path / "sessions.log", {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    report, sessions = spy.verify()
    assert _failing(report) == ["test_add"] and sessions == [EVERY_TEST]
    assert not (gate_repo.path / ".gatekeeper/tools/pytest/testmondata").exists()

    # Still failing (another test file touched): the failure is re-checked first and handed
    # back; a note says why nothing else was selected.
    gate_repo.write("tests/test_other.py", TESTS["tests/test_other.py"] + "\n\n        X = 1\n")
    report, sessions = spy.verify()
    assert _failing(report) == ["test_add"] and sessions == ["test_add"]

    gate_repo.write("sample/calc.py", CALC.format(op="+"))
    report, sessions = spy.verify()
    # (a base run judging the change may add a session of its own after these)
    assert report["verdict"] == "passed" and sessions[:2] == ["test_add", EVERY_TEST]
    assert "pytest-testmon is not installed" in _pytest(report)["extra"]["fast_path_note"]


def test_a_still_failing_type_error_is_not_held_back_by_the_full_suite(
    tmp_path: Path, gate_repo: GateRepo
) -> None:
    _project(gate_repo)
    gate_repo.write("sample/calc.py", CALC.format(op="+") + "\n\nBAD: int = 'x'\n")
    gate_repo.write("tests/test_slow.py", SLOW)
    gate_repo.commit("a type error")
    # No selection data to go on (pytest-testmon not loaded): the suite runs in full.
    quiet = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    args = ("verify", "--stage", "mypy", "--stage", "pytest", "--format", "json")
    first = gate_repo.gate(*args, env={**quiet, "SLOW_TEST": "0"}).json
    assert {s["name"]: s["status"] for s in first["stages"]}["pytest"] == "passed"

    # The agent changed something else; the type error is still there: it is handed back
    # without waiting for the (now slow) full suite, which is stopped and reported as such.
    gate_repo.write("README.md", "an unrelated edit\n")
    second = gate_repo.gate(*args, env={**quiet, "SLOW_TEST": "120"}).json
    stages = {s["name"]: s for s in second["stages"]}
    assert second["verdict"] == "failed" and stages["mypy"]["status"] == "failed"
    assert stages["pytest"]["status"] == "skipped"
    assert stages["pytest"]["reason"].startswith("stopped: mypy still fails")


def test_loop_reports_timings_and_the_push_of_its_tree_replays_the_verdict(
    gate_repo: GateRepo,
) -> None:
    sample_repo(gate_repo, ("pytest",))
    result = loop(gate_repo, "--agent", fixer("honest"))
    report = result.json
    assert report["stop_reason"] == "clean", result.stderr
    attempt = [a for a in report["attempts"] if a.get("fixer")][-1]
    assert attempt["fixer_duration_s"] >= 0 and attempt["feedback_s"] > 0
    assert attempt["confirmation_s"] is not None and attempt["confirmation_s"] > 0
    assert attempt["gate_duration_s"] == pytest.approx(
        attempt["feedback_s"] + attempt["confirmation_s"], abs=0.002
    )

    # The loop's final tree, committed and pushed. Against the loop's start (its parent) the
    # loop sealed the push's verdict: replayed whole, in place and in a snapshot alike. For a
    # new branch (another base) every stage the loop ran is replayed from the cache (the push
    # is narrowed to the change, the loop was not); only what judges the change against the
    # push's base runs: the tamper guard, and test-quality.
    gate_repo.commit("fixed by the loop")
    sha, parent = gate_repo.git("rev-parse", "HEAD", "HEAD~1").split()
    pushes = [
        (f"refs/heads/main {sha} refs/heads/main {'0' * 40}\n", False),  # a new branch
        (f"refs/heads/main {sha} refs/heads/main {parent}\n", False),  # narrowed to the change
        (f"refs/heads/main {sha} refs/heads/main {parent}\n", True),  # ... in a snapshot
    ]
    for line, dirty in pushes:
        if dirty:
            gate_repo.write("scratch.txt", "not committed\n")  # the push checks a snapshot
        done = gate_repo.gate(
            "hook", "pre-push", "origin", "/nowhere", "--format", "json", input=line
        )
        assert done.returncode == 0, done.stdout + done.stderr
        pushed = json.loads(done.stdout)
        ran = {s["name"]: s["cached"] for s in pushed["stages"] if s["status"] != "skipped"}
        if parent in line:
            assert "replayed" in done.stderr, done.stderr
            assert ran and all(ran.values()), (line, ran)
            continue
        assert "replayed" not in done.stderr
        assert ran.pop("tamper") is False
        ran.pop("test-quality", None)
        assert ran and all(ran.values()), (line, ran)


def test_a_verdict_never_passes_over_an_unconfirmed_fast_path() -> None:
    from gatekeeper import fastpath
    from gatekeeper.models import StageResult

    ok = StageResult("ruff", "passed")
    for mark in (fastpath.PENDING, fastpath.PARTIAL):
        held = StageResult("pytest", "skipped", extra={fastpath.KEY: mark})
        assert fastpath.guard("passed", (ok, held)) == "error"
    assert fastpath.guard("passed", (ok, StageResult("pytest", "passed"))) == "passed"
