"""Which Python project a run is about: one repository may hold several.

The **project root** is the nearest directory at or above where the gate starts, inside the
repository, holding a ``pyproject.toml`` or ``setup.py``: the gate's config, the tools' config,
the paths and the ``.venv`` are resolved there (a ``backend/`` project is gated as
``backend/``). Started at the top of a repository that is not itself one project — no
``pyproject.toml``/``setup.py`` there, or a uv workspace — the gate checks each project of the
repository with its own config (see :func:`projects`).
"""

from __future__ import annotations

import fnmatch
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from gatekeeper import git
from gatekeeper.change import merge_bases
from gatekeeper.models import BaseInfo, RunResult, StageResult, verdict_of

if TYPE_CHECKING:
    from gatekeeper.executor import Listener
    from gatekeeper.gate import GateRequest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

MARKERS = ("pyproject.toml", "setup.py")
#: Directories never searched for projects (environments, caches, vendored code).
_NOT_PROJECTS = {"node_modules", "site-packages", "build", "dist"}


def is_project(path: Path) -> bool:
    """A directory holding a ``pyproject.toml`` or ``setup.py``."""
    return any((path / m).is_file() for m in MARKERS)


def project_root(start: Path | None = None) -> Path:
    """The nearest project directory at or above ``start`` inside its repository (else the
    repository's top)."""
    top = git.repo_root(start)
    here = (start or Path.cwd()).resolve()
    resolved_top = top.resolve()
    while here != resolved_top and resolved_top in here.parents:
        if is_project(here):
            return top / here.relative_to(resolved_top)
        here = here.parent
    return top


def _workspace_members(root: Path) -> list[str] | None:
    """The member directories of a uv workspace rooted at ``root`` (None: not a workspace)."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    workspace = data.get("tool", {}).get("uv", {}).get("workspace")
    if not isinstance(workspace, dict):
        return None
    members = [str(m) for m in workspace.get("members", []) if isinstance(m, str)]
    excluded = [str(m) for m in workspace.get("exclude", []) if isinstance(m, str)]
    found = set()
    for pattern in members:
        for match in sorted(root.glob(pattern)):
            rel = match.relative_to(root).as_posix()
            if is_project(match) and not any(fnmatch.fnmatch(rel, e) for e in excluded):
                found.add(rel)
    return sorted(found)


def projects(root: Path) -> list[str]:
    """The projects a run started at ``root`` checks, as paths relative to it ("" is ``root``).

    ``root`` itself when it is one project; a uv workspace's root (when it is a project with a
    ``[project]`` table too) and its members; and in a repository top that is no project,
    every directory holding a ``pyproject.toml`` or ``setup.py`` that no other such directory
    contains (found among the repository's files, so ignored directories are never searched),
    plus the top itself when Python files lie outside all of them.
    """
    members = _workspace_members(root)
    if members is not None:
        return _root_if_packaged(root) + members
    if is_project(root):
        return [""]
    files = git.list_files(root)
    found = _outermost_projects(files)
    # Python code outside every project is checked too, from the top (never left unchecked).
    stray = any(
        f.endswith((".py", ".pyi")) and not any(f.startswith(f"{p}/") for p in found) for f in files
    )
    return ([""] if stray or not found else []) + found


def _outermost_projects(files: list[str]) -> list[str]:
    """Directories holding a project marker that no other such directory contains."""
    found: list[str] = []
    for path in sorted(files, key=lambda p: (p.count("/"), p)):
        pure = PurePosixPath(path)
        if pure.name not in MARKERS or len(pure.parts) == 1:
            continue
        parent = pure.parent.as_posix()
        if any(part.startswith(".") or part in _NOT_PROJECTS for part in pure.parent.parts):
            continue
        if parent not in found and not any(parent.startswith(f"{p}/") for p in found):
            found.append(parent)
    return found


def _root_if_packaged(root: Path) -> list[str]:
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    return [""] if isinstance(data.get("project"), dict) else []


def _within(paths: tuple[str, ...], sub: str) -> tuple[str, ...] | None:
    """``paths`` (relative to the top) that fall in project ``sub``, relative to it; None when
    paths were given and none is in the project."""
    if not paths or not sub:
        return paths
    inside = []
    for p in paths:
        p = p.rstrip("/")
        if p == sub or sub.startswith(f"{p}/") or p in ("", "."):
            return ()  # the whole project
        if p.startswith(f"{sub}/"):
            inside.append(p[len(sub) + 1 :])
    return tuple(inside) or None


def run_projects(
    request: GateRequest,
    top: Path,
    subs: list[str],
    run_one: Callable[[GateRequest], RunResult],
) -> RunResult:
    """Gate each project with its own config and merge the runs into one result.

    A stage of project ``libs/a`` is reported as ``libs/a:pytest``, its findings' paths
    relative to the top; a change touching no file of a project leaves all of that project's
    stages skipped for scope. The verdict is over every stage of every project.
    """
    started = time.monotonic()
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    stages: list[StageResult] = []
    tools: dict[str, str] = {}
    bases: list[BaseInfo] = []
    for sub in subs:
        paths = _within(request.paths, sub)
        if paths is None:
            continue
        listener = _prefixed_listener(request.listener, sub)
        one = run_one(
            replace(request, root=top / sub, paths=paths, record=False, listener=listener)
        )
        stages += [_prefixed(s, sub) for s in one.stages]
        tools.update(one.tools)
        bases += [one.base] if one.base else []
    all_scope = bool(stages) and all(
        s.status == "skipped" and s.extra.get("skip_kind") == "scope" for s in stages
    )
    head = request.head
    outcome = RunResult(
        verdict=verdict_of(stages, all_skipped_ok=all_scope),
        tree=git.git(top, "rev-parse", f"{head}^{{tree}}").strip() if head else git.tree_hash(top),
        duration_s=time.monotonic() - started,
        stages=tuple(stages),
        root=str(top),
        commit=head or git.head_sha(top),
        trigger=request.trigger,
        started_at=stamp,
        tools=tools,
        base=merge_bases(bases),
    )
    return outcome


def _prefixed(s: StageResult, sub: str) -> StageResult:
    if not sub:
        return s
    findings = tuple(replace(f, path=f"{sub}/{f.path}" if f.path else sub) for f in s.findings)
    return s.with_(name=f"{sub}:{s.name}", findings=findings)


def _prefixed_listener(listener: Listener | None, sub: str) -> Listener | None:
    if listener is None or not sub:
        return listener

    def relay(name: str, result: StageResult | None) -> None:
        listener(f"{sub}:{name}", _prefixed(result, sub) if result else None)

    return relay
