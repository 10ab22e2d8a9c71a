"""The ledger: append-only, whole records under concurrent writers, corrupt lines skipped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper import ledger
from gatekeeper.errors import GatekeeperError
from gatekeeper.loop.adapters import PRESETS, expand_agent
from gatekeeper.models import Finding, RunResult, StageResult
from gatekeeper.testing import GateRepo


def _failed_run() -> RunResult:
    bad = Finding("ruff", "ruff", "F401", "a.py", 3, 1, "unused\nimport", fingerprint="fp1")
    stages = (
        StageResult("ruff", "failed", findings=(bad,)),
        StageResult("mypy", "passed"),
    )
    return RunResult("failed", "tree1", 1.23456, stages, root="/r", commit="c1", trigger="loop")


def test_record_run_format(tmp_path: Path) -> None:
    written = ledger.record_run(tmp_path, _failed_run(), loop_id="L1", attempt=2)
    assert written["kind"] == "run" and written["id"] and written["pid"] == os.getpid()
    (back,) = ledger.read(tmp_path)
    assert back == written
    assert back["stages"] == {"ruff": "failed", "mypy": "passed"}
    assert back["fingerprints"] == ["fp1"]
    assert back["findings"][0]["rule"] == "F401"
    assert (back["trigger"], back["tree"], back["commit"]) == ("loop", "tree1", "c1")
    assert (back["loop_id"], back["attempt"], back["duration_s"]) == ("L1", 2, 1.235)
    # A message with a newline still makes exactly one line.
    assert len(ledger.ledger_path(tmp_path).read_bytes().splitlines()) == 1


def test_only_blocking_findings_are_recorded_as_fingerprints(tmp_path: Path) -> None:
    held = Finding("radon", "radon", "max-block", "b.py", 1, 1, "old", fingerprint="fp2",
                   baselined=True)  # fmt: skip
    note = Finding("tamper", "git", "no-base", "", 0, 0, "nothing to compare", "note",
                   fingerprint="fp3")  # fmt: skip
    run = _failed_run()
    stages = (*run.stages, StageResult("radon", "failed", findings=(held, note)))
    written = ledger.record_run(tmp_path, RunResult("failed", "t", 1.0, stages))
    assert written["fingerprints"] == ["fp1"]


def test_read_filters_and_limits(tmp_path: Path) -> None:
    for i in range(5):
        ledger.append(tmp_path, {"kind": "attempt" if i % 2 else "loop", "n": i})
    assert [r["n"] for r in ledger.read(tmp_path, kind="loop")] == [0, 2, 4]
    assert [r["n"] for r in ledger.read(tmp_path, limit=2)] == [3, 4]
    assert ledger.read(tmp_path, limit=0) == []
    third = ledger.read(tmp_path)[2]["ts"]
    assert [r["n"] for r in ledger.read(tmp_path, since=third)] == [2, 3, 4]
    assert ledger.read(tmp_path / "missing") == []
    with pytest.raises(ValueError):
        ledger.append(tmp_path, {"n": 1})


def test_corrupt_and_torn_lines_are_skipped(tmp_path: Path) -> None:
    ledger.append(tmp_path, {"kind": "loop", "n": 1})
    path = ledger.ledger_path(tmp_path)
    with path.open("ab") as handle:
        handle.write(b'{not json}\n[1, 2]\n\xff\xfe\n{"kind": "loop", "n": 2, "tor')
    ledger.append(tmp_path, {"kind": "loop", "n": 3})
    assert [r["n"] for r in ledger.read(tmp_path)] == [1, 3]


def test_unwritable_ledger_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(GatekeeperError, match="ledger"):
        ledger.append(blocker / "state", {"kind": "loop"})


def test_many_writers_lose_nothing(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from gatekeeper import ledger\n"
        "for i in range(50):\n"
        "    ledger.append(Path(sys.argv[1]), {'kind': 'loop', 'w': sys.argv[2], 'i': i,"
        " 'pad': 'x' * 5000})\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(w)]) for w in range(8)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    lines = ledger.ledger_path(tmp_path).read_bytes().splitlines()
    assert len(lines) == 400
    records = [json.loads(line) for line in lines]
    assert {(r["w"], r["i"]) for r in records} == {(str(w), i) for w in range(8) for i in range(50)}


def test_twenty_concurrent_gate_runs(gate_repo: GateRepo) -> None:
    gate_repo.scaffold()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gatekeeper", "run", "--stage", "ruff", "--format", "json"],
            cwd=gate_repo.path,
            env=gate_repo.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(20)
    ]
    codes = [p.wait(timeout=300) for p in procs]
    assert codes == [0] * 20, [p.stderr.read() if p.stderr else b"" for p in procs]
    path = ledger.ledger_path(gate_repo.path / ".gatekeeper")
    lines = path.read_bytes().splitlines()
    records = [json.loads(line) for line in lines]  # every line parses
    runs = [r for r in records if r["kind"] == "run"]
    assert len(runs) == 20
    assert len({r["id"] for r in runs}) == 20
    assert all(r["verdict"] == "passed" and r["stages"] == {"ruff": "passed"} for r in runs)


def test_presets_expand_to_exact_commands() -> None:
    assert expand_agent("claude", "/r.md") == ["claude", "-p", "--permission-mode", "acceptEdits"]
    assert expand_agent("codex", "/r.md") == [
        "codex",
        "exec",
        "--sandbox",
        "workspace-write",
        "-",
    ]
    assert expand_agent(" aider ", "/r.md") == ["aider", "--yes-always", "--message-file", "/r.md"]
    assert set(PRESETS) == {"claude", "codex", "aider"}


def test_raw_commands_pass_through() -> None:
    argv = expand_agent("python fix.py --in '{report}' {findings} '{x}'", "/a b.md", "/f.json")
    assert argv == ["python", "fix.py", "--in", "/a b.md", "/f.json", "{x}"]
    with pytest.raises(GatekeeperError, match="quotes"):
        expand_agent("python 'unbalanced", "/r.md")
    with pytest.raises(GatekeeperError, match="empty"):
        expand_agent("   ", "/r.md")
