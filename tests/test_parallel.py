"""Stages run at the same time, in a sensible order, and fail-fast stops the ones running."""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from gatekeeper import process
from gatekeeper.executor import Job, execute
from gatekeeper.models import Finding, StageResult
from gatekeeper.progress import Progress
from gatekeeper.testing import GateRepo

# Touch my file, then wait (bounded) for the other stage's: only true overlap lets both pass.
BARRIER = (
    "import pathlib, sys, time\n"
    "d = pathlib.Path(sys.argv[1])\n"
    "(d / sys.argv[2]).touch()\n"
    "end = time.monotonic() + 20\n"
    "while not (d / sys.argv[3]).exists() and time.monotonic() < end:\n"
    "    time.sleep(0.05)\n"
    "sys.exit(0 if (d / sys.argv[3]).exists() else 1)\n"
)


def test_independent_stages_really_overlap(gate_repo: GateRepo, tmp_path: Path) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    commands = {
        name: {"run": [sys.executable, "-c", BARRIER, str(barrier), mine, other], "timeout": 60}
        for name, mine, other in (("left", "a", "b"), ("right", "b", "a"))
    }
    gate_repo.write(".gatekeeper.yaml", json.dumps({"commands": commands}))
    gate_repo.write("README.md", "barrier\n")
    gate_repo.commit()
    result = gate_repo.gate(
        "run", "--stage", "left", "--stage", "right", "--jobs", "2", "--format", "json"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {s["name"]: s["status"] for s in result.json["stages"]} == {
        "left": "passed",
        "right": "passed",
    }


def _recorder() -> tuple[list[tuple[str, str]], threading.Lock]:
    return [], threading.Lock()


def _job(
    name: str,
    log: list[tuple[str, str]],
    lock: threading.Lock,
    *,
    after: tuple[str, ...] = (),
    writes: bool = False,
    cost: float = 0.0,
) -> Job:
    def work() -> StageResult:
        with lock:
            log.append(("start", name))
        time.sleep(0.05)
        with lock:
            log.append(("end", name))
        return StageResult(name, "passed")

    return Job(name, work, after=after, writes=writes, cost=cost)


def test_longest_expected_stage_starts_first() -> None:
    log, lock = _recorder()
    jobs = [_job(n, log, lock, cost=c) for n, c in (("a", 1.0), ("b", 5.0), ("c", 3.0))]
    execute(jobs, workers=1)
    assert [n for e, n in log if e == "start"] == ["b", "c", "a"]


def test_after_and_writes_are_honoured() -> None:
    log, lock = _recorder()
    jobs = [
        _job("check", log, lock, after=("fix",)),
        _job("other", log, lock),
        _job("fix", log, lock, writes=True),
        _job("late", log, lock),
    ]
    results = execute(jobs, workers=4)
    assert all(r.status == "passed" for r in results.values())
    assert log.index(("end", "fix")) < log.index(("start", "check"))
    # Nothing else runs while the writer does.
    start, end = log.index(("start", "fix")), log.index(("end", "fix"))
    assert end == start + 1


def test_an_ordering_cycle_is_an_error_not_a_silent_drop() -> None:
    log, lock = _recorder()
    results = execute([_job("a", log, lock, after=("b",)), _job("b", log, lock, after=("a",))])
    assert {r.status for r in results.values()} == {"error"}


def test_fail_fast_kills_the_stages_still_running(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"

    def slow() -> StageResult:
        argv = ["sh", "-c", f"echo $$ > {pidfile}.tmp && mv {pidfile}.tmp {pidfile}; exec sleep 60"]
        done = process.run_process(argv, cwd=tmp_path, timeout=120)
        return StageResult("slow", "passed" if done.returncode == 0 else "error")

    def failing() -> StageResult:
        end = time.monotonic() + 30
        while not pidfile.exists() and time.monotonic() < end:
            time.sleep(0.02)
        finding = Finding("bad", "t", "r", "a.py", 1, 1, "broken")
        return StageResult("bad", "failed", findings=(finding,))

    never_started = Job("queued", lambda: StageResult("queued", "passed"), after=("slow",))
    results = execute(
        [Job("slow", slow), Job("bad", failing), never_started], workers=2, fail_fast=True
    )
    assert results["bad"].status == "failed"
    assert results["slow"].status == "skipped"
    assert (results["slow"].reason or "").startswith("stopped: --fail-fast")
    assert results["queued"].status == "skipped"
    with pytest.raises(ProcessLookupError):
        os.kill(int(pidfile.read_text()), 0)


def test_a_one_file_change_checks_one_file(gate_repo: GateRepo) -> None:
    gate_repo.scaffold()
    gate_repo.write("sample/extra.py", '"""More."""\n')
    gate_repo.commit()
    gate_repo.write("sample/extra.py", '"""Changed."""\n')
    result = gate_repo.gate(
        "run", "--stage", "ruff", "--stage", "radon", "--base", "HEAD", "--format", "json"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # --base makes the run judge a change, so the tamper guard comes along; it is not a linter.
    checked = {s["name"]: s["files_checked"] for s in result.json["stages"]}
    assert {k: v for k, v in checked.items() if k != "tamper"} == {"ruff": 1, "radon": 1}


def test_the_status_line_keeps_counting_while_a_stage_runs() -> None:
    stream = io.StringIO()
    progress = Progress(stream, color=False, interval=0.01)
    progress("mypy", None)
    end = time.monotonic() + 10
    while stream.getvalue().count("running: mypy") < 3 and time.monotonic() < end:
        time.sleep(0.01)  # the ticker redraws without any new event
    progress("mypy", StageResult("mypy", "passed", 1.0))
    progress.close()
    out = stream.getvalue()
    assert out.count("running: mypy") >= 3
    assert "✓ mypy" in out
    assert out.endswith("\r\033[K")  # the status line is erased at the end
