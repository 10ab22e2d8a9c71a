"""State the checked change can write is not trusted (issue 10, T3).

A scripted fixer (the only fake) forges what the gate keeps in the repository — cached results,
the hash index, the baseline, the pre-push hook — and an agent commits its cheat before its
first Stop. Everything else is real: git, pytest, ruff, the loop and the hooks.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from loop_support import fixer, loop, sample_repo

from gatekeeper.testing import GateRepo

PYTEST_ONLY = ("--stage", "pytest")


def test_forged_cached_results_are_not_replayed_by_the_loop_or_the_push(
    gate_repo: GateRepo, tmp_path: Path
) -> None:
    sample_repo(gate_repo, ("pytest",))
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], env=gate_repo.env, check=True)
    gate_repo.git("remote", "add", "origin", str(remote))
    assert gate_repo.gate("install").returncode == 0
    result = loop(
        gate_repo, "--agent", fixer("forge", "cache"), "--max-attempts", "2", *PYTEST_ONLY
    )
    assert result.json["stop_reason"] != "clean", result.stdout
    assert result.json["verdict"] == "failed"
    pushed = subprocess.run(
        ["git", "push", "origin", "main"],
        cwd=gate_repo.path,
        env=gate_repo.env,
        capture_output=True,
        text=True,
    )
    assert pushed.returncode != 0, pushed.stdout + pushed.stderr
    assert "assert -1 == 3" in pushed.stdout + pushed.stderr


def test_a_forged_hash_index_does_not_pass_content_that_was_never_checked(
    gate_repo: GateRepo,
) -> None:
    sample_repo(gate_repo, ())
    assert gate_repo.gate("run", *PYTEST_ONLY).returncode == 0  # cached: passed
    calc = gate_repo.path / "sample" / "calc.py"
    good = hashlib.sha256(calc.read_bytes()).hexdigest()
    calc.write_text(calc.read_text().replace("return a + b", "return a - b"))
    gate_repo.commit("the bug")
    # The forger claims the file on disk still has the content that passed.
    index_path = gate_repo.path / ".gatekeeper" / "hash-index.json"
    st = calc.stat()
    forged = {
        "version": 1,
        "entries": {str(calc): [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, good]},
    }
    index_path.write_text(json.dumps(forged))
    result = gate_repo.gate("run", *PYTEST_ONLY, "--format", "json")
    assert result.json["verdict"] == "failed", result.stdout


def test_a_fixer_cannot_baseline_its_own_findings(gate_repo: GateRepo) -> None:
    sample_repo(gate_repo, ("ruff",))
    result = loop(
        gate_repo, "--agent", fixer("forge", "baseline"), "--max-attempts", "2", "--stage", "ruff"
    )
    assert (gate_repo.path / "q.json").is_file()  # the fixer did record them
    assert result.json["stop_reason"] != "clean", result.stdout
    stages = {s["name"]: s for s in result.json["stages"]}
    assert stages["ruff"]["status"] == "failed"
    assert not any(f.get("baselined") for f in stages["ruff"]["findings"])


def test_a_fixer_that_rewrites_the_pre_push_hook_ends_the_loop_as_tamper(
    gate_repo: GateRepo,
) -> None:
    sample_repo(gate_repo, ("pytest",))
    assert gate_repo.gate("install").returncode == 0
    result = loop(gate_repo, "--agent", fixer("forge", "hook"), "--max-attempts", "2", *PYTEST_ONLY)
    assert result.json["verdict"] == "passed"  # the code itself was fixed
    assert result.json["stop_reason"] == "tamper", result.stdout
    (attempt,) = [a for a in result.json["attempts"] if a.get("fixer")]
    hook = gate_repo.path / ".git" / "hooks" / "pre-push"
    assert attempt["hooks_changed"] == [str(hook)]
    assert str(hook) in result.json["handoff"]


def _event(repo: GateRepo, event: str) -> dict[str, Any]:
    payload = {"session_id": "s-base", "cwd": str(repo.path), "hook_event_name": event}
    done = repo.gate("hook", "claude-stop", "--stage", "ruff", input=json.dumps(payload))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else {}


def test_the_session_base_is_fixed_at_session_start_out_of_the_agents_reach(
    gate_repo: GateRepo,
) -> None:
    sample_repo(gate_repo, ("ruff",))
    assert _event(gate_repo, "SessionStart") == {}
    # The agent silences the finding and commits before its first Stop, then rewrites the
    # ledger so that the session seems to start at its cheat.
    calc = gate_repo.path / "sample" / "calc.py"
    calc.write_text(calc.read_text().replace("    spare = 2\n", "    spare = 2  # noqa\n"))
    gate_repo.commit("tidy")
    ledger = gate_repo.path / ".gatekeeper" / "ledger.jsonl"
    head = gate_repo.git("rev-parse", "HEAD").strip()
    forged = {"kind": "hook", "session_id": "s-base", "base": head, "decision": "stop"}
    ledger.parent.mkdir(exist_ok=True)
    with ledger.open("a", encoding="utf-8") as out:
        out.write(json.dumps(forged) + "\n")
    decision = _event(gate_repo, "Stop")
    assert decision.get("decision") == "block", decision
    assert "tamper-noqa" in decision["reason"]
