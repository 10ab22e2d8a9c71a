"""Sealed push verdicts: a tree that passed the push gate against a base is replayed, never
anything else.

Real git, the real pre-push hook command (fed git's ref lines on stdin, as ``git push`` does)
and the real stages; the loop test drives ``gatekeeper loop`` with a scripted fixer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from loop_support import fixer, ledger, loop, sample_repo
from push_support import TYPE_ERROR, PushRepo, make_push_repo

from gatekeeper.testing import CLEAN_MODULE, GateRepo, GateResult


@pytest.fixture
def pr(tmp_path: Path) -> PushRepo:
    return make_push_repo(tmp_path)


def _hook(
    repo: GateRepo, commit: str, base: str, *args: str, env: dict[str, str] | None = None
) -> GateResult:
    line = f"refs/heads/main {commit} refs/heads/main {base}\n"
    return repo.gate(
        "hook", "pre-push", "origin", "url", "--format", "json", *args, input=line, env=env
    )


def _replayed(done: GateResult) -> bool:
    return "replayed" in done.stderr


def _records(repo: GateRepo) -> list[Path]:
    return sorted((repo.path / ".gatekeeper" / "cache" / "verdicts").glob("*.json"))


def _stages(done: GateResult) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in done.json["stages"]}


def test_a_passed_tree_is_replayed_only_for_the_same_tree_base_and_settings(
    pr: PushRepo,
) -> None:
    repo = pr.repo
    base = repo.git("rev-parse", "HEAD").strip()
    pr.write("sample/extra.py", '"""More."""\n\n\ndef three() -> int:\n    return 3\n')
    commit = pr.commit("add a module")
    tree = repo.git("rev-parse", f"{commit}^{{tree}}").strip()

    first = _hook(repo, commit, base)
    assert first.returncode == 0, first.stdout + first.stderr
    assert not _replayed(first) and "checking commit" in first.stderr
    assert len(_records(repo)) == 1

    again = _hook(repo, commit, base)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _replayed(again) and "checking commit" not in again.stderr
    assert again.json["verdict"] == "passed"
    assert (again.json["tree"], again.json["commit"]) == (tree, commit)
    assert again.json["base"]["commit"] == base
    assert all(s["cached"] for s in again.json["stages"])
    assert {"pytest", "mypy", "tamper"} <= set(_stages(again))
    # A replayed push is a run of the history like any other.
    runs = [r for r in ledger(repo) if r["kind"] == "run" and r.get("trigger") == "pre-push"]
    assert len(runs) == 2

    # The same tree under another commit (an amended message) is the same verdict.
    repo.git("commit", "--quiet", "--amend", "-m", "reworded")
    amended = repo.git("rev-parse", "HEAD").strip()
    assert _replayed(_hook(repo, amended, base))

    # Anything else in the key: checked again.
    assert not _replayed(_hook(repo, commit, base, "--no-cache"))
    assert not _replayed(_hook(repo, commit, base, "--skip", "mypy"))
    assert not _replayed(_hook(repo, commit, base, env={"PYTEST_ADDOPTS": "-p no:warnings"}))
    pr.write("sample/extra.py", '"""More."""\n\n\ndef three() -> int:\n    return 4\n')
    other = pr.commit("another tree")
    assert not _replayed(_hook(repo, other, base))
    assert _replayed(_hook(repo, other, base))
    # Against another base (its parent, whose tree differs) the change is judged anew.
    assert not _replayed(_hook(repo, other, amended))


def test_a_push_that_fails_is_never_sealed_and_a_changed_record_is_ignored(
    pr: PushRepo,
) -> None:
    repo = pr.repo
    base = repo.git("rev-parse", "HEAD").strip()
    pr.write("sample/broken.py", TYPE_ERROR)
    broken = pr.commit("a type error")
    for _ in range(2):
        done = _hook(repo, broken, base)
        assert done.returncode == 1, done.stdout + done.stderr
        assert not _replayed(done)
    assert _records(repo) == []

    pr.write("sample/broken.py", '"""Fixed."""\n')
    fixed = pr.commit("fixed")
    assert _hook(repo, fixed, base).returncode == 0
    (record,) = _records(repo)
    sealed = json.loads(record.read_text())
    # A writer without the user's key (a fixer in the working tree) edits the sealed body.
    sealed["sealed"] = sealed["sealed"].replace('"passed"', '"passed" ', 1)
    record.write_text(json.dumps(sealed))
    done = _hook(repo, fixed, base)
    assert done.returncode == 0 and not _replayed(done)


def test_a_clean_loop_seals_its_tree_so_the_push_that_follows_is_a_look_up(
    gate_repo: GateRepo,
) -> None:
    sample_repo(gate_repo, ("pytest",))
    start = gate_repo.git("rev-parse", "HEAD").strip()
    done = loop(gate_repo, "--agent", fixer("honest"), "--max-attempts", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["stop_reason"] == "clean"
    assert "sealed the tree for a push" in done.stderr
    # The seal's commit is on no ref, and its check is not a run of the history.
    assert gate_repo.git("for-each-ref", "--contains", "HEAD").count("\n") == 1
    assert not [r for r in ledger(gate_repo) if r.get("trigger") == "pre-push"]

    fixed = gate_repo.commit("fixed by the loop")
    pushed = _hook(gate_repo, fixed, start)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert _replayed(pushed)
    assert "tamper" in _stages(pushed)

    # What the agent slips in after the loop is another tree: checked, and blocked.
    gate_repo.write("sample/late.py", TYPE_ERROR)
    late = gate_repo.commit("one more thing")
    blocked = _hook(gate_repo, late, start)
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    assert not _replayed(blocked)


def test_verify_seals_the_tree_and_a_real_git_push_of_it_replays(pr: PushRepo) -> None:
    first = pr.push("-u", "origin", "main")
    assert first.returncode == 0, first.output
    pr.write("sample/extra.py", '"""More."""\n\n\ndef three() -> int:\n    return 3\n')
    verified = pr.repo.gate("verify", "--format", "json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    upstream = pr.git("rev-parse", "origin/main").strip()
    assert f"sealed the tree for a push against {upstream[:10]}" in verified.stderr

    pr.commit("the verified change")
    pushed = pr.push()
    assert pushed.returncode == 0, pushed.output
    assert "replayed" in pushed.output
    assert pr.remote_sha("refs/heads/main") == pr.git("rev-parse", "HEAD").strip()


def test_the_stop_hook_seals_a_passing_tree_for_the_push(gate_repo: GateRepo) -> None:
    gate_repo.scaffold(commit=False)
    pyproject = gate_repo.path / "pyproject.toml"
    text = pyproject.read_text().replace(
        "[tool.gatekeeper.stages.build]\n", "[tool.gatekeeper.stages.build]\nenabled = false\n"
    )
    pyproject.write_text(text)
    start = gate_repo.commit("clean")
    gate_repo.write("sample/extra.py", '"""More."""\n\n\ndef three() -> int:\n    return 3\n')
    gate_repo.write(
        "tests/test_extra.py",
        "from sample.extra import three\n\n\ndef test_three() -> None:\n    assert three() == 3\n",
    )
    event = {
        "session_id": "s1",
        "transcript_path": "/nonexistent/transcript.jsonl",
        "cwd": str(gate_repo.path),
        "hook_event_name": "Stop",
        "stop_hook_active": False,
    }
    done = gate_repo.gate("hook", "claude-stop", input=json.dumps(event))
    assert done.returncode == 0 and "decision" not in json.loads(done.stdout), done.stdout
    assert "sealed the tree for a push" in done.stderr, done.stderr

    pushed = _hook(gate_repo, gate_repo.commit("the agent's change"), start)
    assert pushed.returncode == 0 and _replayed(pushed), pushed.stdout + pushed.stderr


BROKEN_ADD = CLEAN_MODULE.replace("return a + b", "return a - b")


def _broken_commit(pr: PushRepo) -> tuple[str, str]:
    """A commit whose ``add`` subtracts (the test fails), and its base."""
    base = pr.git("rev-parse", "HEAD").strip()
    pr.write("sample/__init__.py", BROKEN_ADD)
    return pr.commit("subtracts"), base


def test_the_snapshot_is_the_commit_as_committed_not_what_the_clone_substitutes(
    pr: PushRepo,
) -> None:
    repo = pr.repo
    # A sparse checkout (copied by `git worktree add`) hid a new failing test from the push.
    pr.write("tests/test_more.py", "def test_more() -> None:\n    assert False\n")
    hidden = pr.commit("a failing test")
    repo.git("sparse-checkout", "set", "--no-cone", "/*", "!/tests/test_more.py")
    done = _hook(repo, hidden, repo.git("rev-parse", "HEAD~1").strip())
    assert done.returncode == 1, done.stdout + done.stderr
    repo.git("sparse-checkout", "disable")
    repo.git("reset", "--quiet", "--hard", "HEAD~1")

    # `git replace` swapped the broken blob for a good one in every checkout of this clone.
    broken, base = _broken_commit(pr)
    bad_blob = repo.git("rev-parse", f"{broken}:sample/__init__.py").strip()
    good_blob = repo.git("rev-parse", f"{base}:sample/__init__.py").strip()
    repo.git("replace", bad_blob, good_blob)
    done = _hook(repo, broken, base)
    assert done.returncode == 1, done.stdout + done.stderr
    assert _records(repo) == []


def test_a_checkout_that_differs_from_the_tree_is_never_sealed(pr: PushRepo) -> None:
    repo = pr.repo
    broken, base = _broken_commit(pr)
    # A smudge filter (the clone's own config) turns the broken code good in any checkout:
    # that push passes, as git shows it the code, but its verdict is not the tree's.
    repo.git("config", "filter.fix.smudge", "sed -e 's/a - b/a + b/'")
    (repo.path / ".git" / "info" / "attributes").write_text("sample/*.py filter=fix\n")
    smudged = _hook(repo, broken, base)
    assert smudged.returncode == 0, smudged.stdout + smudged.stderr
    assert _records(repo) == []
    (repo.path / ".git" / "info" / "attributes").unlink()
    repo.git("config", "--unset", "filter.fix.smudge")
    done = _hook(repo, broken, base)
    assert done.returncode == 1 and not _replayed(done), done.stdout + done.stderr

    # A symlink's target is outside what the tree names: no seal either.
    repo.git("reset", "--quiet", "--hard", base)
    (repo.path / "docs").mkdir()
    (repo.path / "docs" / "readme.md").symlink_to("../pyproject.toml")
    linked = pr.commit("a symlink")
    assert _hook(repo, linked, base).returncode == 0
    assert _records(repo) == []


def test_stages_that_must_always_run_keep_a_verdict_from_being_sealed(pr: PushRepo) -> None:
    repo = pr.repo
    base = repo.git("rev-parse", "HEAD").strip()
    flag = repo.path.parent / "flag"
    text = (repo.path / "pyproject.toml").read_text()
    command = f'\n[tool.gatekeeper.commands.outside]\nrun = "test ! -e {flag}"\n'
    pr.write(
        "pyproject.toml",
        text.replace(
            "[tool.gatekeeper.stages.build]",
            command.strip() + "\n\n[tool.gatekeeper.stages.build]",
            1,
        ),
    )
    commit = pr.commit("a command stage that reads outside the tree")
    assert _hook(repo, commit, base).returncode == 0
    assert _records(repo) == []
    flag.write_text("set\n")
    done = _hook(repo, commit, base)
    assert done.returncode == 1 and not _replayed(done), done.stdout + done.stderr


def test_a_damaged_record_is_no_record(pr: PushRepo) -> None:
    repo = pr.repo
    base = repo.git("rev-parse", "HEAD").strip()
    pr.write("sample/extra.py", '"""More."""\n')
    commit = pr.commit("more")
    assert _hook(repo, commit, base).returncode == 0
    (record,) = _records(repo)
    record.write_bytes(b"\xff\xfe not a record")
    done = _hook(repo, commit, base)
    assert done.returncode == 0 and not _replayed(done), done.stdout + done.stderr
    assert "Traceback" not in done.stderr
