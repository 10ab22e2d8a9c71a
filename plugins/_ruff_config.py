"""What ruff reads besides the files it checks: the config files it follows, the files it includes.

ruff reads ``.ruff.toml``, ``ruff.toml`` and ``pyproject.toml`` (its ``[tool.ruff]`` table) in
every directory, and each may ``extend`` another file (a path relative to it). It checks the
files its ``include`` setting names (by default ``*.py``, ``*.pyi``, ``*.ipynb`` and, for
``ruff check``, ``pyproject.toml``) plus its ``extend-include``. The ruff stages use this so a
notebook is checked like any module (the patterns are a superset; ruff's own selection then
decides), and a change to an extended config file invalidates their cached results and makes
them check every file.

A config file that does not parse adds nothing here: ruff itself reports it, as an error of
the stage.
"""

from __future__ import annotations

import posixpath
import sys
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from gatekeeper import StageInputs

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

#: ruff's config files, in its order of precedence within one directory.
CONFIG_NAMES = (".ruff.toml", "ruff.toml", "pyproject.toml")
#: ruff's default ``include`` (``**/pyproject.toml`` is linted by ``ruff check`` only).
DEFAULT_INCLUDE = ("*.py", "*.pyi", "*.ipynb", "pyproject.toml")
#: Chains longer than this are a loop ruff itself rejects.
_MAX_DEPTH = 32


def _table(root: Path, rel: str) -> dict[str, Any] | None:
    """ruff's settings in one file (None: unreadable, or a pyproject.toml without them)."""
    try:
        data = tomllib.loads((root / rel).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if PurePosixPath(rel).name != "pyproject.toml":
        return data
    tool = data.get("tool")
    ruff = tool.get("ruff") if isinstance(tool, dict) else None
    return ruff if isinstance(ruff, dict) else None


def _extended(root: Path, rel: str, table: dict[str, Any]) -> str | None:
    """The repo-relative path ``table`` extends (None: none, or outside the repository)."""
    target = table.get("extend")
    if not isinstance(target, str) or not target:
        return None
    path = Path(target).expanduser()
    if not path.is_absolute():
        path = root / PurePosixPath(rel).parent / path
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None


def chain(root: Path, rel: str) -> list[tuple[str, dict[str, Any]]]:
    """``rel`` and every file it extends, nearest first, with their ruff settings."""
    found: list[tuple[str, dict[str, Any]]] = []
    current: str | None = rel
    while current is not None and len(found) < _MAX_DEPTH:
        if any(current == seen for seen, _ in found):
            break  # a loop: ruff reports it
        table = _table(root, current)
        if table is None:
            found.append((current, {}))
            break
        found.append((current, table))
        current = _extended(root, current, table)
    return found


def _patterns(value: Any) -> list[str]:
    """The file-name part of each of ruff's globs: a superset of what they select.

    ``src/**/*.py`` becomes ``*.py``. The stages then ask ruff itself which of those files it
    selects (``ruff check --show-files``), so its own glob rules decide, never ours.
    """
    if not isinstance(value, list):
        return []
    return [posixpath.basename(posixpath.normpath(str(p))) for p in value if str(p).strip()]


def _root_config(root: Path, listed: Sequence[str]) -> str | None:
    present = set(listed)
    for name in CONFIG_NAMES:
        if name in present and _table(root, name) is not None:
            return name
    return None


def ruff_inputs(root: Path, listed: Sequence[str], *, lint: bool) -> StageInputs:
    """The files ruff checks and the config files it follows, for ``ruff check`` (``lint``)
    or ``ruff format``.

    :param listed: every file of the repository (repo-relative POSIX paths).
    """
    configs = [f for f in listed if PurePosixPath(f).name in CONFIG_NAMES]
    followed = {name for rel in configs for name, _ in chain(root, rel)[1:]}
    top = _root_config(root, listed)
    include: list[str] = list(DEFAULT_INCLUDE)
    extend: list[str] = []
    if top is not None:
        settings = chain(root, top)
        for _, table in reversed(settings):  # the furthest file first: nearer ones override
            if "include" in table:
                include = _patterns(table["include"])
            extend += _patterns(table.get("extend-include"))
    patterns = [p for p in (*include, *extend) if lint or not p.endswith(".toml")]
    return StageInputs(patterns=tuple(dict.fromkeys(patterns)), config=tuple(sorted(followed)))


def lint_inputs(root: Path, listed: Sequence[str]) -> StageInputs:
    """:func:`ruff_inputs` for ``ruff check``."""
    return ruff_inputs(root, listed, lint=True)


def format_inputs(root: Path, listed: Sequence[str]) -> StageInputs:
    """:func:`ruff_inputs` for ``ruff format`` (which formats no TOML)."""
    return ruff_inputs(root, listed, lint=False)
