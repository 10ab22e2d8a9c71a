"""The result cache, end to end: replay, invalidation, corruption, --no-cache, concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gatekeeper.cache import ResultCache
from gatekeeper.models import Finding, StageResult
from gatekeeper.testing import GateRepo

BAD_MODULE = '''\
"""A module with a lint finding and a type error."""

import os


def name() -> int:
    """Return the wrong type."""
    return "x"
'''


def _stages(result):  # the parts of a report that must not depend on the cache
    return [
        (s["name"], s["status"], s["files_checked"], s["findings"]) for s in result.json["stages"]
    ]


def _cached(result) -> dict[str, bool]:
    return {s["name"]: s["cached"] for s in result.json["stages"]}


@pytest.fixture
def failing(gate_repo: GateRepo) -> GateRepo:
    gate_repo.scaffold()
    gate_repo.write("sample/bad.py", BAD_MODULE)
    gate_repo.commit("bad module")
    return gate_repo


def _run(repo: GateRepo, *args: str):
    return repo.gate("run", "--stage", "ruff", "--stage", "mypy", "--format", "json", *args)


def test_a_cached_failure_is_replayed_exactly_and_no_cache_bypasses(failing: GateRepo) -> None:
    first = _run(failing)
    assert first.returncode == 1, first.stderr
    assert _cached(first) == {"ruff": False, "mypy": False}
    rules = {f["rule"] for s in first.json["stages"] for f in s["findings"]}
    assert {"F401", "return-value"} <= rules

    second = _run(failing)
    assert second.returncode == 1 and second.json["verdict"] == "failed"
    assert _cached(second) == {"ruff": True, "mypy": True}
    assert _stages(second) == _stages(first)

    bypass = _run(failing, "--no-cache")
    assert bypass.returncode == 1
    assert _cached(bypass) == {"ruff": False, "mypy": False}
    assert _stages(bypass) == _stages(first)

    text = failing.gate("run", "--stage", "ruff")
    assert "(cached)" in text.stdout + text.stderr


def test_touching_an_input_invalidates_exactly_that_stage(gate_repo: GateRepo) -> None:
    gate_repo.scaffold()
    extra = ("--stage", "pytest")
    warm = _run(gate_repo, *extra)
    assert warm.returncode == 0, warm.stdout + warm.stderr
    assert all(_cached(_run(gate_repo, *extra)).values())

    # Same content, new mtime: the stat changed but the content hash did not.
    module = gate_repo.path / "sample" / "__init__.py"
    os.utime(module, ns=(module.stat().st_atime_ns, module.stat().st_mtime_ns + 10**9))
    assert all(_cached(_run(gate_repo, *extra)).values())

    # Tests run the project's code, which may read any file: a data file is pytest's alone.
    gate_repo.write("tests/data.txt", "fixture\n")
    assert _cached(_run(gate_repo, *extra)) == {"ruff": True, "mypy": True, "pytest": False}

    # A tool's config file: that tool's stage (and pytest, which sees every file).
    gate_repo.write("mypy.ini", "[mypy]\nwarn_unused_ignores = True\n")
    assert _cached(_run(gate_repo, *extra)) == {"ruff": True, "mypy": False, "pytest": False}

    gate_repo.write("ruff.toml", "line-length = 100\n")
    assert _cached(_run(gate_repo, *extra)) == {"ruff": False, "mypy": True, "pytest": False}

    gate_repo.write("tests/conftest.py", "")  # python: every stage here reads it
    assert _cached(_run(gate_repo, *extra)) == {"ruff": False, "mypy": False, "pytest": False}

    gate_repo.write("tests/conftest.py", "import os\n")
    changed = _run(gate_repo, *extra)
    assert changed.returncode == 1  # an unused import now: the cache never hides it
    assert _cached(changed) == {"ruff": False, "mypy": False, "pytest": False}

    # Environment that steers the tools is part of the key too.
    only_ruff = ("run", "--stage", "ruff", "--format", "json")
    assert _cached(gate_repo.gate(*only_ruff)) == {"ruff": True}
    assert _cached(gate_repo.gate(*only_ruff, env={"PYTEST_ADDOPTS": "-q"})) == {"ruff": False}


def test_a_corrupt_entry_is_ignored_and_rebuilt(failing: GateRepo) -> None:
    first = _run(failing)
    entries = sorted((failing.path / ".gatekeeper" / "cache" / "results").glob("*.json"))
    assert len(entries) == 2
    entries[0].write_text(entries[0].read_text()[:40])  # half-written
    entries[1].write_text("")
    again = _run(failing)
    assert again.returncode == 1
    assert _cached(again) == {"ruff": False, "mypy": False}
    assert _stages(again) == _stages(first)
    assert all(_cached(_run(failing)).values())


def test_config_cache_false_and_command_stages_are_not_reused(gate_repo: GateRepo) -> None:
    gate_repo.scaffold(commit=False)
    with (gate_repo.path / "pyproject.toml").open("a") as fh:
        fh.write(
            '\n[tool.gatekeeper.commands.always]\nrun = "true"\n'
            '\n[tool.gatekeeper.commands.stable]\nrun = "true"\ncache = true\n'
        )
    gate_repo.commit()
    run = ("run", "--stage", "always", "--stage", "stable", "--format", "json")
    gate_repo.gate(*run)
    assert _cached(gate_repo.gate(*run)) == {"always": False, "stable": True}

    with (gate_repo.path / "pyproject.toml").open("a") as fh:
        fh.write("\n[tool.gatekeeper]\ncache = false\n")
    result = gate_repo.gate(*run)
    assert result.returncode == 0, result.stderr
    assert _cached(result) == {"always": False, "stable": False}


def test_errors_are_never_stored(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path)
    finding = Finding("s", "t", "r", "a.py", 1, 1, "m")
    assert not cache.put("k1", StageResult("s", "error", reason="crashed"))
    assert cache.get("k1") is None
    assert cache.put("k2", StageResult("s", "failed", 1.0, findings=(finding,)))
    assert cache.get("k2") == StageResult("s", "failed", 1.0, findings=(finding,))


def test_the_cache_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, max_entries=10)
    for i in range(15):
        cache.put(f"k{i}", StageResult("s", "passed"))
        os.utime(tmp_path / f"k{i}.json", ns=(i * 10**9, i * 10**9))
    os.utime(tmp_path / "k0.json", ns=(100 * 10**9, 100 * 10**9))  # recently used
    assert cache.prune() == 7
    left = {p.stem for p in tmp_path.glob("*.json")}
    assert left == {"k0", "k8", "k9", "k10", "k11", "k12", "k13", "k14"}  # down to 80%


def test_twenty_concurrent_runs_share_one_cache(gate_repo: GateRepo, tmp_path: Path) -> None:
    gate_repo.scaffold()
    gate_repo.git("worktree", "add", "--quiet", str(tmp_path / "broken"), "-b", "broken")
    broken = GateRepo(tmp_path / "broken", gate_repo.env)
    broken.write("sample/bad.py", BAD_MODULE)
    broken.commit("bad")
    cmd = [sys.executable, "-m", "gatekeeper", "run", "--stage", "ruff", "--stage", "radon"]

    def run(i: int) -> tuple[str, int]:
        where = gate_repo.path if i % 2 else broken.path
        done = subprocess.run(
            [*cmd, "--format", "json"],
            cwd=where,
            env=gate_repo.env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        return ("clean" if i % 2 else "broken"), done.returncode

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(run, range(20)))
    assert outcomes == [("broken", 1), ("clean", 0)] * 10
    # Both worktrees share the main worktree's state dir, and the entries are intact.
    assert not (broken.path / ".gatekeeper").exists()
    again = broken.gate(*cmd[3:], "--format", "json")
    assert again.returncode == 1 and all(_cached(again).values())
    clean = gate_repo.gate(*cmd[3:], "--format", "json")
    assert clean.returncode == 0 and all(_cached(clean).values())
