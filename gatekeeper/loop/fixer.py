"""Run one fixer (a coding agent, or any program) per the fixer contract in DESIGN.md.

The fixer is a command line split like a shell would — never run through a shell, so report
text can never become shell syntax. It runs in the repository root, in its own process group,
with the agent report on stdin and at ``GATEKEEPER_REPORT``, the findings JSON at
``GATEKEEPER_FINDINGS``, and ``GATEKEEPER_ATTEMPT`` / ``GATEKEEPER_MAX_ATTEMPTS``. Its exit code
is recorded, not trusted: only the next gate run says whether it fixed anything.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import GatekeeperError
from gatekeeper.loop.adapters import expand_agent
from gatekeeper.process import ProcessTimeout, run_process, tail

LOG_TAIL_CHARS = 2000


def validate(spec: str, root: Path) -> list[str]:
    """The argv of ``--agent spec``; a program that cannot be found is an error before any work.

    A program given as a path is looked up from ``root``, where the fixer will run.
    """
    argv = expand_agent(spec, "{report}", "{findings}")
    program = argv[0]
    found = shutil.which(program) if os.sep not in program else str(root / program)
    if not found or not os.access(found, os.X_OK):
        raise GatekeeperError(
            f"agent command not found: {program!r} (from --agent {spec!r})",
            "install the agent or pass the full path of the program",
        )
    return argv


@dataclass(frozen=True)
class FixerRun:
    """One fixer run as the loop records it.

    :ivar exit_code: the process's exit code; None when it was killed at the timeout.
    """

    spec: str
    argv: tuple[str, ...]
    exit_code: int | None
    timed_out: bool
    duration_s: float
    output_tail: str

    @property
    def failed(self) -> bool:
        """It crashed or timed out (a fixer that exits 0 may still have fixed nothing)."""
        return self.timed_out or self.exit_code != 0


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace`` (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def run_fixer(
    spec: str,
    *,
    root: Path,
    workdir: Path,
    report: str,
    findings_json: str,
    attempt: int,
    max_attempts: int,
    timeout: float,
) -> FixerRun:
    """Run the fixer ``spec`` once; its files and log go to ``workdir``.

    A timeout kills the fixer's whole process group (grandchildren included); Ctrl-C does the
    same and re-raises. Neither a crash nor a timeout is an exception here: they are results.
    """
    report_path = workdir / "report.md"
    findings_path = workdir / "findings.json"
    write_atomic(report_path, report)
    write_atomic(findings_path, findings_json)
    argv = expand_agent(spec, report_path, findings_path)
    env = {
        **os.environ,
        "GATEKEEPER_REPORT": str(report_path),
        "GATEKEEPER_FINDINGS": str(findings_path),
        "GATEKEEPER_ATTEMPT": str(attempt),
        "GATEKEEPER_MAX_ATTEMPTS": str(max_attempts),
    }
    try:
        done = run_process(argv, cwd=root, timeout=timeout, env=env, stdin=report)
    except ProcessTimeout as exc:
        write_atomic(workdir / "fixer.log", exc.output)
        return FixerRun(spec, tuple(argv), None, True, timeout, tail(exc.output, 20, 1000))
    except OSError as exc:  # vanished or not executable since validate(): a crash, recorded
        return FixerRun(spec, tuple(argv), 127, False, 0.0, str(exc))
    write_atomic(workdir / "fixer.log", done.output)
    return FixerRun(
        spec,
        tuple(argv),
        done.returncode,
        False,
        done.duration_s,
        tail(done.output, 20, LOG_TAIL_CHARS),
    )
