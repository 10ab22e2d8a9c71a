"""Invariant 5: code the change adds is within reach of every stage that checks code.

Moving a broken function into a directory no stage looks at (``scripts/`` outside mypy's
targets, a path the gate's ``exclude`` drops) makes every check pass without fixing anything.
A Python file the change adds, or adds lines to, must be checked by each code-checking stage
of the run: not dropped by the gate's ``exclude``, within the tool's own file selection
(``Stage.selection``, read from the tool's configuration) and under the stage's ``paths``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper import git
from gatekeeper.guard import hybrid
from gatekeeper.models import Finding
from gatekeeper.stage import Stage, matches

if TYPE_CHECKING:
    from gatekeeper.gate import Plan

HINT = (
    "move the code into a package the stages check, or have a person add its path to the "
    "stage's targets in the base's configuration"
)


def _under(path: str, targets: Sequence[str]) -> bool:
    return any(
        t in ("", ".") or path == t.rstrip("/") or path.startswith(t.rstrip("/") + "/")
        for t in targets
    )


def _checks_code(stage: Stage) -> bool:
    if stage.judges_change:
        return False
    return stage.selection is not None or (stage.file_local and matches("x.py", stage.patterns))


def _considered(the_plan: Plan, name: str) -> bool:
    """Whether stage ``name`` checks code and the run did not skip it for a non-scope reason."""
    stage = the_plan.registered[name].stage
    decided = the_plan.decided.get(name)
    # A stage skipped only for scope would still check the file had the change reached it.
    return _checks_code(stage) and not (decided and decided.extra.get("skip_kind") != "scope")


def _why_missed(
    name: str,
    path: str,
    excluded: Sequence[str],
    chosen: Callable[[str], bool] | None,
    configured: Sequence[str],
) -> str:
    """Why stage ``name`` does not check project-relative ``path`` ("" if it does)."""
    if excluded and matches(path, excluded):
        return f"{name}: the gate's exclude drops it"
    if chosen is not None and not chosen(path):
        return f"{name}: outside the files it checks (its targets, its config's files)"
    if configured and not _under(path, configured):
        return f"{name}: checks only {', '.join(configured[:4])}"
    return ""


def missing(the_plan: Plan, paths: Sequence[str]) -> dict[str, list[str]]:
    """path -> why each code-checking stage of ``the_plan`` does not check it (only misses).

    A stage checks a file when the gate's ``exclude`` keeps it, the tool's own selection
    (``Stage.selection``: its config's files/include/exclude) takes it, and the stage's
    configured ``paths`` (if any) contain it.
    """
    excluded = [str(p) for p in the_plan.config.get("exclude")]
    prefix = project_prefix(the_plan.root)
    out: dict[str, list[str]] = {}
    for name in the_plan.order:
        if not _considered(the_plan, name):
            continue
        stage = the_plan.registered[name].stage
        chosen = stage.selection(the_plan.root, the_plan.layout) if stage.selection else None
        configured = [str(p) for p in the_plan.config.stage(name).get("paths") or []]
        for full in paths:
            if not full.startswith(prefix):
                continue  # another project of the repository: its own run judges it
            why = _why_missed(name, full[len(prefix) :], excluded, chosen, configured)
            if why:
                out.setdefault(full, []).append(why)
    return out


def project_prefix(root: Path) -> str:
    """Where the project sits in its repository (``backend/``; "" at the top): the change's
    paths are the repository's, the stages' selections the project's."""
    return git.git(root, "rev-parse", "--show-prefix", check=False).strip()


def code_paths(changed: Mapping[str, str]) -> list[str]:
    """Python files the change adds or modifies that are neither tests nor rule files."""
    return sorted(
        p
        for p, status in changed.items()
        if status != "D"
        and p.endswith(".py")
        and not hybrid.is_test_file(p)
        and not hybrid.is_rule_file(p)
    )


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
    misses: Mapping[str, list[str]],
) -> list[Finding]:
    """Findings for added code that some code-checking stage does not reach."""
    out = []
    prefix = project_prefix(root)
    for path, why in sorted(misses.items()):
        status = changed.get(path)
        if status is None:
            continue
        line = _first_added_line(root, base, tree, path, status)
        if not line:
            continue  # the change only deleted or blanked lines here
        stages = ", ".join(w.split(":", 1)[0] for w in why)
        out.append(
            Finding(
                stage="tamper",
                tool="tamper",
                rule="tamper-unchecked-code",
                path=path[len(prefix) :] if path.startswith(prefix) else path,
                line=line,
                column=0,
                message=(
                    f"invariant 5 (added code is checked): {path} gets code from this change "
                    f"but is not checked by {stages} ({'; '.join(why)})"
                ),
            )
        )
    return out


__all__ = ["HINT", "code_paths", "missing", "unchecked"]
