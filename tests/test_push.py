"""The pre-push hook with real git, a real bare remote and `git push` run for real."""

from __future__ import annotations

from pathlib import Path

import pytest
from push_support import LINT_ERROR, TYPE_ERROR, PushRepo, make_push_repo

from gatekeeper.testing import CLEAN_MODULE, CLEAN_TEST


@pytest.fixture
def pr(tmp_path: Path) -> PushRepo:
    return make_push_repo(tmp_path)


def test_defect_is_rejected_and_clean_commit_accepted(pr: PushRepo) -> None:
    first = pr.push("origin", "main")
    assert first.returncode == 0, first.output
    head = pr.git("rev-parse", "HEAD").strip()
    assert f"checking commit {head[:12]}" in first.output
    assert pr.remote_sha("main") == head

    pr.write("sample/bad.py", TYPE_ERROR)
    broken = pr.commit("type error")
    rejected = pr.push("origin", "main")
    assert rejected.returncode != 0, rejected.output
    assert "FAILED: commit " + broken[:12] in rejected.output
    assert "sample/bad.py" in rejected.output
    assert "git push --no-verify" in rejected.output
    assert pr.remote_sha("main") == head  # the remote never saw the broken commit
    pr.assert_clean()


def test_the_commit_decides_not_the_working_tree(pr: PushRepo) -> None:
    # A clean commit passes while the working tree holds an uncommitted defect.
    pr.write("sample/extra.py", '"""Extra."""\n\nVALUE: int = 1\n')
    clean = pr.commit("clean change")
    pr.write("sample/extra.py", f'"""Extra."""\n\n{TYPE_ERROR}')
    pr.write("sample/untracked.py", TYPE_ERROR)
    accepted = pr.push("origin", "main")
    assert accepted.returncode == 0, accepted.output
    assert f"checking commit {clean[:12]}" in accepted.output
    assert "in a temporary worktree" in accepted.output
    assert pr.remote_sha("main") == clean
    pr.assert_clean()

    # A broken commit is rejected although the working tree holds the (uncommitted) fix.
    pr.write("sample/untracked.py", '"""Now fine."""\n')
    pr.git("add", "sample/untracked.py")
    pr.write("sample/extra.py", f'"""Extra."""\n\n{TYPE_ERROR}')
    broken = pr.commit("broken change")
    pr.write("sample/extra.py", '"""Extra."""\n\nVALUE: int = 2\n')
    rejected = pr.push("origin", "main")
    assert rejected.returncode != 0, rejected.output
    assert f"FAILED: commit {broken[:12]}" in rejected.output
    assert "sample/extra.py" in rejected.output
    assert pr.remote_sha("main") == clean
    pr.assert_clean()


def test_two_branches_only_the_second_broken(pr: PushRepo) -> None:
    assert pr.push("--no-verify", "origin", "main").returncode == 0  # setup
    pr.git("checkout", "-q", "-b", "good")
    pr.write("sample/good.py", '"""Good."""\n\nGOOD: int = 1\n')
    good = pr.commit("good")
    pr.git("checkout", "-q", "main")
    pr.git("checkout", "-q", "-b", "bad")
    pr.write("sample/bad.py", TYPE_ERROR)
    bad = pr.commit("bad")
    pr.git("checkout", "-q", "main")
    pushed = pr.push("origin", "good", "good:refs/heads/good-copy", "bad")
    assert pushed.returncode != 0, pushed.output
    # The commit two refs push is checked once.
    assert pushed.output.count(f"checking commit {good[:12]}") == 1
    assert f"PASSED: commit {good[:12]} (refs/heads/good, refs/heads/good-copy)" in pushed.output
    assert f"FAILED: commit {bad[:12]} (refs/heads/bad)" in pushed.output
    assert pr.remote_sha("good") is None and pr.remote_sha("bad") is None
    pr.assert_clean()


