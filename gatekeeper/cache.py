"""The result cache: a stage's result is reused when nothing it depends on changed.

The key of a stage's result is a hash over everything that can change it:

- the stage (name, the code it runs, patterns, config files) and its effective options;
- the tool's version, the interpreters (binary and installed packages, see
  :func:`~gatekeeper.hashing.interpreter_stamp`) and gatekeeper's own version;
- the content of its inputs: the files it checks (a file-local stage: the files in scope; a
  whole-program stage: every file matching its relevant patterns; a stage that runs the
  project's own code, like tests or a build: every file) plus its config files wherever they
  are (``pyproject.toml``, ``mypy.ini``, ``conftest.py`` …), the files they extend (ruff's
  ``extend``) and config files named in the stage's ``args``;
- the environment variables that steer Python tools (``PYTHONPATH``, ``PYTEST_ADDOPTS``,
  ``MYPYPATH``, ``RUFF_*``, ``RADONCFG``, ``COVERAGE_*`` …);
- for stages that run no tool (command stages, change judges like a tamper guard), the commit
  they compare with, since their result may depend on it.

Entries (and the hash index) are signed with the user's key (:mod:`gatekeeper.userstate`),
kept outside the repository: the state dir is inside the working tree, where the change under
check — a fixer in the loop — can write, and an entry it wrote is never replayed.

A cached failure is still a failure: its findings are replayed as they were. Errors are never
stored, nor are results of stages that write files or are not reproducible
(:attr:`Stage.cacheable`, a ``cache`` setting, ``--no-cache``). Entries live in the state dir,
shared by every worktree; each is written to a temp file and renamed into place, so readers
never see half an entry, and an entry that does not parse is ignored (and rebuilt).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from gatekeeper import git
from gatekeeper.errors import GatekeeperError
from gatekeeper.fingerprint import fingerprint_all
from gatekeeper.hashing import FileHasher, env_file_digests, interpreter_stamp
from gatekeeper.models import StageResult
from gatekeeper.stage import Stage, StageContext, matches
from gatekeeper.userstate import seal, unseal

CACHE_VERSION = 1
#: Entries kept; past this the least recently used ones (by mtime) are removed.
MAX_ENTRIES = 2000
MAX_BYTES = 64 * 1024 * 1024
#: Options that cannot change a passed or failed result.
_NEUTRAL_OPTIONS = frozenset({"timeout", "cache", "enabled"})
STORABLE = ("passed", "failed")
#: Environment variables that change what Python tools see (import path, plugins, options).
_ENV_PREFIXES = ("PYTHON", "PYTEST_", "MYPY", "RUFF_", "RADON", "COVERAGE_")
_ENV_IGNORED = frozenset({"PYTEST_CURRENT_TEST", "PYTHONDONTWRITEBYTECODE"})


def callable_id(fn: Any) -> str:
    """A stable name for a stage's ``run`` (a ``partial``'s arguments included)."""
    if isinstance(fn, functools.partial):
        return f"{callable_id(fn.func)}{fn.args!r}{sorted(fn.keywords.items())!r}"
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    return f"{getattr(fn, '__module__', '?')}.{name}"


def cache_allowed(stage: Stage, user: Mapping[str, Any]) -> bool:
    """Whether a stage's results may be reused: a ``cache`` setting wins over the plugin's say.

    A stage that writes files never is: replaying it would skip the writing.
    """
    if stage.writes:
        return False
    explicit = user.get("cache")
    return bool(explicit) if explicit is not None else stage.cacheable


class ResultCache:
    """Stage results by key, one JSON file each under ``directory``."""

    def __init__(
        self, directory: Path, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        self.directory = directory
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    def _entry(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> StageResult | None:
        """The stored result for ``key``, or None (missing, corrupt, or from another format)."""
        path = self._entry(key)
        try:
            # Signed with the user's key: an entry written by anything else (a fixer that
            # turned `failed` into `passed`) does not verify and is dropped.
            data = unseal(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not signed by this user's gate")
            if data.get("version") != CACHE_VERSION or data.get("key") != key:
                raise ValueError("not an entry for this key")
            result = StageResult.from_json(data["result"])
            if result.status not in STORABLE:
                raise ValueError("not a storable status")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            # Half-written by a crashed writer or damaged: drop it; the stage runs again.
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: eviction goes by mtime
        return result

    def put(self, key: str, result: StageResult) -> bool:
        """Store ``result`` unless its status must not be reused; True when stored."""
        if result.status not in STORABLE:
            return False
        entry = {"version": CACHE_VERSION, "key": key, "result": result.to_json()}
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
            tmp.write_text(seal(entry), encoding="utf-8")
            os.replace(tmp, self._entry(key))  # atomic: concurrent writers never mix
        except OSError:
            return False
        return True

    def prune(self) -> int:
        """Remove least recently used entries beyond the bounds; returns how many went."""
        try:
            scanned = [e for e in os.scandir(self.directory) if e.name.endswith(".json")]
        except OSError:
            return 0
        stats = []
        for item in scanned:
            with contextlib.suppress(OSError):
                st = item.stat()
                stats.append((st.st_mtime_ns, st.st_size, item.path))
        total = sum(s[1] for s in stats)
        if len(stats) <= self.max_entries and total <= self.max_bytes:
            return 0
        stats.sort()  # oldest first
        removed = 0
        # Go down to 80% so a busy cache does not prune on every run.
        while stats and (len(stats) > self.max_entries * 0.8 or total > self.max_bytes * 0.8):
            _, size, path = stats.pop(0)
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed += 1
            total -= size
        return removed


class StageCache:
    """The cache as one run of the gate uses it: keys, look-ups, stores, expected durations."""

    def __init__(
        self,
        root: Path,
        state: Path,
        list_files: Callable[[], Sequence[str]],
        tools: Mapping[str, str],
        *,
        reuse: bool = True,
        store: bool = True,
    ) -> None:
        self.root = root
        self.results = ResultCache(state / "cache" / "results")
        self.hasher = FileHasher(state)
        self.reuse = reuse
        self.store = store
        self._list_files = list_files
        self._files: Sequence[str] | None = None
        self._tools = dict(tools)
        self._lock = threading.Lock()
        self._timings_path = state / "cache" / "timings.json"
        self.timings = _load_timings(self._timings_path)
        self._timed: dict[str, float] = {}
        self.stored = 0
        self._stamps: dict[Path, str] = {}
        self._bases: dict[str, str] = {}

    def all_files(self) -> Sequence[str]:
        """Every file the gate may check (listed once per run, on first need)."""
        with self._lock:
            if self._files is None:
                self._files = self._list_files()
            return self._files

    def inputs(self, ctx: StageContext) -> list[str]:
        """The files whose content decides ``ctx``'s result."""
        stage = ctx.stage
        everything = self.all_files()
        # Whatever configures the tool: its config files, the files they extend or include,
        # config files named in its args (found by the planner, see StageContext).
        configured = {*ctx.config_inputs, *self._loose_config(stage)}
        if stage.needs_project_python:
            # It runs the project's own code (tests, a build), which may read any file.
            return sorted({*everything, *configured})
        chosen = set(ctx.files) if stage.file_local else set()
        if stage.file_local:
            wanted = stage.config_files
        elif stage.relevant is not None:
            wanted = stage.relevant
        else:
            wanted = (*(ctx.patterns or stage.patterns), *stage.config_files)
        chosen.update(f for f in everything if matches(f, wanted))
        return sorted(chosen | configured)

    def _loose_config(self, stage: Stage) -> list[str]:
        # A config file the project ignores in git still configures the tool.
        return [c for c in stage.config_files if "*" not in c and (self.root / c).is_file()]

    def key(self, ctx: StageContext) -> str:
        """The cache key of ``ctx``'s result over the files as they are now."""
        stage = ctx.stage
        from gatekeeper import __version__

        material = {
            "cache": CACHE_VERSION,
            "gatekeeper": __version__,
            "gate_python": sys.version,
            "stage": stage.name,
            "run": callable_id(stage.run),
            "tool": stage.tool,
            "tool_version": self._tools.get(stage.tool) if stage.tool else None,
            "patterns": [stage.patterns, stage.relevant_patterns, stage.config_files, ctx.patterns],
            "options": {k: v for k, v in ctx.options.items() if k not in _NEUTRAL_OPTIONS},
            "python": self._stamp(ctx.python),
            "project_python": self._stamp(ctx.project_python),
            "layout": asdict(ctx.layout),
            **_scope_material(ctx),
            # A stage that judges the change (tool-less ones, and those on for a change) reads
            # the base; by its tree, so a loop's start tree and the pushed commit agree.
            "base": self._base_tree(ctx.base) if _judges_base(stage) else None,
            "deep": ctx.deep,
            "env": _tool_environment(),
            "env_files": env_file_digests(ctx.root, _tool_environment()),
            "inputs": self.hasher.digest(ctx.root, self.inputs(ctx)),
        }
        text = json.dumps(material, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def _base_tree(self, base: str | None) -> str | None:
        """The tree of ``base`` (a commit, tag or tree), or ``base`` itself when git has none."""
        if not base:
            return base
        with self._lock:
            if base not in self._bases:
                try:
                    found = git.git(
                        self.root, "rev-parse", "--verify", "--quiet", f"{base}^{{tree}}"
                    )
                except GatekeeperError:
                    found = ""
                self._bases[base] = found.strip() or base
            return self._bases[base]

    def _stamp(self, python: Path) -> str:
        # Once per run and interpreter: every stage asks, and installs don't happen mid-run.
        with self._lock:
            if python not in self._stamps:
                self._stamps[python] = interpreter_stamp(python)
            return self._stamps[python]

    def run(self, ctx: StageContext, compute: Callable[[], StageResult]) -> StageResult:
        """Replay the stored result for ``ctx`` or compute it (and store it when reusable).

        ``--no-cache`` still stores the fresh result: it replaces whatever was there.
        """
        started = time.monotonic()
        try:
            key = self.key(ctx)
        except (OSError, ValueError, TypeError):
            # An unreadable state dir or an option that will not hash: run it, cache nothing.
            result = compute()
            self.record(ctx.stage.name, result)
            return result
        if self.reuse:
            hit = self.results.get(key) or self._from_whole_tree(ctx)
            if hit is not None:
                return _replayed(hit, started)
        result = compute()
        self.record(ctx.stage.name, result)
        # Files edited while the stage ran: the result belongs to neither version; keep none.
        if self.store and result.status in STORABLE and self._same_key(ctx, key):
            self.stored += self.results.put(key, result)
        return result

    def _from_whole_tree(self, ctx: StageContext) -> StageResult | None:
        """A file-local stage's stored whole-tree result, narrowed to ``ctx``'s files.

        The loop and ``gatekeeper run`` check the whole tree; the push that follows checks the
        files its commits changed. When the stage can say what its findings for some files
        are from its whole-tree result (:attr:`Stage.narrow`: the same tool, options and file
        contents), the first answers the second without running the tool.
        """
        stage = ctx.stage
        if ctx.whole_tree or stage.narrow is None or not stage.file_local or ctx.paths:
            return None
        whole = replace(ctx, files=ctx.selected, whole_tree=True)
        if not set(ctx.files) <= set(whole.files):
            return None
        try:
            hit = self.results.get(self.key(whole))
            if hit is None:
                return None
            findings = fingerprint_all(ctx.root, stage.narrow(ctx, hit))
        except (OSError, ValueError, TypeError, KeyError):
            return None  # a stored result the stage cannot narrow: it runs
        failing = any(f.severity == "error" for f in findings)
        return hit.with_(
            status="failed" if failing else "passed",
            findings=findings,
            files_checked=len(ctx.files),
            extra={**hit.extra, "narrowed_from_whole_tree": True},
        )

    def lookup(self, ctx: StageContext) -> StageResult | None:
        """The stored result for ``ctx`` as it is now, replayed; None when there is none.

        Nothing is computed or stored; ``--no-cache`` and a key that cannot be taken give None.
        """
        started = time.monotonic()
        if not self.reuse:
            return None
        try:
            hit = self.results.get(self.key(ctx))
        except (OSError, ValueError, TypeError):
            return None
        return _replayed(hit, started) if hit is not None else None

    def _same_key(self, ctx: StageContext, key: str) -> bool:
        try:
            return self.key(ctx) == key
        except (OSError, ValueError, TypeError):
            return False

    def record(self, name: str, result: StageResult) -> None:
        """Remember how long a stage took, so the next run starts the longest first."""
        if not result.cached and result.status in STORABLE:
            with self._lock:
                self._timed[name] = round(result.duration_s, 3)

    def expected(self, stage: Stage) -> float:
        """The stage's last measured duration; without one, a guess that ranks it.

        Whole-program stages (tests, type checkers) are the slow ones as a rule, so a first
        run starts them before the per-file linters.
        """
        if stage.name in self.timings:
            return self.timings[stage.name]
        return 0.0 if stage.file_local else 1.0

    def close(self) -> None:
        """Save the hash index and timings; bound the cache's size."""
        self.hasher.save()
        if self._timed:
            merged = {**self.timings, **self._timed}
            _write_json(self._timings_path, merged)
        if self.stored:  # a run that only replayed cannot have grown the cache
            self.results.prune()


def _replayed(hit: StageResult, started: float) -> StageResult:
    extra = {**hit.extra, "cached_duration_s": round(hit.duration_s, 3)}
    return hit.with_(cached=True, duration_s=time.monotonic() - started, extra=extra)


def _scope_material(ctx: StageContext) -> dict[str, Any]:
    """What the run's scope adds to the key.

    A whole-program stage that runs a tool (type checker, tests, build) checks the whole
    program whatever the change touched, so its result of a tree is the same for a whole-tree
    run (``gatekeeper run``, the loop) and a run narrowed to a change (the push gate): the
    scope only decides *whether* it runs. Stages that check the files in scope, and tool-less
    stages (a change judge, a command) that may read ``ctx.files``, keep the scope in the key.
    """
    stage = ctx.stage
    if stage.file_local or stage.tool is None or stage.judges_change:
        return {"files": sorted(ctx.files), "whole_tree": ctx.whole_tree}
    return {}


def _judges_base(stage: Stage) -> bool:
    """Whether the stage's result depends on the base: it has no tool (a guard reading the
    diff) or it is on for a change (:attr:`Stage.on_for_change`: it judges the change)."""
    return stage.tool is None or stage.on_for_change


def _tool_environment() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES) and k not in _ENV_IGNORED
    }


def _load_timings(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))}


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
