"""Run a tool as a subprocess in its own process group, with a deadline that is enforced.

Every subprocess the gate starts goes through :func:`run_process`, so timeouts, process-group
kills and Ctrl-C are handled in one place and a hung tool can never hang the gate.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

KILL_GRACE_S = 2.0

# Tools run in their own sessions, so a Ctrl-C at the terminal does not reach them: the gate
# keeps every live process here and kills their groups itself when it is interrupted.
_live: set[subprocess.Popen[bytes]] = set()
_live_lock = threading.Lock()
# Which scope (a stage, for the executor) started each live process, so one stage's processes
# can be stopped without touching the others'.
_scope: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "gatekeeper_scope", default=None
)
_owner: dict[subprocess.Popen[bytes], str] = {}
_cancelled: set[str] = set()


def kill_all() -> None:
    """Kill the process group of every subprocess still running (used on interrupt)."""
    with _live_lock:
        procs = list(_live)
    for proc in procs:
        kill_group(proc)


@contextlib.contextmanager
def scope(name: str) -> Iterator[None]:
    """Tag the processes started in this thread (inside the block) with ``name``."""
    token = _scope.set(name)
    try:
        yield
    finally:
        _scope.reset(token)
        with _live_lock:
            _cancelled.discard(name)


def current_scope() -> str | None:
    """The scope this thread's new processes are tagged with (None: outside any)."""
    return _scope.get()


def kill_scope(name: str) -> None:
    """Kill the processes of scope ``name``, and any it starts from now on (fail-fast)."""
    with _live_lock:
        _cancelled.add(name)
        procs = [p for p, owner in _owner.items() if owner == name]
    for proc in procs:
        kill_group(proc)


@dataclass(frozen=True)
class Completed:
    """A finished subprocess."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float

    @property
    def output(self) -> str:
        """stdout and stderr together, for messages."""
        return (self.stdout + ("\n" if self.stdout and self.stderr else "") + self.stderr).strip()


class ProcessTimeout(Exception):
    """The process outlived its deadline and its process group was killed."""

    def __init__(self, argv: Sequence[str], timeout: float, output: str) -> None:
        super().__init__(f"timed out after {timeout:g}s: {' '.join(argv)}")
        self.timeout = timeout
        self.output = output


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after a grace period."""
    if proc.poll() is not None:
        # The leader is gone, but children may still hold the group; kill them too.
        _signal_group(proc.pid, signal.SIGKILL)
        return
    _signal_group(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(KILL_GRACE_S)
    _signal_group(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):  # unkillable (D state): give up
        proc.wait(KILL_GRACE_S)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _decode(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path | str,
    timeout: float,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> Completed:
    """Run ``argv`` to completion or kill its whole process group at ``timeout`` seconds.

    Raises :class:`ProcessTimeout` on timeout and :class:`FileNotFoundError` when the
    program does not exist. On ``KeyboardInterrupt`` the group is killed before re-raising.
    """
    start = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        cwd=str(cwd),
        env=dict(env) if env is not None else None,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    owner = _scope.get()
    with _live_lock:
        _live.add(proc)
        if owner is not None:
            _owner[proc] = owner
        doomed = owner in _cancelled
    if doomed:  # its stage was stopped while it was starting this process
        kill_group(proc)
    try:
        out, err = proc.communicate(
            stdin.encode("utf-8") if stdin is not None else None, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        raise ProcessTimeout(argv, timeout, (_decode(out) + _decode(err))[-4000:]) from None
    except BaseException:
        kill_group(proc)
        raise
    finally:
        with _live_lock:
            _live.discard(proc)
            _owner.pop(proc, None)
    # A tool may leave background children behind in its group; they must not outlive it.
    _signal_group(proc.pid, signal.SIGKILL)
    return Completed(
        tuple(argv), proc.returncode, _decode(out), _decode(err), time.monotonic() - start
    )


def tail(text: str, lines: int = 30, chars: int = 3000) -> str:
    """The last ``lines`` lines of ``text``, at most ``chars`` characters."""
    kept = "\n".join(text.rstrip().splitlines()[-lines:])
    return kept[-chars:]


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters by dropping its middle.

    Tool output says what went wrong at its start (the error) and at its end (the summary,
    the last frames), so both are kept and the cut is stated.
    """
    if len(text) <= limit:
        return text
    marker = " … ({} characters cut) … "
    room = max(limit - len(marker.format(len(text))), 2)
    head = room // 3
    back = room - head
    return text[:head] + marker.format(len(text) - head - back) + text[-back:]
