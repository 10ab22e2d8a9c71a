"""A fixer that silences a check instead of fixing the code never gets a clean loop.

Each scripted cheat makes its check pass; the tamper guard (stage ``tamper``, comparing with
the loop's starting tree) turns the cheat into a finding and the loop ends ``tamper``.
"""

from __future__ import annotations

from typing import Any

import pytest
from loop_support import fixer, ledger, loop, sample_repo

CHEATS = [
    # mode, planted defect (= the stage it silences), the tamper rule that must catch it
    ("type-ignore", "mypy", "tamper-type-ignore"),
    ("noqa", "ruff", "tamper-noqa"),
    ("skip", "pytest", "tamper-skip"),
    ("delete", "pytest", "tamper-test-deleted"),
    ("mypy-ignore-errors", "mypy", "tamper-config"),
    # Spellings no pattern knows: only the invariants (base tests, base rules) catch them.
    ("expected", "pytest", "tamper-base-test"),
    ("ruff-toml", "ruff", "tamper-hidden-finding"),
]


def _assert_silenced_and_caught(report: dict[str, Any], stage: str, rule: str) -> None:
    statuses = {s["name"]: s for s in report["stages"]}
    silenced = statuses[stage]  # the cheat did silence the check (or its fast path) ...
    assert silenced["status"] == "passed" or "not confirmed yet" in silenced["reason"]
    tamper = statuses["tamper"]  # ... and the guard saw it, at a location
    assert tamper["status"] == "failed"
    assert tamper["findings"]
    assert all(f["path"] for f in tamper["findings"])
    assert rule in {f["rule"] for f in tamper["findings"]}


@pytest.mark.parametrize(("mode", "stage", "rule"), CHEATS, ids=[c[0] for c in CHEATS])
def test_cheating_fixer_ends_with_the_tamper_finding(gate_repo, mode, stage, rule):
    sample_repo(gate_repo, (stage,))
    result = loop(gate_repo, "--agent", fixer("cheat", mode), "--stage", stage)
    assert result.returncode == 1, result.stderr
    report = result.json
    assert report["stop_reason"] == "tamper"
    assert report["verdict"] != "passed"
    _assert_silenced_and_caught(report, stage, rule)
    assert "Tampering to undo first" in report["handoff"]
    (end,) = [r for r in ledger(gate_repo) if r["kind"] == "loop"]
    assert end["stop_reason"] == "tamper"
