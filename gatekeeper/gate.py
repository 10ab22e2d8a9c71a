"""One run of the gate: config -> scope -> plan -> stages -> verdict.

:func:`run_gate` is what every trigger (a person, the pre-push hook, CI, the loop) calls.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gatekeeper import fastpath, git
from gatekeeper.baseline import Baseline
from gatekeeper.baseline import load as load_baseline
from gatekeeper.baseline import load_at_base as load_baseline_at_base
from gatekeeper.cache import StageCache, cache_allowed
from gatekeeper.change import ChangeBase, ChangeJudge
from gatekeeper.config import (
    COMMON_STAGE_OPTIONS,
    GLOBAL_OPTIONS,
    Config,
    Option,
    as_option,
    read_settings,
    validate,
    validate_mapping,
)
from gatekeeper.environment import Probe, env_skips, probe, project_python, remember
from gatekeeper.errors import ConfigError, GatekeeperError
from gatekeeper.executor import Job, Listener, execute
from gatekeeper.layout import discover
from gatekeeper.models import RunResult, StageResult, Status, verdict_of
from gatekeeper.plugins import PluginSet, Registered, load_plugins
from gatekeeper.projects import project_root, projects, run_projects
from gatekeeper.runner import run_stage
from gatekeeper.stage import Layout, Stage, StageContext, StageInputs, matches
from gatekeeper.state import state_dir
from gatekeeper.userstate import pycache_dir

#: ``StageResult.extra["skip_kind"]`` of stages skipped because nothing relevant changed.
SCOPE_SKIP = "scope"
#: Why a stage that judges a change is left out of a run that names no base.
NO_BASE = "no base to judge the change against: run with --base REF"
#: Triggers whose change is the working tree against HEAD even when no base is named.
CHANGE_TRIGGERS = ("loop", "agent")
#: ``StageResult.extra["skip_kind"]`` of stages left out on request (--skip, GATEKEEPER_SKIP).
REQUEST_SKIP = "request"


@dataclass(frozen=True)
class GateRequest:
    """What to check and how.

    :ivar paths: limit the run to these paths (files or directories, repo-relative).
    :ivar only: run only these stages (``--stage``); naming a stage enables it explicitly.
    :ivar skip: skip these stages, loudly (``--skip``).
    :ivar base: check only what changed since this commit (file-local stages see only the
        changed files; whole-program stages run if something relevant changed).
    :ivar head: the commit being checked when it is not the working tree (push gate).
    :ivar compare_to: what change-judging stages compare with, without narrowing the scope
        (the loop's starting tree); defaults to ``base``, else HEAD.
    """

    root: Path | None = None
    paths: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    base: str | None = None
    head: str | None = None
    compare_to: str | None = None
    trigger: str = "person"
    use_cache: bool = True
    fail_fast: bool | None = None
    jobs: int | None = None
    state: Path | None = None
    listener: Listener | None = None
    record: bool = True  # append the run to the ledger (callers adding their own fields opt out)
    use_baseline: bool = True  # findings recorded in the baseline file do not block
    deep: bool = False  # slow checks too (``--deep``); the ``deep`` setting turns it on as well
    #: stage name -> options that override the config's (the tamper guard's hybrid run)
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: hold the line (:mod:`gatekeeper.change`): ``change`` or ``all``; None: the config's.
    mode: str | None = None
    #: the base findings are judged against; None: ``compare_to`` or ``base``, if any.
    change: ChangeBase | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment for the tools
    #: an attempt (loop, Stop hook, verify): what can fail first runs first, and the full
    #: check of a fast-path stage runs only once the rest passed (see :mod:`gatekeeper.fastpath`)
    fast_path: bool = False
    #: with ``fast_path``: fingerprints (and ``error:<stage>``) that blocked the previous run;
    #: one of them still failing stops a full check still running, so it is handed back first
    still_failing: frozenset[str] = frozenset()


@dataclass
class Plan:
    """The stages of one run, each either runnable (a context) or already decided (a result)."""

    root: Path
    config: Config
    registered: dict[str, Registered]
    layout: Layout
    contexts: dict[str, StageContext] = field(default_factory=dict)
    decided: dict[str, StageResult] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    tools: dict[str, str] = field(default_factory=dict)
    base: str | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    off: list[str] = field(default_factory=list)  # stages turned off by config (enabled = false)


def load_config(root: Path, plugins: PluginSet) -> tuple[Config, dict[str, Registered]]:
    """Read, let plugins adjust, and validate the settings; also returns the stages."""
    source, settings = read_settings(root)
    plugins.configure(settings, root)
    # Top-level keys first: the command stages are declared there.
    validate_mapping(
        _label(source), {k: v for k, v in settings.items() if k != "stages"}, GLOBAL_OPTIONS
    )
    try:
        registered = plugins.stages(settings)
    except ConfigError as exc:  # a plugin's own settings (e.g. commands.NAME): name the file
        raise ConfigError(f"{_label(source)}: {exc.message}", exc.hint) from None
    stage_options = {
        name: {k: as_option(v) for k, v in reg.stage.options.items()}
        for name, reg in registered.items()
    }
    return validate(source, settings, stage_options), registered


def _label(source: str | None) -> str:
    return (
        "pyproject.toml [tool.gatekeeper]" if source == "pyproject.toml" else (source or "config")
    )


def _unknown_stage(name: str, known: Sequence[str]) -> GatekeeperError:
    close = difflib.get_close_matches(name, list(known), n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known stages: {', '.join(sorted(known))}"
    return GatekeeperError(f"unknown stage {name!r}", hint)


def plan(request: GateRequest, plugins: PluginSet | None = None) -> Plan:
    """Decide which stages run, with which files and interpreter, and which are skipped."""
    root = project_root(request.root)
    plugins = plugins or load_plugins()
    config, registered = load_config(root, plugins)
    for name in (*request.only, *request.skip):
        if name not in registered:
            raise _unknown_stage(name, list(registered))
    the_plan = Plan(root, config, registered, discover(root))
    # A named commit with nothing to compare with (a new branch with no base) is compared
    # with nothing, never with itself: the tamper guard then says so.
    the_plan.base = (
        request.compare_to or request.base or (None if request.head else git.head_sha(root))
    )
    py = project_python(root, config.get("python"))
    tools = {
        (r.stage.tool, r.stage.package or r.stage.tool) for r in registered.values() if r.stage.tool
    }
    state = request.state or state_dir(root)
    project_probe, own_probe = _probes(py, Path(sys.executable), tools, state)
    the_plan.environment = project_probe.record()
    planner = _Planner(
        the_plan,
        request,
        _scope_files(root, request, config),
        set(request.skip) | set(env_skips()),
        project_probe,
        own_probe,
        state,
        guarded=any(
            r.stage.judges_change
            and (request.trigger in r.stage.default_triggers or request.base is not None)
            for r in registered.values()
        ),
    )
    for reg in registered.values():
        planner.add(reg.stage)
    return the_plan


@dataclass(frozen=True)
class Scope:
    """The files of one run.

    :ivar listed: every file git lists (tracked, and untracked but not ignored).
    :ivar candidates: the files stages may check (``exclude`` and the paths asked for applied).
    :ivar files: the candidates in scope: changed since the base, or all of them.
    :ivar whole: every candidate is in scope.
    :ivar touched: files added, changed or deleted since the base (None without a base).
    :ivar touched_in_scope: those of them not excluded and under the paths asked for.
    """

    listed: list[str]
    candidates: list[str]
    files: list[str]
    whole: bool
    touched: frozenset[str] | None = None
    touched_in_scope: frozenset[str] | None = None


def _scope_files(root: Path, request: GateRequest, config: Config) -> Scope:
    listed = git.list_files(root)
    excluded = [str(p) for p in config.get("exclude")]
    prefixes = [p.rstrip("/") for p in request.paths]

    def wanted(f: str) -> bool:
        if excluded and matches(f, excluded):
            return False
        return not prefixes or any(f == p or f.startswith(p + "/") for p in prefixes)

    candidates = [f for f in listed if wanted(f)]
    whole = request.base is None and not request.paths
    if request.base is None:
        return Scope(listed, candidates, candidates, whole)
    changed = set(git.changed_files(root, request.base, request.head))
    deleted = git.deleted_files(root, request.base, request.head)
    # Config files count wherever they are: `exclude` keeps files from being checked, not
    # from configuring the tools.
    touched = frozenset((*changed, *deleted))
    files = [f for f in candidates if f in changed]
    return Scope(listed, candidates, files, whole, touched, frozenset(filter(wanted, touched)))


@dataclass
class _Planner:
    """Decides, stage by stage, whether it runs and with what (one instance per plan)."""

    plan: Plan
    request: GateRequest
    scope: Scope
    skips: set[str]
    project_probe: Probe
    own_probe: Probe
    state: Path
    tree_files: list[str] | None = None
    #: the tamper guard judges this run: options named ``strict_skips`` are forced on (a
    #: test switched off by the code under test is a finding even when no test file changed)
    guarded: bool = False

    def add(self, stage: Stage) -> None:
        user = self.plan.config.stage(stage.name)
        if not self._runs(stage, user):
            return
        self.plan.order.append(stage.name)
        if stage.name in self.skips:
            # Named on the command line, the person chose it; set in the environment, it is
            # ambient (a forgotten export): the loop and the Stop hook never call that clean.
            source = "flag" if stage.name in self.request.skip else "env"
            return self._decide(
                stage,
                "skipped",
                "skipped on request (--skip / GATEKEEPER_SKIP)",
                skip_kind=REQUEST_SKIP,
                skip_source=source,
            )
        python = self._interpreter(stage)
        if python is None:
            return
        options = self._options(stage, user)
        reads = self._reads(stage, options)
        if reads is None:
            return
        patterns, config_inputs = reads
        scope = self.scope
        touched = scope.touched or frozenset()
        # A change to what configures the tool (a deleted config file too) changes its
        # verdict on every file.
        reconfigured = not touched.isdisjoint(config_inputs) or any(
            matches(f, stage.config_files) for f in touched
        )
        chosen = self._selection(stage)
        pool = scope.candidates if reconfigured else scope.files
        mine = tuple(f for f in pool if matches(f, patterns) and chosen(f))
        reason = _scope_skip(stage, mine, (patterns, chosen), scope, reconfigured)
        if reason:
            return self._decide(stage, "skipped", reason, skip_kind=SCOPE_SKIP)
        self.plan.contexts[stage.name] = self._context(stage, python, options, reads, chosen, mine)
        self.plan.contexts[stage.name] = fastpath.enabled_for(
            self.plan.contexts[stage.name], self.request.fast_path
        )

    def _runs(self, stage: Stage, user: Mapping[str, Any]) -> bool:
        """Whether the stage goes on to be planned (False once it is left out or decided)."""
        # A guard stage (the tamper guard) cannot be switched off by the tree it is guarding:
        # for its triggers it runs whatever the config under check says, and only a loud
        # --skip / GATEKEEPER_SKIP leaves it out.
        # A plain run with --base is a guarded run too: the person asked to judge a change.
        guarded = self.request.trigger in stage.default_triggers or (
            stage.judges_change and self.request.base is not None
        )
        explicit = stage.name in self.request.only or user.get("enabled") is True or guarded
        default = stage.decision(self.plan.root, user)[0] and not self.request.only
        if stage.on_for_change and not (explicit or default or self.request.only):
            if user.get("enabled") is False:
                return False
            if not self._judges_change():
                self.plan.order.append(stage.name)
                self._decide(stage, "skipped", NO_BASE)
                return False
            explicit = True  # on for the change: a missing tool is an error, not a skip
        if not (explicit or default):
            if user.get("enabled") is False:
                self.plan.off.append(stage.name)  # said on every run: "N stages off by config"
            return False
        return True

    def _context(
        self,
        stage: Stage,
        python: Path,
        options: dict[str, Any],
        reads: tuple[tuple[str, ...], tuple[str, ...]],
        chosen: Callable[[str], bool],
        mine: tuple[str, ...],
    ) -> StageContext:
        """What the stage runs with: its files, options, interpreter and environment."""
        patterns, config_inputs = reads
        scope = self.scope
        return StageContext(
            stage=stage,
            root=self.plan.root,
            files=mine,
            whole_tree=scope.whole,
            options=options,
            python=python,
            project_python=self.project_probe.python,
            layout=self.plan.layout,
            deadline=time.monotonic() + float(options["timeout"]),  # reset when it starts
            cache_dir=self.state / "tools" / stage.name,
            env={**_tool_env(self.state, stage), **self.request.env},
            base=self.plan.base,
            trigger=self.request.trigger,
            deep=self.request.deep or bool(self.plan.config.get("deep")),
            patterns=patterns,
            config_inputs=config_inputs,
            selected=self._selected(stage, chosen, patterns, mine if scope.whole else None),
        )
        self.plan.contexts[stage.name] = fastpath.enabled_for(
            self.plan.contexts[stage.name], self.request.fast_path
        )

    def _selection(self, stage: Stage) -> Callable[[str], bool]:
        """The tool's own file selection from the project's config (every file when none)."""
        chosen = stage.selection(self.plan.root, self.plan.layout) if stage.selection else None
        return chosen or _every_file

    def _selected(
        self,
        stage: Stage,
        chosen: Callable[[str], bool],
        patterns: tuple[str, ...],
        known: tuple[str, ...] | None,
    ) -> tuple[str, ...]:
        """Every file of the tree the tool selects (the scope's own files in a whole run)."""
        if known is not None:
            return known
        if self.tree_files is None:
            excluded = [str(p) for p in self.plan.config.get("exclude")]
            self.tree_files = [f for f in self.scope.listed if not matches(f, excluded)]
        return tuple(f for f in self.tree_files if matches(f, patterns) and chosen(f))

    def _reads(
        self, stage: Stage, options: Mapping[str, Any]
    ) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """The stage's file patterns and config inputs; None once the stage is decided."""
        root, listed = self.plan.root, self.scope.listed
        try:
            extra = stage.inputs(root, listed) if stage.inputs else StageInputs()
        except Exception as exc:  # a plugin's bug must block, and say whose it is
            self._decide(
                stage,
                "error",
                f"stage {stage.name} could not read its inputs: {type(exc).__name__}: {exc} "
                "(a bug in the stage's plugin)",
            )
            return None
        named = [f for f in listed if matches(f, stage.config_files)]
        config = sorted({*named, *extra.config, *_files_named_in(root, options.get("args", ()))})
        return tuple(extra.patterns or stage.patterns), tuple(config)

    def _judges_change(self) -> bool:
        """The run has a change to judge: a base, or an agent's work since HEAD."""
        request = self.request
        named = request.base is not None or request.compare_to is not None
        return named or request.trigger in CHANGE_TRIGGERS

    def _decide(self, stage: Stage, status: Status, reason: str, **extra: Any) -> None:
        self.plan.decided[stage.name] = StageResult(stage.name, status, reason=reason, extra=extra)

    def _interpreter(self, stage: Stage) -> Path | None:
        """The interpreter that has the stage's tool; None once the stage is decided.

        Which stages run is the project's decision (its config and layout), never what
        happens to be installed: a stage that should run and cannot find its tool is an
        ``error`` with the command that installs it.
        """
        py = self.project_probe.python
        if not stage.tool:
            return py
        version = self.project_probe.tools.get(stage.tool)
        fallback = not stage.needs_project_python and self.own_probe.python != py
        if version is None and fallback:
            # e.g. gatekeeper installed by pre-commit in its own venv, with the tools beside it
            version = self.own_probe.tools.get(stage.tool)
            py = self.own_probe.python
        if version is not None:
            self.plan.tools[stage.tool] = version
            return self._untampered(stage, py)
        project = self.project_probe.python
        where = f"{project} nor in gatekeeper's {self.own_probe.python}" if fallback else project
        self._decide(
            stage,
            "error",
            f"{stage.tool} is not installed in {where}; install it with "
            f"`{project} -m pip install {stage.package or stage.tool}`, or turn the stage off "
            f"with `enabled = false` under [tool.gatekeeper.stages.{stage.name}]",
        )
        return None

    def _untampered(self, stage: Stage, python: Path) -> Path | None:
        """``python``, unless its start-up sets variables that steer the tools (an error)."""
        probe = self.project_probe if python == self.project_probe.python else self.own_probe
        if not probe.set_at_startup:
            return python
        names = ", ".join(sorted(probe.set_at_startup))
        self._decide(
            stage,
            "error",
            f"{python} sets {names} when it starts (from a .pth file or sitecustomize in its "
            "environment, outside the checked tree): it would steer the tools; remove it "
            f"(the start-up files are listed under `environment` in the JSON report)",
        )
        return None

    def _options(self, stage: Stage, user: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults, then the stage's own, then the global timeout, then the user's settings."""
        options: dict[str, Any] = {k: o.default for k, o in COMMON_STAGE_OPTIONS.items()}
        options.update({k: as_option(v).default for k, v in stage.options.items()})
        options["timeout"] = stage.timeout or self.plan.config.get("timeout")
        if "timeout" in self.plan.config.settings:
            options["timeout"] = self.plan.config.get("timeout")
        options.update({k: v for k, v in user.items() if v is not None})
        if self.guarded and "strict_skips" in stage.options:
            options["strict_skips"] = True
        options.update(self.request.options.get(stage.name, {}))
        return options


def _probes(py: Path, own: Path, tools: set[tuple[str, str]], state: Path) -> tuple[Probe, Probe]:
    """The project's interpreter and gatekeeper's own, asked at once when they differ.

    Each probe not yet cached starts an interpreter; side by side they cost one start-up.
    """
    if own == py:
        found = probe(py, tools, cache=state)
        return found, found
    with ThreadPoolExecutor(max_workers=1) as pool:
        mine = pool.submit(probe, own, tools, state)
        return probe(py, tools, cache=state), mine.result()


def _every_file(path: str) -> bool:
    return True


def _scope_skip(
    stage: Stage,
    mine: tuple[str, ...],
    selection: tuple[tuple[str, ...], Callable[[str], bool]],
    scope: Scope,
    reconfigured: bool,
) -> str:
    """Why the change gives the stage nothing to do ("" when it has work).

    ``mine`` are the changed files the tool itself selects: with a tool's own selection
    (mypy's ``files``, pyright's ``include``), a changed file outside it is no reason to run.
    ``selection`` is the stage's file patterns and the tool's own selection; ``reconfigured``
    says the change touched what configures the tool.
    """
    if stage.judges_change:
        return ""  # deleting files is a change too, and changed_files() cannot list them
    if stage.file_local and not mine:
        return "no files to check"
    if stage.file_local or scope.whole or reconfigured:
        return ""
    return _untouched_skip(stage, mine, selection, scope)


def _untouched_skip(
    stage: Stage,
    mine: tuple[str, ...],
    selection: tuple[tuple[str, ...], Callable[[str], bool]],
    scope: Scope,
) -> str:
    """Why none of the touched files concerns a tree-wide stage ("" when one does)."""
    touched = scope.touched_in_scope
    if touched is None:
        touched = frozenset(scope.files)
    if stage.needs_project_python and touched:
        return ""  # it runs the project's code, which may read any file (or miss a deleted one)
    patterns, chosen = selection
    if stage.selection is not None and stage.relevant is None:
        # Deleted files count: a deleted module breaks its importers.
        inside = any(matches(f, patterns) and chosen(f) for f in touched)
        return "" if mine or inside else "no relevant files changed"
    relevant = stage.relevant if stage.relevant is not None else patterns + stage.config_files
    if any(matches(f, relevant) for f in touched):
        return ""  # a deleted module breaks its importers: deletions count
    return "no relevant files changed"


def _files_named_in(root: Path, args: Sequence[Any]) -> list[str]:
    """Repository files named in a stage's ``args`` (``--config-file=ci/mypy.ini``, ``-c x``).

    Such a file configures the tool as much as its usual config files do.
    """
    named = []
    for arg in map(str, args):
        for part in {arg, arg.partition("=")[2]}:
            if not part or part.startswith("-"):
                continue
            path = Path(part) if Path(part).is_absolute() else root / part
            try:
                rel = path.resolve().relative_to(root.resolve()).as_posix()
            except (ValueError, OSError):
                continue
            if path.is_file():
                named.append(rel)
    return named


#: A path that can never exist (a "directory" inside a device file).
NOWHERE = os.path.join(os.devnull, "gatekeeper")


def _tool_env(state: Path, stage: Stage) -> dict[str, str]:
    """The variables every tool of ``stage`` runs with.

    Tool caches go under ``.gatekeeper/`` so a check never writes into the working tree.
    Bytecode is read and written only under the user's state directory
    (``PYTHONPYCACHEPREFIX``): a stale or planted ``__pycache__`` entry in the tree, which is
    not part of what git names, never stands in for its source. Tools that only read the code
    (linters, type checkers) get no home directory, so user-level configuration
    (``~/.config/ruff``, ``~/.config/mypy``, ``~/.mypy.ini``) cannot decide the verdict;
    tests and builds keep it, as the project's own tests may need it (git's identity).
    """
    env = {
        "PYTHONPYCACHEPREFIX": str(pycache_dir()),
        "MYPY_CACHE_DIR": str(state / "tools" / "mypy-cache"),
        "RUFF_CACHE_DIR": str(state / "tools" / "ruff-cache"),
        "NO_COLOR": "1",
    }
    if not stage.needs_project_python:
        user_base = os.environ.get("PYTHONUSERBASE") or str(Path.home() / ".local")
        env.update(HOME=NOWHERE, XDG_CONFIG_HOME=NOWHERE, PYTHONUSERBASE=user_base)
    return env


def _compute(ctx: StageContext) -> StageResult:
    timeout = float(ctx.options["timeout"])
    # Fresh facts too: a fast-path stage runs twice (fast path, full check) in one run.
    fresh = dataclasses.replace(ctx, deadline=time.monotonic() + timeout, facts={})
    fresh.cache_dir.mkdir(parents=True, exist_ok=True)
    return run_stage(fresh)


def _start(
    ctx: StageContext,
    cache: StageCache,
    cacheable: bool,
    handback: fastpath.Handback | None = None,
) -> Callable[[], StageResult]:
    if ctx.fast_path:
        full = _start(dataclasses.replace(ctx, fast_path=False), cache, cacheable)
        lookup = cache.lookup if cacheable else lambda _c: None
        return fastpath.work(ctx, lookup, _compute, full, handback)

    def work() -> StageResult:
        # The key is taken when the stage starts, after any stage it runs `after` (a fixer).
        if cacheable:
            return cache.run(ctx, lambda: _compute(ctx))
        result = _compute(ctx)
        cache.record(ctx.stage.name, result)
        return result

    return work


def _open_cache(the_plan: Plan, request: GateRequest) -> StageCache:
    """The result cache for this run (``--no-cache`` / ``cache = false``: nothing reused)."""
    root = the_plan.root
    excluded = [str(p) for p in the_plan.config.get("exclude")]

    def listing() -> list[str]:
        return [f for f in git.list_files(root) if not (excluded and matches(f, excluded))]

    enabled = bool(the_plan.config.get("cache"))
    state = request.state or state_dir(root)
    return StageCache(
        root, state, listing, the_plan.tools, reuse=enabled and request.use_cache, store=enabled
    )


def _jobs(
    the_plan: Plan,
    cache: StageCache,
    names: Sequence[str] | None = None,
    handback: fastpath.Handback | None = None,
) -> list[Job]:
    jobs = []
    for name, ctx in the_plan.contexts.items():
        if names is not None:
            if name not in names:
                continue
            ctx = dataclasses.replace(ctx, fast_path=False)  # the confirmation: the full check
        cacheable = cache_allowed(ctx.stage, the_plan.config.stage(name))
        work = _start(ctx, cache, cacheable, handback)
        jobs.append(Job(name, work, ctx.stage.after, ctx.stage.writes, cache.expected(ctx.stage)))
    return jobs


def run_gate(request: GateRequest, plugins: PluginSet | None = None) -> RunResult:
    """Run the gate once and return the run's result (the caller reports and records it).

    Started at the top of a repository holding several Python projects, each project is gated
    with its own config (see :mod:`gatekeeper.projects`) and the runs are merged.
    """
    top = project_root(request.root)
    subs = projects(top)
    if subs == [""]:
        return _run_one(request, plugins)
    outcome = run_projects(request, top, subs, lambda one: _run_one(one, plugins))
    if request.record:
        _record(request.state or state_dir(top), outcome)
    return outcome


def _run_one(request: GateRequest, plugins: PluginSet | None) -> RunResult:
    started = time.monotonic()
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    plugins = plugins or load_plugins()
    the_plan = plan(request, plugins)
    root = the_plan.root
    # Read before the stages run: a broken baseline file must not waste a whole run.
    held = _baseline(request, the_plan)
    commit = request.head or git.head_sha(root)
    tree = _tree_id(root, request)
    # What is on disk before the stages run, to prove they all read the same tree.
    before = tree if not request.head else git.tree_hash(root)
    cache = _open_cache(the_plan, request)
    handback = fastpath.Handback(request.still_failing) if request.fast_path else None
    listener = fastpath.listen(request.listener, handback)
    jobs = _jobs(the_plan, cache, handback=handback)
    for name, result in the_plan.decided.items():
        if listener:
            listener(name, result)
    workers, fail_fast = _parallelism(request, the_plan)
    confirmation_s: float | None = None
    try:
        ran = execute(jobs, workers=workers, fail_fast=fail_fast, listener=listener)

        def confirm(names: list[str]) -> dict[str, StageResult]:
            full = _jobs(the_plan, cache, names)
            done = execute(full, workers=workers, fail_fast=fail_fast, listener=request.listener)
            return judge(done)

        # Judged (baseline, base of the change) before the fast path settles: a partial
        # result whose findings are all existing must still be confirmed in full.
        judge = ChangeJudge(request, the_plan, plugins, held if request.use_baseline else None)
        ran, confirmation_s = fastpath.settle(judge({**the_plan.decided, **ran}), confirm)
    finally:
        cache.close()
    results = ran
    stages = tuple(results[n].with_(tool_version=_version(the_plan, n)) for n in the_plan.order)
    stages += _unchanged(the_plan, before, stages)
    # After judging: the guard's findings can be neither baselined nor existing.
    stages = _invariants(the_plan, request, plugins, stages)
    base = judge.info(stages)
    all_scope = bool(stages) and all(
        s.status == "skipped" and s.extra.get("skip_kind") == SCOPE_SKIP for s in stages
    )
    verdict = fastpath.guard(verdict_of(stages, all_skipped_ok=all_scope), stages)
    outcome = RunResult(
        verdict=verdict,
        tree=tree,
        duration_s=time.monotonic() - started,
        stages=stages,
        root=str(root),
        commit=commit,
        trigger=request.trigger,
        started_at=stamp,
        tools=the_plan.tools,
        environment={**the_plan.environment, "changed": remember(the_plan.environment)},
        off_by_config=tuple(the_plan.off),
        base=base,
        confirmation_s=confirmation_s,
    )
    if request.record:
        _record(request.state or state_dir(root), outcome)
    return outcome


def _parallelism(request: GateRequest, the_plan: Plan) -> tuple[int, bool]:
    """The run's worker count and fail-fast setting: the request's, else the config's."""
    workers = request.jobs if request.jobs is not None else int(the_plan.config.get("jobs"))
    fail_fast = (
        request.fail_fast
        if request.fail_fast is not None
        else bool(the_plan.config.get("fail_fast"))
    )
    return workers, fail_fast


#: The name of the result that says the tree changed while the stages ran.
TREE_CHANGED = "tree-changed"


def _unchanged(
    the_plan: Plan, before: str, stages: tuple[StageResult, ...]
) -> tuple[StageResult, ...]:
    """An ``error`` result when the tree on disk is not the one the run started with.

    A test (or any tool) that rewrites files while the gate runs would make the stages after
    it read another tree than the one the verdict names. Stages that write by design
    (:attr:`Stage.writes`) are the exception.
    """
    ran = [s for s in stages if s.name in the_plan.contexts and not s.cached]
    if not ran or any(the_plan.contexts[s.name].stage.writes for s in ran):
        return ()  # replayed results read nothing; a writing stage writes by design
    after = git.tree_hash(the_plan.root)
    if after == before:
        return ()
    changed = git.git(the_plan.root, "diff-tree", "-r", "--name-only", before, after).split()
    listed = ", ".join(changed[:10]) + (
        f" and {len(changed) - 10} more" if len(changed) > 10 else ""
    )
    return (
        StageResult(
            TREE_CHANGED,
            "error",
            reason=f"files changed while the stages ran ({listed or 'the tree'}): the verdict "
            "would be about no single tree; a test or tool wrote into the repository — make "
            "it write to a temporary directory (pytest's tmp_path)",
        ),
    )


def _baseline(request: GateRequest, the_plan: Plan) -> Baseline | None:
    """The baseline that counts: the base's, unless a person runs the gate on their tree.

    For the pre-push hook, CI, the loop and an agent the change under check could have
    recorded its own findings (``gatekeeper baseline``, or a ``baseline`` setting pointing
    at a new file), so only what the base of the change recorded lets a finding through.
    """
    base = request.compare_to or request.base
    if request.trigger != "person" and base:
        return load_baseline_at_base(the_plan.root, base)
    return load_baseline(the_plan.root, the_plan.config.get("baseline"), request.head)


def _invariants(
    the_plan: Plan,
    request: GateRequest,
    plugins: PluginSet,
    stages: tuple[StageResult, ...],
) -> tuple[StageResult, ...]:
    """The tamper guard's invariants (base rules, base tests, reach) added to its result."""
    from gatekeeper.guard import invariants

    context = invariants.Context(the_plan, request, plugins, stages)
    try:
        return invariants.check(context)
    except GatekeeperError as exc:
        # Never fail open: a guard that could not compare blocks the run.
        name = invariants.guard_name(context)
        reason = f"the tamper guard's invariants could not be checked: {exc.message}"
        return tuple(
            s.with_(status="error", reason=reason) if s.name == name else s for s in stages
        )


def _record(state: Path, result: RunResult) -> None:
    from gatekeeper import ledger

    try:
        ledger.record_run(state, result)
    except GatekeeperError as exc:
        # The verdict stands; only its record is missing, and the user is told so.
        print(f"gatekeeper: warning: run not recorded: {exc.message}", file=sys.stderr)


def _version(the_plan: Plan, name: str) -> str | None:
    tool = the_plan.registered[name].stage.tool
    return the_plan.tools.get(tool) if tool else None


def _tree_id(root: Path, request: GateRequest) -> str:
    if request.head:
        return git.git(root, "rev-parse", f"{request.head}^{{tree}}").strip()
    return git.tree_hash(root)


__all__ = ["GateRequest", "Option", "Plan", "load_config", "plan", "run_gate"]
