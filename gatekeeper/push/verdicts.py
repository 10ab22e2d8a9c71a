"""Sealed push verdicts: a tree that passed the push gate against a base is not checked again.

The push gate's verdict on a commit depends on the commit's *tree*, the base's tree, the
push's options, and this machine: gatekeeper's own code, the interpreters and the packages
installed for them, the variables that steer Python tools, and git's configuration (which
decides how a snapshot is checked out). When a push check passes, its result is stored under
a key over all of those, signed with the user's key (:mod:`gatekeeper.userstate`: the state
dir is inside the working tree, where a fixer can write, and an unsigned record is ignored).
The next push of the same tree against a base with the same tree replays it: no snapshot, no
stage. The loop seals its final tree the same way when it ends clean (:func:`seal_for_push`
in :mod:`gatekeeper.push.seal`), so the push that follows a clean loop is a look-up.

Only ``passed`` verdicts are sealed; a push that failed, or could not run, always runs again.
The key is deliberately wider than the stage cache's (every ``GATEKEEPER_*`` variable, the
language settings, ``PATH``): a miss costs one ordinary push, a wrong hit a false green.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gatekeeper import __version__
from gatekeeper.models import BaseInfo, RunResult
from gatekeeper.userstate import seal, unseal

RECORD_VERSION = 1
DIRECTORY = ("cache", "verdicts")
#: Variables that can change what a stage sees or decides (the stage cache's, and more).
_ENV_PREFIXES = (
    "PYTHON",
    "PYTEST_",
    "MYPY",
    "RUFF_",
    "RADON",
    "COVERAGE_",
    "GATEKEEPER_",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "LANG",
    "LC_",
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "GIT_",
)
_ENV_IGNORED = frozenset(
    {
        "PYTHONDONTWRITEBYTECODE",
        "GATEKEEPER_DEBUG",
        "GATEKEEPER_TRACE",
        # set by git for its hooks (and dropped by the push gate before it runs anything)
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_PREFIX",
        "GIT_EXEC_PATH",
        "GIT_PUSH_OPTION_COUNT",
    }
)
#: Records kept; past this the least recently used ones (by mtime) are removed.
MAX_RECORDS = 256


def _code_stamp() -> str:
    """Size and mtime of every module of gatekeeper and its built-in stages, as a digest.

    An editable install changes code without changing the version; a verdict reached by
    other code must not be replayed. (Stat, not content: a process that can rewrite the
    gate's own code can make any run pass, sealed or not.)
    """
    import importlib.util

    tops = [Path(__file__).resolve().parent.parent]
    plugins = importlib.util.find_spec("gatekeeper_plugins")
    if plugins is not None:
        tops += [Path(p) for p in plugins.submodule_search_locations or []]
    digest = hashlib.sha256()
    for top in tops:
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    with contextlib.suppress(OSError):
                        st = os.stat(os.path.join(folder, name))
                        digest.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _environment() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k.startswith(_ENV_PREFIXES)
        and k not in _ENV_IGNORED
        and not k.startswith("GIT_PUSH_OPTION_")
    }
    # git puts its own exec-path first on PATH for hooks; the rest decides which tools run.
    path = os.environ.get("PATH", "").split(os.pathsep)
    env["PATH"] = os.pathsep.join(p for p in path if "git-core" not in p)
    return env


def _stat(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "-"
    return f"{st.st_size}:{st.st_mtime_ns}"


def _git_config_stamp(common_dir: Path) -> dict[str, str]:
    """git's config files: they decide how a snapshot is checked out (filters, line ends)."""
    home = Path.home()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    files = [
        common_dir / "config",
        common_dir / "info" / "attributes",
        common_dir / "info" / "exclude",
        home / ".gitconfig",
        xdg / "git" / "config",
        xdg / "git" / "attributes",
        Path("/etc/gitconfig"),
    ]
    return {str(f): _stat(f) for f in files}


def key(
    root: Path,
    common_dir: Path,
    tree: str,
    base_tree: str | None,
    options: Mapping[str, Any],
) -> str:
    """The key of a push check's verdict (sha256 hex).

    :param root: the repository's working tree; ``common_dir``: its git common dir
        (``git rev-parse --git-common-dir``).
    :param tree: the pushed commit's tree id; ``base_tree``: the base's (None: no base).
    :param options: the push's options that can change a verdict (stages, scope, mode).
    """
    from gatekeeper.hashing import env_file_digests, interpreter_stamp

    env = _environment()
    material = {
        "record": RECORD_VERSION,
        "gatekeeper": __version__,
        "gate_python": [sys.version, sys.executable, interpreter_stamp(Path(sys.executable))],
        "code": _code_stamp(),
        "tree": tree,
        "base_tree": base_tree,
        "options": dict(options),
        "env": env,
        "env_files": env_file_digests(root, env),
        "git": _git_config_stamp(common_dir),
    }
    text = json.dumps(material, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _path(state: Path, key_: str) -> Path:
    return state.joinpath(*DIRECTORY, f"{key_}.json")


def store(state: Path, key_: str, run: RunResult, python: Path, configured: str | None) -> bool:
    """Seal ``run`` (a passed push check) under ``key_``; True when stored.

    :param python: the project interpreter the run used; ``configured``: the ``python``
        setting it was resolved from. Both are checked again before a replay, with the
        interpreter's stamp (its binary and installed packages).
    """
    from gatekeeper.hashing import interpreter_stamp

    if run.verdict != "passed":
        return False
    record = {
        "version": RECORD_VERSION,
        "key": key_,
        "python": str(python),
        "python_stamp": interpreter_stamp(python),
        "configured_python": configured,
        "sealed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "result": run.to_json(),
    }
    from gatekeeper.cache import ResultCache
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.outputs import write_atomic

    path = _path(state, key_)
    try:
        write_atomic(path, seal(record))
    except GatekeeperError:
        return False
    # The result cache's policy: least recently used first, down to 80 % of the bound.
    ResultCache(path.parent, max_entries=MAX_RECORDS).prune()
    return True


def matches_tree(root: Path, checkout: Path, commit: str) -> bool:
    """Whether ``checkout`` holds exactly ``commit``'s tree, byte for byte.

    Every file's content, hashed as git hashes a blob (no filters), must be the blob the tree
    names, and no tracked path may be missing. A checkout that differs — smudge filters, a
    sparse checkout, replaced or tampered objects, a symlink (its target lies outside what
    the tree names), a submodule — is no proof of the tree: its verdict is not sealed.
    """
    from gatekeeper import git
    from gatekeeper.errors import GatekeeperError

    try:
        listing = git.git(root, "ls-tree", "-r", "-z", "--full-tree", commit)
    except GatekeeperError:
        return False
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, _, rel = entry.partition("\t")
        mode, kind, blob = meta.split()
        if kind != "blob" or mode not in ("100644", "100755"):
            return False
        path = checkout / rel
        try:
            if path.is_symlink():
                return False
            data = path.read_bytes()
        except OSError:
            return False
        if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() != blob:
            return False
    return True


def lookup(state: Path, key_: str, root: Path, tree: str) -> dict[str, Any] | None:
    """The sealed record for ``key_`` if it still holds for ``tree`` here, else None.

    A record holds when its signature verifies, it is a ``passed`` result of ``tree``, and
    the project interpreter it used is still the one ``root`` resolves to, unchanged.
    """
    from gatekeeper.environment import project_python
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.hashing import interpreter_stamp

    path = _path(state, key_)
    try:
        record = unseal(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # missing, or not text: a damaged record is no record
        return None
    if not isinstance(record, dict) or record.get("key") != key_:
        return None
    result = record.get("result")
    if not isinstance(result, dict) or result.get("verdict") != "passed":
        return None
    if result.get("tree") != tree or record.get("version") != RECORD_VERSION:
        return None
    try:
        python = project_python(root, record.get("configured_python"))
    except GatekeeperError:
        return None
    if str(python) != record.get("python") or interpreter_stamp(python) != record.get(
        "python_stamp"
    ):
        return None
    return record


def replay(record: Mapping[str, Any], commit: str, base: str | None, root: Path) -> RunResult:
    """The sealed run as a run of ``commit`` now: every stage marked replayed from cache."""
    sealed = RunResult.from_json(dict(record["result"]))
    stages = tuple(
        s.with_(
            cached=True,
            duration_s=0.0,
            extra={**s.extra, "cached_duration_s": round(s.duration_s, 3)},
        )
        for s in sealed.stages
    )
    info = sealed.base
    if info is not None:
        info = BaseInfo.from_json({**info.to_json(), "commit": base, "cached": True})
    return dataclasses.replace(
        sealed,
        duration_s=0.0,
        stages=stages,
        root=str(root),
        commit=commit,
        started_at=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        base=info,
    )