def test_new_branch_is_measured_from_the_merge_base(pr: PushRepo) -> None:
    # main on the remote carries a lint defect (pushed past the gate on purpose).
    pr.write("sample/legacy.py", LINT_ERROR)
    pr.commit("legacy lint")
    assert pr.push("--no-verify", "origin", "main").returncode == 0
    fork = pr.git("rev-parse", "HEAD").strip()
    pr.git("checkout", "-q", "-b", "feature")
    pr.write("sample/feature.py", '"""Feature."""\n\nFLAG: bool = True\n')
    pr.commit("feature")
    pushed = pr.push("-u", "origin", "feature")
    # ruff sees only the branch's own change, so the old defect does not block it.
    assert pushed.returncode == 0, pushed.output
    assert f"since {fork[:10]} (merge-base with origin/main)" in pushed.output
    assert "sample/legacy.py" not in pushed.output

    # --all-files widens the scope to every file: the old defect is found, and it is
    # existing (at the base already), so only --all makes it block.
    sha = pr.git("rev-parse", "HEAD").strip()
    line = f"refs/heads/feature {sha} refs/heads/feature {'0' * 40}\n"
    hook = ("hook", "pre-push", "origin", str(pr.remote), "--all-files")
    every = pr.repo.gate(*hook, input=line)
    assert every.returncode == 0, every.stdout + every.stderr
    assert "1 existing finding (already at the base, not blocking): ruff 1" in every.stdout
    strict = pr.repo.gate(*hook, "--all", input=line)
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "sample/legacy.py" in strict.stdout
    # The same override for `gatekeeper run --base`.
    narrow = pr.repo.gate("run", "--stage", "ruff", "--base", "HEAD")
    assert narrow.returncode == 0, narrow.stdout + narrow.stderr
    wide = pr.repo.gate("run", "--stage", "ruff", "--base", "HEAD", "--all-files", "--all")
    assert wide.returncode == 1 and "sample/legacy.py" in wide.stdout
    pr.assert_clean()


def test_deletion_runs_no_gate_and_tags_are_checked(pr: PushRepo) -> None:
    assert pr.push("--no-verify", "origin", "main").returncode == 0  # setup
    pr.git("branch", "old")
    assert pr.push("--no-verify", "origin", "old").returncode == 0
    deleted = pr.push("origin", "--delete", "old")
    assert deleted.returncode == 0, deleted.output
    assert "refs/heads/old: deleted: nothing to check" in deleted.output
    assert "checking commit" not in deleted.output
    assert pr.remote_sha("old") is None

    # A tag of the pushed main: nothing new to check, accepted.
    pr.git("tag", "v1")
    light = pr.push("origin", "v1")
    assert light.returncode == 0, light.output
    assert "refs/tags/v1" in light.output

    # An annotated tag of a broken commit that no branch has pushed: rejected.
    pr.git("checkout", "-q", "--detach")
    pr.write("sample/bad.py", TYPE_ERROR)
    broken = pr.commit("broken release")
    pr.git("tag", "-a", "v2", "-m", "release 2")
    pr.git("checkout", "-q", "main")
    tagged = pr.push("origin", "v2")
    assert tagged.returncode != 0, tagged.output
    assert f"FAILED: commit {broken[:12]} (refs/tags/v2)" in tagged.output
    assert pr.remote_sha("v2") is None
    pr.assert_clean()


def test_force_push_after_rebase(pr: PushRepo) -> None:
    assert pr.push("--no-verify", "origin", "main").returncode == 0  # setup
    pr.git("checkout", "-q", "-b", "topic")
    pr.write("sample/topic.py", '"""Topic."""\n\nTOPIC: int = 1\n')
    pr.commit("topic")
    assert pr.push("--no-verify", "origin", "topic").returncode == 0
    pr.git("checkout", "-q", "main")
    pr.write("sample/more.py", '"""More."""\n\nMORE: int = 1\n')
    pr.commit("more on main")
    assert pr.push("--no-verify", "origin", "main").returncode == 0  # setup
    pr.git("checkout", "-q", "topic")
    pr.git("rebase", "-q", "main")
    pr.write("sample/topic.py", f'"""Topic."""\n\n{TYPE_ERROR}')
    broken = pr.commit("topic, broken while rebasing")
    rejected = pr.push("--force", "origin", "topic")
    assert rejected.returncode != 0, rejected.output
    assert f"FAILED: commit {broken[:12]}" in rejected.output
    pr.write("sample/topic.py", '"""Topic."""\n\nTOPIC: int = 2\n')
    fixed = pr.commit("topic, fixed")
    accepted = pr.push("--force", "origin", "topic")
    assert accepted.returncode == 0, accepted.output
    assert pr.remote_sha("topic") == fixed
    pr.assert_clean()


