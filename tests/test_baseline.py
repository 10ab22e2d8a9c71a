"""The baseline holds the line: recorded findings pass, new ones fail, fixed ones shrink it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gatekeeper import baseline
from gatekeeper.models import Finding, Severity, StageResult

LEGACY = """\
import os
import sys


def legacy(x):
    unused = x
    return 2
"""

SECOND_COPY = """

def legacy_two(x):
    unused = x
    return 3
"""


def _ruff(repo, *args: str):
    return repo.gate("run", "--stage", "ruff", "--format", "json", *args)


def _new(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for s in report["stages"] for f in s["findings"] if not f["baselined"]]


def _record(repo) -> Path:
    made = repo.gate("baseline", "--stage", "ruff")
    assert made.returncode == 0, made.stderr
    assert "recorded 3 findings" in made.stdout
    path = Path(repo.path) / ".gatekeeper-baseline.json"
    text = path.read_text(encoding="utf-8")
    entries = json.loads(text)["findings"]
    assert [(e["rule"], e["count"]) for e in entries] == [("F401", 1), ("F401", 1), ("F841", 1)]
    assert {(e["path"], e["stage"]) for e in entries} == {("sample/legacy.py", "ruff")}
    assert sum(line.strip().startswith('{"stage"') for line in text.splitlines()) == 3
    return path


def _held(repo) -> None:
    held = _ruff(repo)
    assert held.returncode == 0, held.stdout
    stage = held.json["stages"][0]
    assert (stage["status"], stage["extra"]["baselined"]) == ("passed", 3)
    assert all(f["baselined"] for f in stage["findings"])
    # Ten lines above every baselined finding: still the same findings.
    repo.write("sample/legacy.py", '"""Doc."""\n' + "# filler\n" * 9 + LEGACY)
    moved = _ruff(repo)
    assert moved.returncode == 0, moved.stdout
    assert min(f["line"] for f in moved.json["stages"][0]["findings"]) == 11


def _new_fail(repo) -> None:
    # A new file with a defect, and a second copy of a recorded one: both are new.
    repo.write("sample/new.py", "import json\n")
    repo.write("sample/legacy.py", LEGACY + SECOND_COPY)
    fresh = _ruff(repo)
    assert fresh.returncode == 1
    assert sorted((f["path"], f["rule"]) for f in _new(fresh.json)) == [
        ("sample/legacy.py", "F841"),
        ("sample/new.py", "F401"),
    ]
    assert fresh.json["stages"][0]["extra"]["baselined"] == 3
    text = repo.gate("run", "--stage", "ruff").stdout
    assert "sample/new.py" in text
    assert "3 baselined" in text
    assert "`os`" not in text
    assert repo.gate("run", "--stage", "ruff", "--no-baseline").returncode == 1


def _entries(path: Path) -> dict[tuple[str, str], int]:
    return {(e["path"], e["rule"]): e["count"] for e in json.loads(path.read_text())["findings"]}


def _update(repo, path: Path) -> None:
    # --update never grows the baseline silently...
    before = path.read_bytes()
    kept = repo.gate("baseline", "--update", "--stage", "ruff")
    assert kept.returncode == 0, kept.stderr
    assert "2 new not recorded" in kept.stdout
    assert path.read_bytes() == before
    # ...but shrinks when something was fixed,
    repo.write("sample/legacy.py", (LEGACY + SECOND_COPY).replace("import os\n", ""))
    shrunk = repo.gate("baseline", "--update", "--stage", "ruff")
    assert "1 fixed and removed" in shrunk.stdout, shrunk.stdout
    assert _entries(path) == {("sample/legacy.py", "F401"): 1, ("sample/legacy.py", "F841"): 1}
    # ...and records new ones only when asked.
    grown = repo.gate("baseline", "--update", "--add-new", "--stage", "ruff")
    assert "2 new recorded" in grown.stdout, grown.stdout
    assert _entries(path) == {
        ("sample/legacy.py", "F401"): 1,
        ("sample/legacy.py", "F841"): 2,
        ("sample/new.py", "F401"): 1,
    }
    assert _ruff(repo).returncode == 0


def test_hold_the_line(gate_repo) -> None:
    gate_repo.scaffold()
    gate_repo.write("sample/legacy.py", LEGACY)
    gate_repo.commit("legacy code")
    assert _ruff(gate_repo).returncode == 1
    path = _record(gate_repo)
    _held(gate_repo)
    _new_fail(gate_repo)
    _update(gate_repo, path)
    again = gate_repo.gate("baseline")
    assert again.returncode == 2
    assert "already exists" in again.stderr


def test_plugin_stage_is_baselined_but_errors_never_are(gate_repo) -> None:
    gate_repo.scaffold(commit=False)
    py = json.dumps(sys.executable)
    with (gate_repo.path / "pyproject.toml").open("a") as f:
        f.write(
            f"\n[tool.gatekeeper.commands.legacy-check]\n"
            f'run = [{py}, "-c", "import sys; print(\'old problem\'); sys.exit(1)"]\n'
            f"\n[tool.gatekeeper.commands.hangs]\n"
            f'run = [{py}, "-c", "import time; time.sleep(30)"]\ntimeout = 1\n'
        )
    gate_repo.commit("commands")
    refused = gate_repo.gate("baseline", "--stage", "legacy-check", "--stage", "hangs")
    assert refused.returncode == 2
    assert "stage hangs could not run" in refused.stderr and "nothing was written" in refused.stderr
    assert not (gate_repo.path / ".gatekeeper-baseline.json").exists()

    made = gate_repo.gate("baseline", "--stage", "legacy-check")
    assert made.returncode == 0, made.stderr
    held = gate_repo.gate("run", "--stage", "legacy-check", "--format", "json")
    assert held.returncode == 0, held.stdout
    errored = gate_repo.gate(
        "run", "--stage", "legacy-check", "--stage", "hangs", "--format", "json"
    )
    assert errored.returncode == 2
    statuses = {s["name"]: s["status"] for s in errored.json["stages"]}
    assert statuses == {"legacy-check": "passed", "hangs": "error"}


def test_broken_baseline_blocks_with_a_hint(gate_repo) -> None:
    gate_repo.scaffold()
    gate_repo.write(".gatekeeper-baseline.json", '{"version": 1, "findings": [{"stage": 3}]}')
    result = _ruff(gate_repo)
    assert result.returncode == 2
    assert ".gatekeeper-baseline.json" in result.stderr and "hint:" in result.stderr


def _f(line: int, fp: str = "a", severity: Severity = "error") -> Finding:
    return Finding(
        "ruff", "ruff", "F401", "m.py", line, 1, "unused", severity=severity, fingerprint=fp
    )


def test_counts_decide_how_many_duplicates_are_held() -> None:
    held = baseline.Baseline((baseline.Entry("ruff", "F401", "m.py", "a", 2, "unused"),))
    stage = StageResult("ruff", "failed", findings=(_f(1), _f(2), _f(3), _f(4, "b", "warning")))
    (after,) = baseline.apply_baseline([stage], held)
    assert [f.baselined for f in after.findings] == [True, True, False, False]
    assert after.status == "failed"
    (fewer,) = baseline.apply_baseline([stage.with_(findings=stage.findings[1:])], held)
    assert fewer.status == "passed"  # the warning alone does not block
    broken = StageResult("ruff", "error", reason="crashed", findings=(_f(1),))
    assert baseline.apply_baseline([broken], held) == (broken,)


def test_file_is_deterministic_and_round_trips() -> None:
    entries = baseline.entries_of([_f(3, "z"), _f(1, "a"), _f(2, "a")])
    text = baseline.dumps(baseline.Baseline(entries))
    assert text == baseline.dumps(baseline.Baseline(tuple(reversed(entries))))
    assert baseline.parse(text, "x") == baseline.Baseline(entries)
    assert [e.count for e in entries] == [2, 1]


def test_push_gate_reads_the_baseline_of_the_pushed_commit(gate_repo) -> None:
    gate_repo.scaffold()
    entry = baseline.Entry("ruff", "F401", "m.py", "abc", 1, "unused")
    baseline.save(gate_repo.path / ".gatekeeper-baseline.json", baseline.Baseline((entry,)))
    sha = gate_repo.commit("baseline")
    (gate_repo.path / ".gatekeeper-baseline.json").unlink()
    root = Path(gate_repo.path)
    assert baseline.load(root) is None
    found = baseline.load(root, None, head=sha)
    assert found is not None and found.entries == (entry,)
