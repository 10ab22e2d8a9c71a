"""The loop's pure parts: stall rules, progress counts, the bounded prompt with memory."""

from __future__ import annotations

from typing import Any

from gatekeeper.loop import prompt, stall
from gatekeeper.models import Finding, RunResult, StageResult


def _finding(n: int, rule: str = "return-value") -> Finding:
    return Finding(
        "mypy",
        "mypy",
        rule,
        f"pkg/m{n % 7}.py",
        n,
        1,
        f"problem number {n} " + "x" * 80,
        fingerprint=f"fp{n}",
    )


def _run(*numbers: int, tree: str = "t") -> RunResult:
    findings = tuple(_finding(n) for n in numbers)
    stage = StageResult("mypy", "failed" if findings else "passed", findings=findings)
    return RunResult("failed" if findings else "passed", tree, 0.1, (stage,))


def test_progress_counts_fixed_new_and_persisting():
    progress = stall.compare(_run(1, 2, 3), _run(2, 3, 4))
    assert progress.counts() == {"fixed": 1, "new": 1, "persisting": 2}


def test_errored_stage_counts_as_blocking():
    run = RunResult("error", "t", 0.1, (StageResult("pytest", "error", reason="no tests"),))
    assert list(stall.blocking(run)) == ["error:pytest"]


def test_no_change_is_stuck_at_once_unless_the_fixer_failed():
    detector = stall.StallDetector()
    detector.see("a")
    same = stall.compare(_run(1), _run(1))
    assert detector.judge("a", "a", same, fixer_failed=True) is None  # one more chance
    assert "failed twice" in (detector.judge("a", "a", same, fixer_failed=True) or "")
    detector.next_fixer()
    assert "changed nothing" in (detector.judge("a", "a", same, fixer_failed=False) or "")


def test_returning_to_a_seen_tree_is_stuck():
    detector = stall.StallDetector()
    detector.see("a")
    swap = stall.compare(_run(1), _run(2))
    assert detector.judge("a", "b", swap, fixer_failed=False) is None
    assert "already checked" in (detector.judge("b", "a", swap, fixer_failed=False) or "")


def test_persisting_findings_are_stuck_after_stall_after_attempts():
    detector = stall.StallDetector(stall_after=3)
    same = stall.compare(_run(1, 2), _run(1, 2))
    verdicts = [detector.judge(f"t{i}", f"t{i + 1}", same, fixer_failed=False) for i in range(3)]
    assert verdicts[:2] == [None, None]
    assert "persisted for 3 attempts" in (verdicts[2] or "")


def _memory(n: int) -> dict[str, Any]:
    return {
        "attempt": n,
        "fixer": "agent --model cheap",
        "fixer_exit": 0,
        "tree_before": f"t{n}",
        "tree_after": f"t{n + 1}",
        "diffstat": " pkg/m1.py | 4 ++--\n 1 file changed, 2 insertions(+), 2 deletions(-)",
        "fixed": 0,
        "new": 0,
        "persisting": 300,
        "persisting_fingerprints": [f"fp{i}" for i in range(300)],
    }


def test_prompt_stays_under_the_cap_with_huge_memory():
    run = _run(*range(300))
    memory = [_memory(n) for n in range(1, 40)]
    earlier = [
        {**_memory(n), "loop_id": "abcdef123456", "ts": "2026-11-20T10:00"} for n in range(9)
    ]
    for cap in (1500, 4000, 8000):
        text = prompt.build(run, memory, earlier, attempt=40, max_attempts=50, cap=cap)
        assert len(text) <= cap
        assert text.startswith("# gatekeeper: FAILED")
        assert "## Loop memory — attempt 40 of 50" in text
        assert "These did not work" in text
        assert "left out" in text  # what did not fit is counted, not silently dropped


def test_prompt_names_what_did_not_work():
    run = _run(1)
    memory = [
        {**_memory(1), "persisting_fingerprints": ["fp1"], "persisting": 1},
        {**_memory(2), "tree_after": "t2", "persisting_fingerprints": ["fp1"], "persisting": 1},
    ]
    memory[1]["tree_before"] = "t2"
    text = prompt.build(run, memory, [], attempt=3, max_attempts=5, cap=8000)
    assert "attempt 1 changed pkg/m1.py | 4 ++--" in text and "fixed nothing" in text
    assert "attempt 2 changed nothing" in text
    assert "survived 2 attempts" in text


def test_first_prompt_is_the_plain_agent_report():
    run = _run(1, 2)
    text = prompt.build(run, [], [], attempt=1, max_attempts=5, cap=8000)
    assert "Loop memory" not in text and "`pkg/m1.py:1:1`" in text
