"""Invariant 5: code the change adds is within reach of every stage that checks code.

Moving a broken function into a directory no stage looks at (``scripts/`` outside mypy's
targets, a path the gate's ``exclude`` drops) makes every check pass without fixing anything.
A Python file the change adds, or adds lines to, must be checked by each code-checking stage
of the run: file-local stages must have it among their files (or under their configured
``paths``); whole-program stages must have it under their targets (``Stage.targets``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper import git
from gatekeeper.guard import hybrid
from gatekeeper.stage import StageContext, matches

HINT = (
    "move the code into a package the stages check, or have a person add its path to the "
    "stage's targets in the base's configuration"
)


@dataclass(frozen=True)
class Reach:
    """What one stage looks at: target paths (a file under one is checked) or exact files."""

    targets: tuple[str, ...] | None
    files: frozenset[str]

    def covers(self, path: str) -> bool:
        if self.targets is None:
            return path in self.files
        return any(
            t in ("", ".") or path == t or path.startswith(t.rstrip("/") + "/")
            for t in self.targets
        )


def summarise(contexts: Mapping[str, StageContext]) -> dict[str, Reach]:
    """The reach of each code-checking stage among ``contexts``."""
    out = {}
    for name, ctx in contexts.items():
        stage = ctx.stage
        if stage.judges_change:
            continue
        if stage.targets is not None:
            out[name] = Reach(tuple(stage.targets(ctx)), frozenset())
        elif stage.file_local and matches("x.py", stage.patterns):
            if ctx.whole_tree and ctx.paths:
                out[name] = Reach(tuple(ctx.paths), frozenset())
            else:
                out[name] = Reach(None, frozenset(ctx.files))
    return out


def to_json(reaches: Mapping[str, Reach]) -> dict[str, Any]:
    return {
        n: {"targets": list(r.targets) if r.targets is not None else None, "files": sorted(r.files)}
        for n, r in reaches.items()
    }


def from_json(data: Mapping[str, Any]) -> dict[str, Reach]:
    return {
        n: Reach(tuple(v["targets"]) if v["targets"] is not None else None, frozenset(v["files"]))
        for n, v in data.items()
    }


def _first_added_line(root: Path, base: str, tree: str, path: str, status: str) -> int:
    """The first non-blank line the change added to ``path`` (0: it added nothing)."""
    now = git.git(root, "cat-file", "-p", f"{tree}:{path}", check=False)
    old = None if status == "A" else git.git(root, "cat-file", "-p", f"{base}:{path}", check=False)
    lines = now.splitlines()
    for n in sorted(hybrid.added_lines(old, now)):
        if lines[n - 1].strip() and not lines[n - 1].lstrip().startswith("#"):
            return n
    return 0


def unchecked(
    root: Path,
    base: str,
    tree: str,
    changed: Mapping[str, str],
    reaches: Mapping[str, Reach],
) -> list[Any]:
    """Findings for added code that some code-checking stage does not reach."""
    from gatekeeper.models import Finding

    out = []
    for path, status in sorted(changed.items()):
        if status == "D" or not path.endswith(".py"):
            continue
        if hybrid.is_test_file(path) or hybrid.is_rule_file(path):
            continue
        missing = sorted(n for n, r in reaches.items() if not r.covers(path))
        if not missing:
            continue
        line = _first_added_line(root, base, tree, path, status)
        if not line:
            continue
        where = "; ".join(_describe(n, reaches[n]) for n in missing)
        out.append(
            Finding(
                stage="tamper",
                tool="tamper",
                rule="tamper-unchecked-code",
                path=path,
                line=line,
                column=0,
                message=(
                    f"invariant 5 (added code is checked): {path} gets code from this change "
                    f"but is not checked by {', '.join(missing)} ({where})"
                ),
            )
        )
    return out


def _describe(name: str, reach: Reach) -> str:
    if reach.targets is None:
        return f"{name} is not given this file (excluded from its files)"
    shown = ", ".join(reach.targets[:5]) or "nothing"
    return f"{name} checks only {shown}"


__all__ = ["HINT", "Reach", "from_json", "summarise", "to_json", "unchecked"]
