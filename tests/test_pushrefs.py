"""Turning git's pre-push lines into checks, on a real repository (no gate run)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from gatekeeper.errors import GatekeeperError
from gatekeeper.push import refs as pushrefs
from gatekeeper.testing import GateRepo

ZERO = "0" * 40


def test_malformed_lines_are_errors_and_blank_lines_ignored() -> None:
    sha = "a" * 40
    assert pushrefs.parse_lines(f"\nrefs/heads/x {sha} refs/heads/x {ZERO}\n\n") == [
        pushrefs.PushedRef("refs/heads/x", sha, "refs/heads/x", ZERO)
    ]
    for bad in ("refs/heads/x abc refs/heads/x def", "only three fields here", "a b c d e"):
        with pytest.raises(GatekeeperError):
            pushrefs.parse_lines(bad)


def test_plan_checks(gate_repo: GateRepo) -> None:
    gate_repo.write("a.py", "A = 1\n")
    first = gate_repo.commit("first")
    gate_repo.write("b.py", "B = 1\n")
    second = gate_repo.commit("second")
    gate_repo.git("update-ref", "refs/remotes/origin/main", first)
    gate_repo.git("symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    gate_repo.git("notes", "add", "-m", "a note", second)
    notes = gate_repo.git("rev-parse", "refs/notes/commits").strip()
    gate_repo.git("tag", "-a", "v1", "-m", "v1")
    tag_object = gate_repo.git("rev-parse", "v1").strip()
    lines = "\n".join(
        [
            f"refs/heads/main {second} refs/heads/main {first}",
            f"refs/heads/main {second} refs/heads/copy {ZERO}",
            f"(delete) {ZERO} refs/heads/old {first}",
            f"refs/notes/commits {notes} refs/notes/commits {ZERO}",
            f"refs/tags/v1 {tag_object} refs/tags/v1 {ZERO}",
        ]
    )
    checks, skipped = pushrefs.plan_checks(gate_repo.path, "origin", pushrefs.parse_lines(lines))
    # One commit, pushed by three refs (the annotated tag peeled to it), checked once.
    assert checks == [
        pushrefs.Check(
            second,
            first,
            ("refs/heads/main", "refs/heads/copy", "refs/tags/v1"),
            f"since {first[:10]} (what origin has)",
        )
    ]
    assert [s.ref for s in skipped] == ["refs/heads/old", "refs/notes/commits"]


def test_new_branch_without_a_remote_branch_checks_everything(gate_repo: GateRepo) -> None:
    gate_repo.write("a.py", "A = 1\n")
    sha = gate_repo.commit("first")
    ref = pushrefs.PushedRef("refs/heads/main", sha, "refs/heads/main", ZERO)
    assert pushrefs.base_for(gate_repo.path, "origin", ref, sha)[0] is None


def test_hook_refuses_a_terminal_on_stdin(gate_repo: GateRepo) -> None:
    gate_repo.commit("empty")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "gatekeeper", "hook", "pre-push", "origin", "url"],
            cwd=gate_repo.path,
            env=gate_repo.env,
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(leader)
        os.close(follower)
    assert done.returncode == 2
    assert "stdin is a terminal" in done.stderr
