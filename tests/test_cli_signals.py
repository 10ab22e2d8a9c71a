"""A cancelled gate (SIGTERM from CI, SIGHUP from a closed terminal, Ctrl-C) kills its tools."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gatekeeper.testing import GateRepo

HANG = """\
[tool.gatekeeper.commands.hang]
run = ["sh", "-c", "sleep 300 & echo $! > grandchild.pid; wait"]
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes: it holds no resources and runs no code.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_kills_the_tools_and_never_passes(gate_repo: GateRepo, sig: signal.Signals) -> None:
    gate_repo.write("pyproject.toml", HANG)
    gate_repo.write("m.py", "X = 1\n")
    gate_repo.commit("hanging command stage")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatekeeper", "run", "--stage", "hang"],
        cwd=gate_repo.path,
        env=gate_repo.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid_file = gate_repo.path / "grandchild.pid"
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text().strip()):
        assert time.monotonic() < deadline, "the command stage never started"
        time.sleep(0.1)
    grandchild = int(pid_file.read_text())
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild)
