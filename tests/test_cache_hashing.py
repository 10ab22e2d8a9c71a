"""Input hashing: only files whose stat changed are read again, and content decides."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gatekeeper.hashing import INDEX_NAME, FileHasher, interpreter_stamp

OLD = 1_600_000_000 * 10**9  # long ago: past the racy window


def _tree(root: Path) -> list[str]:
    files = {"a.py": "a = 1\n", "pkg/b.py": "b = 2\n", "pkg/c.py": "c = 3\n"}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, ns=(OLD, OLD))
    return sorted(files)


def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    root, state = tmp_path / "repo", tmp_path / "state"
    state.mkdir()
    files = _tree(root)
    first = FileHasher(state)
    digest = first.digest(root, files)
    assert first.hashed == 3
    first.save()

    again = FileHasher(state)
    assert again.digest(root, files) == digest
    assert again.hashed == 0

    (root / "pkg/b.py").write_text("b = 3\n")
    changed = FileHasher(state)
    assert changed.digest(root, files) != digest
    assert changed.hashed == 1


def test_a_new_stat_with_the_same_content_keeps_the_digest(tmp_path: Path) -> None:
    root, state = tmp_path / "repo", tmp_path / "state"
    state.mkdir()
    files = _tree(root)
    hasher = FileHasher(state)
    digest = hasher.digest(root, files)
    hasher.save()
    os.utime(root / "a.py", ns=(OLD + 10**9, OLD + 10**9))
    later = FileHasher(state)
    assert later.digest(root, files) == digest
    assert later.hashed == 1  # re-read to verify, not trusted


def test_recently_modified_files_are_always_rehashed(tmp_path: Path) -> None:
    root, state = tmp_path / "repo", tmp_path / "state"
    state.mkdir()
    (root).mkdir()
    (root / "fresh.py").write_text("x = 1\n")  # mtime: now, inside the racy window
    hasher = FileHasher(state)
    hasher.digest(root, ["fresh.py"])
    hasher.save()
    again = FileHasher(state)
    again.digest(root, ["fresh.py"])
    assert again.hashed == 1


def test_a_corrupt_index_is_ignored(tmp_path: Path) -> None:
    root, state = tmp_path / "repo", tmp_path / "state"
    state.mkdir()
    files = _tree(root)
    expected = FileHasher(None).digest(root, files)
    (state / INDEX_NAME).write_text('{"version": 1, "entries": {"x": [1, 2')
    hasher = FileHasher(state)
    assert hasher.digest(root, files) == expected
    hasher.save()
    assert FileHasher(state).digest(root, files) == expected


def test_a_missing_file_hashes_differently_from_an_empty_one(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("")
    hasher = FileHasher(None)
    assert hasher.digest(tmp_path, ["empty.py"]) != hasher.digest(tmp_path, ["gone.py"])


def test_installing_a_package_changes_the_interpreter_stamp(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    (site,) = (venv / "lib").glob("python3*/site-packages")
    os.utime(site, ns=(OLD, OLD))  # so the install below surely moves the mtime
    before = interpreter_stamp(python)
    assert interpreter_stamp(python) == before
    (site / "newtool-1.0.dist-info").mkdir()  # what an install leaves behind
    assert interpreter_stamp(python) != before
