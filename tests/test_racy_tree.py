"""The tree a verdict names is the tree on disk, even when git's stat cache is "racy".

git trusts an index entry's cached size and mtime only for files older than the index
itself; a file rewritten in the index's own second, at the same size, must be re-read
(git's Documentation/technical/racy-git.txt). A private copy of the index stamped with a new
mtime loses that protection, and the gate would name — and replay a cached verdict for — the
tree before the rewrite.
"""

from __future__ import annotations

import os
import subprocess

from gatekeeper import git
from gatekeeper.testing import GateRepo


def racy_rewrite(repo: GateRepo, rel: str, text: str) -> None:
    """Rewrite ``rel`` at the same size and mtime, in the same second as the index."""
    path = repo.path / rel
    assert len(text.encode()) == path.stat().st_size, "the rewrite must keep the size"
    # ctime cannot be set; with trustctime off (a common setting) mtime and size decide
    repo.git("config", "core.trustctime", "false")
    past = (int(path.stat().st_mtime) - 100) * 10**9
    os.utime(path, ns=(past, past))
    repo.git("update-index", "--really-refresh")
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(past, past))
    os.utime(repo.path / ".git" / "index", ns=(past, past))
    # --no-optional-locks: a plain status would refresh (and so repair) the index
    seen = repo.git("--no-optional-locks", "status", "--porcelain", "--", rel)
    assert seen.strip() == f"M {rel}", "git itself sees the rewrite"


def test_tree_hash_reads_a_racily_rewritten_file(gate_repo: GateRepo) -> None:
    gate_repo.write("f.py", "a = 1\n")
    gate_repo.commit("base")
    racy_rewrite(gate_repo, "f.py", "a = 2\n")
    tree = git.tree_hash(gate_repo.path)
    listed = gate_repo.git("ls-tree", tree, "f.py").split()[2]
    on_disk = subprocess.run(
        ["git", "hash-object", "f.py"], cwd=gate_repo.path, capture_output=True, text=True
    ).stdout.strip()
    assert listed == on_disk


def test_no_cached_pass_for_a_racily_rewritten_tree(gate_repo: GateRepo) -> None:
    gate_repo.scaffold(commit=False)
    gate_repo.write("sample/extra.py", "VALUE = 1\n")
    gate_repo.commit("clean")
    first = gate_repo.gate("run", "--all", "--stage", "ruff", "--format", "json")
    assert first.returncode == 0, first.stdout + first.stderr
    racy_rewrite(gate_repo, "sample/extra.py", "VALUE = Q\n")  # F821: undefined name
    again = gate_repo.gate("run", "--all", "--stage", "ruff", "--format", "json")
    assert again.returncode == 1, again.stdout + again.stderr
    (stage,) = again.json["stages"]
    assert [f["rule"] for f in stage["findings"]] == ["F821"]


def test_tamper_sees_a_racily_rewritten_suppression(gate_repo: GateRepo) -> None:
    gate_repo.scaffold(commit=False)
    gate_repo.write("sample/extra.py", "VALUE = 1  # note\n")
    gate_repo.commit("base")
    racy_rewrite(gate_repo, "sample/extra.py", "VALUE = 1  # noqa\n")
    done = gate_repo.gate("run", "--stage", "tamper", "--base", "HEAD", "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    (stage,) = done.json["stages"]
    assert [f["rule"] for f in stage["findings"]] == ["tamper-noqa"]
