"""``gatekeeper loop`` end to end: real repos, real tools, scripted fixers as the agents."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from loop_support import fixer, ledger, log_scenario, loop, sample_repo, trace

import gatekeeper

ALL = ("--stage", "ruff", "--stage", "mypy", "--stage", "pytest")
RUFF = ("--stage", "ruff")
FLIP_START = "def f() -> int:\n    zero = 1\n    return 2\n"


def _fixer_attempts(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in report["attempts"] if a.get("fixer")]


def _check_contract(log: Path, root: Path) -> None:
    # The report on stdin and in the file, the findings JSON, attempt numbers, the cwd.
    runs = trace(log)
    assert [r["attempt"] for r in runs] == [1, 2, 3]
    assert all(r["stdin_is_report"] for r in runs)
    assert {(r["findings_version"], r["max_attempts"]) for r in runs} == {(1, 5)}
    assert {Path(r["cwd"]).resolve() for r in runs} == {root.resolve()}


def _check_memory(attempts: list[dict[str, Any]]) -> None:
    # The third prompt knows what the first two changed and what survived them.
    third = Path(attempts[2]["workdir"], "report.md").read_text(encoding="utf-8")
    assert "## Loop memory — attempt 3 of 5" in third
    assert "What earlier attempts changed" in third
    assert "sample/calc.py" in third
    assert "survived 2 attempts" in third
    assert max(a["prompt_chars"] for a in attempts) <= 8000


def _check_ledger(repo: Any, loop_id: str) -> None:
    # Every line parses; three attempts and the loop's end, four runs, all of this loop.
    mine = [r for r in ledger(repo) if r.get("loop_id") == loop_id]
    assert [r["kind"] for r in mine if r["kind"] != "run"] == ["attempt"] * 3 + ["loop"]
    assert (mine[-1]["stop_reason"], mine[-1]["attempts"]) == ("clean", 3)
    assert [r["kind"] for r in mine].count("run") == 4


def test_honest_fixer_converges_on_three_defects(gate_repo, tmp_path):
    sample_repo(gate_repo, ("ruff", "mypy", "pytest"))
    log = tmp_path / "trace.jsonl"
    result = loop(gate_repo, "--agent", fixer("honest"), *ALL, env={"FIXER_TRACE": str(log)})
    assert result.returncode == 0, result.stderr
    report = result.json
    assert (report["version"], report["verdict"], report["stop_reason"]) == (1, "passed", "clean")
    attempts = _fixer_attempts(report)
    assert [(a["fixed"] > 0, a["new"]) for a in attempts] == [(True, 0)] * 3
    assert attempts[-1]["persisting"] == 0
    assert {a["diffstat"].split("|")[0].strip() for a in attempts} == {"sample/calc.py"}
    _check_contract(log, gate_repo.path)
    _check_memory(attempts)
    _check_ledger(gate_repo, report["loop_id"])


def test_fixer_that_changes_nothing_is_stuck_at_once(gate_repo):
    sample_repo(gate_repo, ("ruff",))
    result = gate_repo.gate("loop", "--agent", fixer("noop"), *RUFF)
    assert result.returncode == 1
    assert "STUCK after 1 attempt" in result.stdout
    assert "the fixer changed nothing" in result.stdout
    assert "Hand-off" in result.stdout and "Still blocking (1)" in result.stdout
    (record,) = [r for r in ledger(gate_repo) if r["kind"] == "loop"]
    assert record["stop_reason"] == "stuck" and record["attempts"] == 1
    log_scenario(gate_repo)


def test_alternating_fixer_is_stuck_on_the_repeated_tree(gate_repo):
    sample_repo(gate_repo, (), extra={"sample/flip.py": FLIP_START})
    result = loop(gate_repo, "--agent", fixer("alternate"), *RUFF)
    assert result.returncode == 1
    report = result.json
    assert report["stop_reason"] == "stuck"
    attempts = _fixer_attempts(report)
    # Every swap "fixed" one finding and added one; only the tree hash shows the circle.
    assert [(a["fixed"], a["new"]) for a in attempts] == [(1, 1)] * 3
    assert [a["stuck"] is None for a in attempts] == [True, True, False]
    assert "state already checked" in attempts[-1]["stuck"]
    assert attempts[2]["tree_after"] == attempts[0]["tree_after"]


def test_fixer_that_fixes_nothing_is_stuck_after_stall_after_attempts(gate_repo):
    sample_repo(gate_repo, ("ruff",), extra={"sample/notes.py": '"""Notes."""\n'})
    report = loop(gate_repo, "--agent", fixer("fidget"), *RUFF).json
    assert report["stop_reason"] == "stuck"
    attempts = _fixer_attempts(report)
    assert len(attempts) == 2  # the default stall_after, well before the budget of 5
    assert "persisted for 2 attempts" in attempts[-1]["stuck"]


def test_ladder_escalates_from_a_stuck_fixer_to_the_next(gate_repo):
    sample_repo(gate_repo, ("ruff",))
    result = loop(gate_repo, "--agent", fixer("noop"), "--agent", fixer("honest"), *RUFF)
    assert result.returncode == 0, result.stderr
    report = result.json
    first, second = _fixer_attempts(report)
    assert first["fixer"] == fixer("noop") and first["escalated_to"] == fixer("honest")
    assert second["fixer"] == fixer("honest") and second["fixed"] == 1
    assert report["stop_reason"] == "clean"


def test_crashing_fixer_is_recorded_and_the_loop_goes_on(gate_repo):
    sample_repo(gate_repo, ("ruff",))
    result = loop(gate_repo, "--agent", fixer("honest", "--crash-first"), *RUFF)
    assert result.returncode == 0, result.stderr
    first, second = _fixer_attempts(result.json)
    assert first["fixer_exit"] == 1 and "scripted crash" in first["fixer_output_tail"]
    assert first["stuck"] is None
    assert second["fixer_exit"] == 0 and second["fixed"] == 1


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"  # a zombie is dead, only not yet reaped


def _wait_for(path: Path, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > end:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)


def test_hanging_fixer_is_killed_with_its_process_group(gate_repo, tmp_path):
    sample_repo(gate_repo, ("ruff",))
    pids = tmp_path / "pids"
    result = loop(
        gate_repo,
        "--agent",
        fixer("hang"),
        "--timeout",
        "2",
        "--max-attempts",
        "1",
        *RUFF,
        env={"FIXER_PIDS": str(pids)},
    )
    assert result.returncode == 1
    report = result.json
    assert report["stop_reason"] == "budget"
    (attempt,) = _fixer_attempts(report)
    assert attempt["fixer_timed_out"] is True and attempt["fixer_exit"] is None
    child, grandchild = map(int, pids.read_text().split())
    assert _gone(child) and _gone(grandchild)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_ends_the_loop_and_the_fixer_and_keeps_the_ledger_valid(gate_repo, tmp_path, sig):
    sample_repo(gate_repo, ("ruff",))
    pids = tmp_path / "pids"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatekeeper", "loop", "--agent", fixer("hang"), *RUFF],
        cwd=gate_repo.path,
        env={**gate_repo.env, "FIXER_PIDS": str(pids)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(pids)
        os.kill(proc.pid, sig)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    child, grandchild = map(int, pids.read_text().split())
    assert _gone(child) and _gone(grandchild)
    records = ledger(gate_repo)  # every line parses
    (end,) = [r for r in records if r["kind"] == "loop"]
    assert end["stop_reason"] == "interrupted"
    log_scenario(gate_repo)


def test_memory_survives_across_loop_sessions(gate_repo):
    sample_repo(gate_repo, ("ruff",))
    first = loop(gate_repo, "--agent", fixer("noop"), *RUFF).json
    second = loop(gate_repo, "--agent", fixer("noop"), *RUFF).json
    (attempt,) = _fixer_attempts(second)
    prompt = Path(attempt["workdir"], "report.md").read_text(encoding="utf-8")
    assert "These did not work" in prompt
    assert "earlier session" in prompt and f"loop {first['loop_id'][:8]}" in prompt


def test_autofix_tier_fixes_first_and_the_agent_never_sees_it(gate_repo):
    messy = "import os\nimport sys\nVALUE   =  (1)\n"
    sample_repo(
        gate_repo, ("ruff",), autofix='["ruff", "ruff-format"]', extra={"sample/messy.py": messy}
    )
    result = loop(
        gate_repo, "--agent", fixer("honest"), "--stage", "ruff", "--stage", "ruff-format"
    )
    assert result.returncode == 0, result.stderr
    (attempt,) = _fixer_attempts(result.json)
    auto = attempt["autofix"]
    assert auto["fixed"] >= 3 and auto["files"] == ["sample/messy.py"]  # F401 ×2, format, …
    assert any("F401" in f for f in auto["fixed_findings"])
    prompt = Path(attempt["workdir"], "report.md").read_text(encoding="utf-8")
    assert "F841" in prompt
    assert "messy.py" not in prompt and "F401" not in prompt
    assert (gate_repo.path / "sample/messy.py").read_text() == "VALUE = 1\n"


def test_gate_that_cannot_run_stops_with_error(gate_repo):
    sample_repo(gate_repo, ())
    (gate_repo.path / "tests/test_calc.py").unlink()
    gate_repo.commit("no tests at all")
    result = loop(gate_repo, "--agent", fixer("honest"), "--stage", "pytest")
    assert result.returncode == 2
    assert result.json["stop_reason"] == "error" and result.json["attempts"] == []


def test_unknown_agent_program_is_a_one_line_error(gate_repo):
    sample_repo(gate_repo, ("ruff",))
    result = gate_repo.gate("loop", "--agent", "no-such-agent-xyz --flag", *RUFF)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "gatekeeper: error: agent command not found: 'no-such-agent-xyz'"
    )
    assert "Traceback" not in result.stderr


def test_loop_json_is_the_run_report_plus_the_loop(gate_repo):
    sample_repo(gate_repo, ("ruff",))
    report = loop(gate_repo, "--agent", fixer("honest"), *RUFF).json
    assert {"version", "verdict", "tree", "stages", "duration_s"} <= set(report)
    assert {"attempts", "stop_reason", "loop_id", "start_tree"} <= set(report)
    assert json.loads(json.dumps(report)) == report
    schema = Path(gatekeeper.__file__).parent / "schemas" / "report-v1.json"
    jsonschema.validate(report, json.loads(schema.read_text(encoding="utf-8")))


def test_autofix_tidies_what_the_last_fixer_left(gate_repo):
    sample_repo(gate_repo, ("ruff",), autofix='["ruff", "ruff-format"]')
    result = loop(
        gate_repo,
        "--agent",
        fixer("honest", "--sloppy"),
        "--max-attempts",
        "1",
        "--stage",
        "ruff",
        "--stage",
        "ruff-format",
    )
    assert result.returncode == 0, result.stderr
    report = result.json
    assert report["stop_reason"] == "clean"
    fixer_run, tidy = report["attempts"]
    assert fixer_run["fixed"] == 1 and fixer_run["new"] == 1  # F841 gone, drift added
    assert tidy["fixer"] is None and tidy["after_last_fixer"] is True
    assert tidy["autofix"]["files"] == ["sample/extra.py"]


def test_tamper_guard_runs_in_the_loop_without_being_configured(gate_repo):
    # No --stage: the project's config picks the stages; the loop's trigger turns the guard on.
    off = "".join(
        f"\n[tool.gatekeeper.stages.{name}]\nenabled = false\n"
        for name in ("ruff-format", "mypy", "radon", "pytest", "build", "test-quality")
    )
    sample_repo(gate_repo, ("ruff",), config=off)
    result = loop(gate_repo, "--agent", fixer("cheat", "noqa"))
    report = result.json
    assert result.returncode == 1
    assert report["stop_reason"] == "tamper" and report["tamper_guard"] is True
    assert [s["name"] for s in report["stages"]] == ["ruff", "tamper"]


def test_stall_after_is_configurable(gate_repo):
    notes = {"sample/notes.py": '"""Notes."""\n'}
    sample_repo(gate_repo, ("ruff",), extra=notes, config="stall_after = 1\n")
    attempts = _fixer_attempts(loop(gate_repo, "--agent", fixer("fidget"), *RUFF).json)
    assert len(attempts) == 1 and "persisted for 1 attempts" in attempts[0]["stuck"]


def test_unknown_autofix_in_config_is_a_one_line_error(gate_repo):
    sample_repo(gate_repo, ("ruff",), autofix='["ruff", "black"]')
    result = gate_repo.gate("loop", "--agent", fixer("noop"), *RUFF)
    assert result.returncode == 2
    assert "autofix has unknown autofix 'black'" in result.stderr
    assert "Traceback" not in result.stderr


def test_time_budget_spent_before_a_fixer_runs(gate_repo, tmp_path):
    sample_repo(gate_repo, ("ruff",))
    log = tmp_path / "trace.jsonl"
    result = loop(
        gate_repo,
        "--agent",
        fixer("honest"),
        "--max-minutes",
        "0.001",
        *RUFF,
        env={"FIXER_TRACE": str(log)},
    )
    assert result.returncode == 1
    assert result.json["stop_reason"] == "budget" and result.json["attempts"] == []
    assert trace(log) == []  # no fixer was started
    assert "budget (attempts or minutes) ran out" in result.json["handoff"]


def test_fixer_that_breaks_the_gate_config_ends_the_loop_with_exit_2(gate_repo):
    sample_repo(gate_repo, ("ruff",))
    result = loop(gate_repo, "--agent", fixer("breakconfig"), *RUFF)
    assert result.returncode == 2
    assert "unknown key 'checks_off'" in result.stderr and "Traceback" not in result.stderr
    records = ledger(gate_repo)
    (attempt,) = [r for r in records if r["kind"] == "attempt"]
    assert attempt["fixer_exit"] == 0 and "checks_off" in attempt["gate_error"]
    (end,) = [r for r in records if r["kind"] == "loop"]
    assert end["stop_reason"] == "error"
