"""An interrupted push leaves no temporary worktree, file or tool process behind."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from push_support import PUSH_PYPROJECT, make_push_repo


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" in status


def _wait_for(predicate, what: str, limit: float = 120.0) -> None:
    # Polls for a state, not a duration: the bound only keeps a broken run from hanging.
    end = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < end, f"never saw: {what}"
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("sig", "dirty"),
    [(signal.SIGTERM, True), (signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["sigterm-snapshot", "sigint-snapshot", "sigterm-in-place"],
)
def test_interrupted_push_cleans_up(tmp_path: Path, sig: signal.Signals, dirty: bool) -> None:
    pr = make_push_repo(tmp_path)
    marker = tmp_path / "slow-started"
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text(
        "import os, pathlib, sys, time\n"
        "pathlib.Path(sys.argv[1]).write_text(f'{os.getpid()} {os.getppid()}')\n"
        "time.sleep(300)\n"
    )
    command = [sys.executable, str(sleeper), str(marker)]
    pr.write(
        "pyproject.toml",
        PUSH_PYPROJECT
        + f"\n[tool.gatekeeper.commands.slow]\nrun = {json.dumps(shlex.join(command))}\n",
    )
    pr.commit("a slow stage")
    if dirty:
        pr.write("sample/dirty.py", "x = 1\n")  # the commit is checked in a snapshot
    push = subprocess.Popen(
        ["git", "push", "origin", "main"],
        cwd=pr.path,
        env=pr.repo.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def started():
            return push.poll() is not None or (marker.exists() and marker.read_text())

        _wait_for(started, "the slow stage start")
        assert push.poll() is None, push.communicate()[0]
        tool_pid, hook_pid = map(int, marker.read_text().split())
        if dirty:
            (holder,) = pr.leftovers()
            assert (holder / "tree" / "sample" / "__init__.py").exists()
            assert holder.name.startswith(f"{hook_pid}-")
        os.kill(hook_pid, sig)
        output, _ = push.communicate(timeout=120)
    finally:
        if push.poll() is None:
            push.kill()
    assert push.returncode != 0, output
    pr.assert_clean()
    _wait_for(lambda: _gone(tool_pid), "the slow tool killed", limit=30)
    assert pr.remote_sha("main") is None
