"""`gatekeeper hook claude-stop`, `verify` and `history` on real repositories."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gatekeeper.testing import GateRepo

# ruff is the only tool stage these tests need; the tamper guard rides along (trigger agent).
ONLY_RUFF = """\

[tool.gatekeeper.stages.mypy]
enabled = false

[tool.gatekeeper.stages.pytest]
enabled = false

[tool.gatekeeper.stages.radon]
enabled = false

[tool.gatekeeper.stages.ruff-format]
enabled = false
"""

# Many distinct findings, so the report is long enough to hit the cap.
NOISY = "".join(f"import mod{i}\n" for i in range(300))


@pytest.fixture
def repo(gate_repo: GateRepo) -> GateRepo:
    gate_repo.scaffold(commit=False)
    pyproject = gate_repo.path / "pyproject.toml"
    text = pyproject.read_text().replace(
        "[tool.gatekeeper.stages.build]\n", "[tool.gatekeeper.stages.build]\nenabled = false\n"
    )
    pyproject.write_text(text + ONLY_RUFF)
    gate_repo.commit("clean, ruff only")
    return gate_repo


def stop(repo: GateRepo, session: str = "s1", *flags: str, payload: Any = None) -> Any:
    data = payload
    if data is None:
        data = {
            "session_id": session,
            "transcript_path": "/nonexistent/transcript.jsonl",
            "cwd": str(repo.path),
            "hook_event_name": "Stop",
            "stop_hook_active": False,
        }
    text = data if isinstance(data, str) else json.dumps(data)
    done = repo.gate("hook", "claude-stop", *flags, input=text)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = json.loads(done.stdout) if done.stdout.strip() else {}
    return out, done.stderr


def test_failing_tree_blocks_with_a_capped_reason(repo: GateRepo) -> None:
    repo.write("sample/noisy.py", NOISY)
    out, _ = stop(repo)
    assert out["decision"] == "block"
    reason = out["reason"]
    assert len(reason) <= 6000
    assert "sample/noisy.py:1" in reason and "F401" in reason
    assert "Left out to stay under" in reason  # the cap says what it dropped
    out, _ = stop(repo, "s2", "--max-reason-chars", "2500")
    assert out["decision"] == "block" and len(out["reason"]) <= 2500


def test_budget_then_the_agent_may_stop(repo: GateRepo) -> None:
    edits = ["import os\n", "import sys\n", "import json\n"]
    for n, text in enumerate(edits, 1):
        repo.write("sample/bad.py", text)  # a new finding each round: never stuck
        out, _ = stop(repo, "s1", "--max-blocks", "2")
        if n <= 2:
            assert out["decision"] == "block", n
            assert f"({n} of 2)" in out["reason"]
        else:
            assert "decision" not in out
            assert "budget of 2 blocks spent" in out["systemMessage"]
            assert "NOT clean" in out["systemMessage"]
    history = repo.gate("history", "--kind", "hook", "--format", "json").json
    assert [(h["decision"], h["blocks_so_far"]) for h in history] == [
        ("block", 1),
        ("block", 2),
        ("stop", 2),
    ]
    # Another session has a budget of its own.
    out, _ = stop(repo, "other", "--max-blocks", "2")
    assert out["decision"] == "block"


def test_stuck_session_may_stop_early(repo: GateRepo) -> None:
    repo.write("sample/bad.py", "import os\n")
    first, _ = stop(repo)
    second, _ = stop(repo)
    assert first["decision"] == second["decision"] == "block"
    assert "did not fix them" in second["reason"]
    third, err = stop(repo)
    assert "decision" not in third
    assert "stuck" in third["systemMessage"] and "stuck" in err


def test_clean_tree_lets_the_agent_stop(repo: GateRepo) -> None:
    out, _ = stop(repo)
    assert "decision" not in out and "PASSED" in out["systemMessage"]


def test_tampering_blocks_against_the_session_start(repo: GateRepo) -> None:
    repo.write("sample/bad.py", "import os\n")
    out, _ = stop(repo)
    assert out["decision"] == "block"
    repo.commit("the agent commits, then silences the finding")
    repo.write("sample/bad.py", "import os  # noqa: F401\n")
    out, _ = stop(repo)
    assert out["decision"] == "block"
    assert "tamper-noqa" in out["reason"]


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        "[1, 2]",
        {"cwd": "/tmp"},
        {"session_id": "x"},
    ],
)
def test_malformed_input_never_blocks(repo: GateRepo, payload: Any) -> None:
    out, err = stop(repo, payload=payload)
    assert out == {}
    assert "cannot read the hook input" in err and "letting the agent stop" in err


def test_not_a_repository_lets_the_agent_stop(repo: GateRepo, tmp_path: Any) -> None:
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    payload = {"session_id": "x", "cwd": str(elsewhere), "hook_event_name": "Stop"}
    out, err = stop(repo, payload=payload)
    assert "decision" not in out and "could not run" in err


def test_a_hook_crash_never_blocks(repo: GateRepo) -> None:
    not_a_dir = repo.path / "sample" / "__init__.py"
    payload = {"session_id": "x", "cwd": str(not_a_dir), "hook_event_name": "Stop"}
    out, err = stop(repo, payload=payload)
    assert "decision" not in out and "NOT verified" in out["systemMessage"]
    assert "letting the agent stop" in err


def test_broken_config_blocks_within_budget(repo: GateRepo) -> None:
    (repo.path / "pyproject.toml").write_text("[tool.gatekeeper\n")
    out, _ = stop(repo, "s1", "--max-blocks", "1")
    assert out["decision"] == "block" and "could not run" in out["reason"]
    out, _ = stop(repo, "s1", "--max-blocks", "1")
    assert "decision" not in out and "ERROR" in out["systemMessage"]


def test_verify_compares_with_the_last_run(repo: GateRepo) -> None:
    repo.write("sample/bad.py", "import os\nimport sys\n")
    first = repo.gate("verify")
    assert first.returncode == 1
    assert "No earlier run is recorded" in first.stdout
    repo.write("sample/bad.py", "import json\nimport sys\n")
    done = repo.gate("verify", "--format", "json")
    assert done.returncode == 1
    comparison = done.json["comparison"]
    assert [d["message"] for d in comparison["fixed"]] == ["`os` imported but unused"]
    assert [f["message"] for f in comparison["new"]] == ["`json` imported but unused"]
    assert [f["message"] for f in comparison["persisting"]] == ["`sys` imported but unused"]
    text = repo.gate("verify").stdout
    assert "Fixed 0, new 0, still open 2." in text
    (repo.path / "sample" / "bad.py").unlink()
    clean = repo.gate("verify")
    assert clean.returncode == 0 and "Fixed 2, new 0, still open 0." in clean.stdout


def test_history_shows_runs_and_survives_a_corrupt_line(repo: GateRepo) -> None:
    assert "ledger is empty" in repo.gate("history").stdout
    repo.gate("run", "--stage", "ruff")
    with (repo.path / ".gatekeeper" / "ledger.jsonl").open("a") as handle:
        handle.write("{torn\n")
    repo.write("sample/bad.py", "import os\n")
    stop(repo)
    text = repo.gate("history").stdout.splitlines()
    assert len(text) == 3
    assert "run     person   passed" in text[0]
    assert "run     agent    failed" in text[1] and "session_id=s1" in text[1]
    assert "hook    session s1  block  blocks=1" in text[2]
    assert len(repo.gate("history", "-n", "1", "--format", "json").json) == 1
    assert repo.gate("history", "--limit", "-1").returncode == 2


def test_a_new_ruff_toml_does_not_let_the_agent_stop(repo: GateRepo) -> None:
    # A spelling no pattern list knew: ruff.toml wins over pyproject's [tool.ruff].
    repo.write("sample/bad.py", "import os\n")
    repo.write("ruff.toml", '[lint]\nignore = ["F401"]\n')
    out, _ = stop(repo)
    assert out["decision"] == "block"
    reason = out["reason"]
    assert "tamper-hidden-finding" in reason and "sample/bad.py" in reason
    assert "Invariant 1: your code must pass the base's rules" in reason
