"""The loop's autofix tier: let the tools fix what they can before an agent is asked.

Only ruff's *safe* fixes (``ruff check --fix --no-unsafe-fixes``) and ``ruff format`` run, on
the files that have findings those tools can fix, with the project's interpreter. What they
fixed is reported by the loop and never reaches the agent: an agent's time goes to what needs
judgement. The ``autofix`` config key lists the fixers to use; ``autofix = []`` turns the tier off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.environment import probe, project_python
from gatekeeper.errors import GatekeeperError
from gatekeeper.launch import module_argv
from gatekeeper.models import RunResult
from gatekeeper.process import ProcessTimeout, run_process, tail

#: autofix name -> the stage whose fixable findings it fixes.
FIXERS: dict[str, str] = {"ruff": "ruff", "ruff-format": "ruff-format"}
TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Autofix:
    """What the tier did: the commands it ran, on which files, and any that failed."""

    ran: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"ran": list(self.ran), "files": list(self.files), "problems": list(self.problems)}


def targets(run: RunResult, enabled: Sequence[str]) -> dict[str, list[str]]:
    """Autofix name -> the files with blocking findings it can fix (nothing to do: no entry)."""
    out: dict[str, list[str]] = {}
    for name, stage in FIXERS.items():  # fixes first, then formatting: a fix can leave drift
        if name not in enabled:
            continue
        files = sorted(
            {
                f.path
                for s in run.stages
                if s.name == stage and s.status == "failed"
                for f in s.findings
                # Only what blocks: debt already at the base is not the change's to rewrite.
                if f.fixable and f.path and f.blocking
            }
        )
        if files:
            out[name] = files
    return out


def _ruff_python(root: Path, configured: str | None) -> Path:
    py = project_python(root, configured)
    if probe(py, [("ruff", "ruff")]).tools.get("ruff"):
        return py
    own = Path(sys.executable)
    if own != py and probe(own, [("ruff", "ruff")]).tools.get("ruff"):
        return own
    raise GatekeeperError(
        f"the autofix tier needs ruff, which is not installed in {py}",
        f"install it with `{py} -m pip install ruff`, or set `autofix = []`",
    )


def _args(name: str) -> list[str]:
    if name == "ruff":
        return ["check", "--fix", "--no-unsafe-fixes", "--force-exclude", "--exit-zero"]
    return ["format", "--force-exclude"]


def apply(
    root: Path,
    run: RunResult,
    enabled: Sequence[str],
    *,
    configured_python: str | None,
    state: Path,
) -> Autofix:
    """Run the enabled autofixes on the files that need them; returns what was done.

    A fixer that fails is reported (the loop goes on: the agent still gets the findings).
    """
    todo = targets(run, enabled)
    if not todo:
        return Autofix()
    if "ruff" in todo and "ruff-format" in enabled:
        # Removing an import can leave blank lines behind: format what was fixed too.
        todo["ruff-format"] = sorted({*todo.get("ruff-format", []), *todo["ruff"]})
    python = _ruff_python(root, configured_python)
    env = {**os.environ, "RUFF_CACHE_DIR": str(state / "tools" / "ruff-cache"), "NO_COLOR": "1"}
    ran: list[str] = []
    files: set[str] = set()
    problems: list[str] = []
    for name, paths in todo.items():
        args = _args(name)
        # Started so that a `ruff.py` in the root cannot stand in for ruff (and rewrite files).
        argv = module_argv(python, "ruff", [*args, "--", *paths])
        try:
            done = run_process(argv, cwd=root, timeout=TIMEOUT_S, env=env)
        except ProcessTimeout as exc:
            problems.append(f"{name}: {exc}")
            continue
        ran.append(f"ruff {' '.join(args)} ({len(paths)} files)")
        files.update(paths)
        if done.returncode != 0:
            problems.append(f"{name} exited {done.returncode}: {tail(done.output, 5, 400)}")
    return Autofix(tuple(ran), tuple(sorted(files)), tuple(problems))
