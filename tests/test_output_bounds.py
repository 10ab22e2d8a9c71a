"""A tool that prints megabytes cannot make the reports, the ledger or the cache megabytes long."""

from __future__ import annotations

from gatekeeper.process import clip
from gatekeeper.testing import GateRepo

LOUD = """\
[tool.gatekeeper.commands.loud]
run = ["python3", "-c", "print('start'); print('x' * 5_000_000); print('boom'); exit(3)"]
"""


def test_clip_keeps_both_ends_and_says_what_it_cut() -> None:
    text = "head " + "x" * 10_000 + " tail"
    cut = clip(text, 400)
    assert len(cut) <= 400
    assert cut.startswith("head ") and cut.endswith(" tail")
    assert "characters cut" in cut
    assert clip("short", 400) == "short"


def test_enormous_output_is_bounded_everywhere(gate_repo: GateRepo) -> None:
    gate_repo.write("pyproject.toml", LOUD)
    gate_repo.write("m.py", "X = 1\n")
    gate_repo.commit("a loud failing command")
    result = gate_repo.gate("run", "--stage", "loud", "--format", "json")
    assert result.returncode == 1
    assert len(result.stdout) < 20_000
    (finding,) = result.json["stages"][0]["findings"]
    assert len(finding["message"]) <= 4000
    assert "boom" in finding["message"] and "characters cut" in finding["message"]
    agent = gate_repo.gate("run", "--stage", "loud", "--format", "agent")
    assert agent.returncode == 1
    assert len(agent.stdout) <= 8000 and "boom" in agent.stdout
    ledger = gate_repo.path / ".gatekeeper" / "ledger.jsonl"
    assert ledger.stat().st_size < 50_000