def test_paths_with_spaces_and_non_ascii(tmp_path: Path) -> None:
    pr = make_push_repo(tmp_path / "dir with spaces ü", "répo ñ")
    pr.write("tools dir/scrïpt ü.py", LINT_ERROR)
    pr.commit("lint defect in an awkward path")
    rejected = pr.push("origin", "main")
    assert rejected.returncode != 0, rejected.output
    assert "tools dir/scrïpt ü.py" in rejected.output
    pr.write("tools dir/scrïpt ü.py", '"""Fine now."""\n')
    pr.commit("fixed")
    pr.write("tools dir/scrïpt ü.py", LINT_ERROR)  # dirty again: forces the snapshot
    accepted = pr.push("origin", "main")
    assert accepted.returncode == 0, accepted.output
    assert "in a temporary worktree" in accepted.output
    pr.assert_clean()


def test_repository_used_through_a_linked_worktree(pr: PushRepo) -> None:
    assert pr.push("--no-verify", "origin", "main").returncode == 0  # setup
    linked = pr.path.parent / "linked"
    pr.git("worktree", "add", "-q", "-b", "side", str(linked))
    (linked / "sample" / "side.py").write_text(TYPE_ERROR)
    pr.git("-C", str(linked), "add", "--all")
    pr.git("-C", str(linked), "commit", "-q", "-m", "broken on the side")
    rejected = pr.push("origin", "side", cwd=linked)
    assert rejected.returncode != 0, rejected.output
    assert "sample/side.py" in rejected.output
    (linked / "sample" / "side.py").write_text('"""Side."""\n\nSIDE: int = 1\n')
    pr.git("-C", str(linked), "commit", "-q", "-am", "fixed on the side")
    accepted = pr.push("origin", "side", cwd=linked)
    assert accepted.returncode == 0, accepted.output
    assert "in a temporary worktree" in accepted.output
    # Only the two real worktrees remain; no snapshot left anywhere.
    assert len(pr.worktrees()) == 2
    assert pr.leftovers() == []


def test_skips_are_loud_and_docs_only_pushes_skip_whole_program_stages(pr: PushRepo) -> None:
    assert pr.push("--no-verify", "origin", "main").returncode == 0  # setup
    pr.write("README.md", "# sample\n")
    pr.commit("docs only")
    docs = pr.push("origin", "main")
    assert docs.returncode == 0, docs.output
    assert "no relevant files changed" in docs.output  # mypy and pytest, with the reason

    pr.write("sample/bad.py", TYPE_ERROR)
    pr.commit("type error, pushed with mypy skipped on purpose")
    skipped = pr.push("origin", "main", env={"GATEKEEPER_SKIP": "mypy"})
    assert skipped.returncode == 0, skipped.output
    assert "WARNING: skipping mypy on request" in skipped.output
    assert "NOT fully checked" in skipped.output
    assert "skipped on request" in skipped.output  # the stage line says so too


def test_malformed_hook_input_blocks(pr: PushRepo) -> None:
    done = pr.repo.gate("hook", "pre-push", "origin", "url", input="not what git sends\n")
    assert done.returncode == 2
    assert "unexpected pre-push input line" in done.stderr


def test_a_new_branch_that_cheats_is_judged_against_the_local_default_branch(
    pr: PushRepo,
) -> None:
    # Nothing on the remote yet: the branch is compared with its fork from local main.
    fork = pr.git("rev-parse", "HEAD").strip()
    pr.git("checkout", "-q", "-b", "feature")
    pr.write("sample/__init__.py", CLEAN_MODULE.replace("a + b", "a - b"))  # the bug ...
    pr.write("tests/test_sample.py", CLEAN_TEST.replace("== 3", "== -1"))  # ... made "right"
    pr.write("sample/typed.py", TYPE_ERROR)
    pr.write("mypy.ini", "[mypy]\nignore_errors = True\n")  # wins over pyproject
    pr.commit("cheat")
    pushed = pr.push("origin", "feature")
    assert pushed.returncode != 0, pushed.output
    assert f"since {fork[:10]} (merge-base with local main)" in pushed.output
    assert "tamper-base-test" in pushed.output and "test_sample.py::test_add" in pushed.output
    assert "tamper-hidden-finding" in pushed.output and "sample/typed.py" in pushed.output
    assert pr.remote_sha("feature") is None
    # The honest fix (tests as they were) goes through, with no tamper finding.
    pr.write("sample/__init__.py", CLEAN_MODULE)
    pr.write("tests/test_sample.py", CLEAN_TEST)
    pr.write("sample/typed.py", "def fixed() -> int:\n    return 1\n")
    (pr.path / "mypy.ini").unlink()
    pr.commit("fix")
    pushed = pr.push("origin", "feature")
    assert pushed.returncode == 0, pushed.output
    assert "tamper" not in pushed.output.replace("✓ tamper", "")
    pr.assert_clean()
