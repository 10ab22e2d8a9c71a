"""What a plugin contributes (:class:`Stage`) and what the core hands it (:class:`StageContext`).

A stage's ``run`` gets a context and returns findings. Everything every stage needs — the
deadline, process groups, the interpreter, repo-relative paths — lives on the context, so a
stage plugin stays a parser plus a few lines that start its tool.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from gatekeeper import launch
from gatekeeper.errors import StageError
from gatekeeper.models import Finding, Severity, StageResult
from gatekeeper.process import Completed, ProcessTimeout, run_process, tail


@dataclass(frozen=True)
class StageInputs:
    """What a stage's tool reads beyond its static declaration, as the project configures it.

    :ivar patterns: the file patterns the tool checks, when the project's config changes
        them (ruff's ``include`` / ``extend-include``); empty: the stage's own ``patterns``.
    :ivar config: repo-relative POSIX paths of more files whose content changes the verdict
        (a config file another one ``extend``s, a plugin module, a stub directory's files).
    """

    patterns: tuple[str, ...] = ()
    config: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    """One check, as a plugin registers it.

    :param name: unique stage name, used on the command line and in config.
    :param run: called with a :class:`StageContext`; returns findings (none means passed),
        raises :class:`~gatekeeper.StageError` when it cannot do its job, or
        :class:`~gatekeeper.StageSkip` when it has nothing to do.
    :param tool: the Python module the stage runs as ``python -m <tool>``; the core checks it
        is installed (and records its version) before the stage runs.
    :param package: the distribution to ``pip install`` when ``tool`` is missing.
    :param needs_project_python: the tool must import the project (pytest, build), so it may
        not fall back to the gate's own environment.
    :param file_local: the tool judges each file on its own (ruff, radon), so a change can be
        checked by passing only the changed files; otherwise it sees the whole program.
    :param patterns: glob patterns (matched on the path and on the file name) of the files
        the stage cares about.
    :param relevant: for whole-program stages, globs of the paths whose change makes the stage
        worth running; defaults to ``patterns`` plus ``config_files``.
    :param config_files: files whose content changes the stage's verdict (cache key, tamper).
    :param options: stage-specific options with their defaults; the default's type is the type
        the config must have.
    :param timeout: default seconds before the stage's processes are killed.
    :param after: stages that must finish before this one starts.
    :param writes: the stage changes files, so it never runs beside stages that read them.
    :param cacheable: the result depends only on the inputs (false for network checks).
    :param default_enabled: enabled in zero-config when its tool is installed.
    :param default_triggers: triggers (``loop``, ``pre-push``, ``agent`` …) for which the stage
        is on by default even when ``default_enabled`` is false (the tamper guard).
    :param judges_change: the stage judges the change itself against ``ctx.base`` (the tamper
        guard), so it runs for any change, even one that only deletes files.
    :param inputs: called once per run with the repository root and every file the gate
        may check (repo-relative POSIX paths); returns the :class:`StageInputs` the project's
        config adds (files the tool includes, config files it follows). It must not raise
        for a config the tool would reject: the tool reports that itself.
    :param narrow: for a file-local stage, derives its findings for ``ctx.files`` from its
        stored result of the whole tree (same tool, options and file contents), so a run
        narrowed to a change (the push after a loop) needs no tool run. Called with the
        narrowed context and the whole tree's result; :func:`narrow_by_file` serves a stage
        whose findings for a file depend on that file alone. None: the stage runs.
    :param fast_path: in an attempt (fix loop, Stop hook, ``verify``) the stage can first check
        what is most likely to fail (tests that failed last time, tests the change affects)
        when the core sets ``ctx.fast_path``; see :attr:`StageContext.fast_path`.
    :param zero_config: with no ``enabled`` setting, decides from the project root whether the
        stage is on, and says why: ``(True, "the project configures mypy")``. None: on when
        ``default_enabled``. Shown by ``gatekeeper stages`` and ``doctor``.
    :param selection: the tool's own file selection read from the project's configuration:
        called with the project root and the discovered layout, returns a predicate on
        repo-relative POSIX paths (True: the tool checks that file when run the project's
        way), or None when the configuration selects nothing narrower than ``patterns``. A
        changed file outside the selection neither triggers the stage nor is passed to it.
    :param on_for_change: on by default whenever the run judges a change: the loop, the Stop
        hook and ``verify``, and any run given a base (``run --base REF``, pre-push, a pull
        request in CI). A person's run, a push or a CI job without a base lists it as skipped
        and says why. Unlike ``default_triggers`` it is no guard: ``--stage``, ``--skip`` and
        ``enabled = false`` leave it out.
    """

    name: str
    run: Callable[[StageContext], Iterable[Finding]]
    description: str = ""
    tool: str | None = None
    package: str | None = None
    needs_project_python: bool = False
    file_local: bool = True
    patterns: tuple[str, ...] = ("*.py", "*.pyi")
    relevant: tuple[str, ...] | None = None
    config_files: tuple[str, ...] = ("pyproject.toml",)
    options: Mapping[str, Any] = field(default_factory=dict)
    timeout: float = 600.0
    after: tuple[str, ...] = ()
    writes: bool = False
    cacheable: bool = True
    default_enabled: bool = True
    default_triggers: tuple[str, ...] = ()
    judges_change: bool = False
    on_for_change: bool = False
    inputs: Callable[[Path, Sequence[str]], StageInputs] | None = None
    narrow: Callable[[StageContext, StageResult], Iterable[Finding]] | None = None
    fast_path: bool = False
    zero_config: Callable[[Path], tuple[bool, str]] | None = None
    selection: Callable[[Path, Layout], Callable[[str], bool] | None] | None = None

    def decision(self, root: Path, user: Mapping[str, Any]) -> tuple[bool, str]:
        """Whether the stage is on for the project at ``root`` by config or zero-config, and
        why (``user``: the stage's own settings)."""
        if isinstance(user.get("enabled"), bool):
            return user["enabled"], f"enabled = {str(user['enabled']).lower()} in the config"
        if self.zero_config is not None:
            return self.zero_config(root)
        if self.default_enabled:
            return True, "on by default"
        return False, "off by default (enable it in the config)"

    @property
    def relevant_patterns(self) -> tuple[str, ...]:
        if self.relevant is not None:
            return self.relevant
        return self.patterns + self.config_files


def narrow_by_file(ctx: StageContext, whole: StageResult) -> list[Finding]:
    """The findings of ``whole`` in ``ctx.files``: for stages that judge each file alone."""
    wanted = set(ctx.files)
    return [f for f in whole.findings if f.path in wanted]


def matches(path: str, patterns: Sequence[str]) -> bool:
    """True when ``path`` (POSIX, repo-relative) or its file name matches one of ``patterns``."""
    name = path.rsplit("/", 1)[-1]
    for p in patterns:
        if "/" in p or p in ("", "."):
            pure = PurePath(path)
            if pure.match(p) or PurePath(pure.name).match(p):
                return True
        elif _name_pattern(p)(name):
            # A pattern of one part matches the file name, as PurePath.match would, without
            # building paths: the planner and the cache test every file against every stage.
            return True
    return False


@functools.lru_cache(maxsize=1024)
def _name_pattern(pattern: str) -> Callable[[str], object]:
    return re.compile(fnmatch.translate(pattern)).match


_RAISED = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception)\b.*$", re.M)


def tripped_on(output: str) -> str:
    """The exception a Python tool died of (the last line of its traceback), or ""."""
    if "Traceback (most recent call last)" not in output:
        return ""
    after = output.rsplit("Traceback (most recent call last)", 1)[1]
    found = _RAISED.findall(after)
    return found[-1].strip()[:300] if found else ""


@dataclass(frozen=True)
class Layout:
    """Where a typical repository keeps its code: found once, offered to every stage."""

    packages: tuple[str, ...]
    modules: tuple[str, ...]
    tests: tuple[str, ...]

    @property
    def sources(self) -> tuple[str, ...]:
        """Packages and top-level modules: the default targets of type checkers."""
        return self.packages + self.modules


@dataclass(frozen=True)
class StageContext:
    """Everything a stage needs to run, prepared by the core.

    :ivar files: repo-relative POSIX paths in scope that match the stage's patterns. For a
        file-local stage these are exactly the files to check.
    :ivar whole_tree: true when every file is in scope (no change-based narrowing).
    :ivar options: the stage's merged options: ``paths``, ``args``, ``timeout`` and the
        stage-specific ones.
    :ivar python: the interpreter the tool runs under; ``project_python`` the project's own.
    :ivar base: the commit or tree the change is compared with (for stages that judge the
        change itself, like the tamper guard), or None when there is nothing to compare with.
    :ivar trigger: who asked for the run: ``person``, ``pre-push``, ``ci``, ``loop``, ``agent``.
    :ivar deep: deep mode (``--deep`` or ``deep = true``): stages may do their slow checks
        (the test-quality stage's mutants).
    :ivar patterns: the file patterns in effect (the stage's own, or what the project's
        config makes the tool include).
    :ivar config_inputs: repo-relative paths of every file that configures the tool
        (its config files, the files they extend, config files named in ``args``).
    :ivar fast_path: check only what is most likely to fail and report its findings. Findings
        of a fast-path run are real and block; an empty one proves nothing: the core then runs
        the stage again with ``fast_path`` false before any verdict can be ``passed``.
    :ivar selected: every file of the tree in the tool's own selection (see
        :attr:`Stage.selection`), whatever the change: what a whole-program stage checks.
    :ivar facts: what the stage tells the report besides findings (``files_checked``: the
        number of files the tool itself says it checked; ``tests``: pytest's counts). A stage
        fills it with :meth:`tell`; the core copies it into the stage's result.
    """

    stage: Stage
    root: Path
    files: tuple[str, ...]
    whole_tree: bool
    options: Mapping[str, Any]
    python: Path
    project_python: Path
    layout: Layout
    deadline: float
    cache_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    base: str | None = None
    trigger: str = "person"
    deep: bool = False
    patterns: tuple[str, ...] = ()
    config_inputs: tuple[str, ...] = ()
    fast_path: bool = False
    selected: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)

    def tell(self, key: str, value: Any) -> None:
        """Record a fact for the report (JSON-serialisable ``value``), e.g. pytest's counts."""
        self.facts[key] = value

    @property
    def args(self) -> list[str]:
        """Extra command-line arguments the user configured for the tool."""
        return [str(a) for a in self.options.get("args", ())]

    @property
    def paths(self) -> list[str]:
        """The configured target paths (whole-program stages), or the stage's files."""
        configured = self.options.get("paths") or []
        return [str(p) for p in configured]

    def remaining(self) -> float:
        """Seconds left before the stage's deadline."""
        return self.deadline - time.monotonic()

    def run(
        self,
        argv: Sequence[str],
        *,
        ok: Iterable[int] = (0, 1),
        env: Mapping[str, str] | None = None,
        stdin: str | None = None,
        cwd: Path | None = None,
    ) -> Completed:
        """Run a command in the repository root (or ``cwd``) under the stage's deadline.

        An exit code outside ``ok`` is the tool failing to do its job: :class:`StageError`
        naming what it tripped on (the last line of a Python traceback) with the output's
        tail. A timeout kills the process group and is a ``StageError``.
        """
        remaining = self.remaining()
        if remaining <= 0:
            raise StageError(f"timed out after {self.options.get('timeout')}s")
        merged = {**os.environ, **self.env, **(env or {})}
        try:
            done = run_process(
                argv, cwd=cwd or self.root, timeout=remaining, env=merged, stdin=stdin
            )
        except ProcessTimeout as exc:
            raise StageError(
                f"timed out after {self.options.get('timeout')}s (process group killed)",
                exc.output,
            ) from None
        except FileNotFoundError:
            raise StageError(f"command not found: {argv[0]}") from None
        if done.returncode not in set(ok):
            # `python -m tool` or the launcher's `python -c …` (gatekeeper.launch): the tool.
            by_module = list(argv[1:2]) in (["-m"], ["-c"])
            tool = self.stage.tool if by_module and self.stage.tool else argv[0]
            raised = tripped_on(done.output)
            raised = f"; it tripped on {raised}" if raised else ""
            raise StageError(
                f"{PurePath(tool).name} exited with code {done.returncode}{raised}",
                tail(done.output),
            )
        return done

    def run_tool(
        self,
        args: Sequence[str],
        *,
        ok: Iterable[int] = (0, 1),
        env: Mapping[str, str] | None = None,
        ahead: Sequence[Path] = (),
        cwd: Path | None = None,
    ) -> Completed:
        """Run ``python -m <stage.tool> *args`` with the interpreter chosen for the stage.

        The tool starts through :mod:`gatekeeper.launch`: a module in the repository root
        cannot stand in for it, and for a stage that runs the project's code the checked
        tree's packages come first on the path (after ``ahead``, the stage's own plugin
        directories), also in ``PYTHONPATH`` for the processes the tests start. A package of
        the tree that still resolves elsewhere (an editable install of another checkout) is a
        :class:`StageError` naming the install; the tool never runs.
        """
        if not self.stage.tool:
            raise StageError(f"stage {self.stage.name} declares no tool to run")
        argv = self.tool_argv(self.stage.tool, args, ahead=ahead)
        if self.stage.needs_project_python:
            inherited = (env or {}).get("PYTHONPATH") or os.environ.get("PYTHONPATH")
            places = [*map(str, ahead), *map(str, self._roots()), inherited]
            env = {**(env or {}), "PYTHONPATH": os.pathsep.join(p for p in places if p)}
        done = self.run(argv, ok=(*ok, launch.STRAY_EXIT), env=env, cwd=cwd)
        why = launch.stray(done.returncode, done.stderr)
        if why is not None:
            raise StageError(
                f"{why}: the tests would run another checkout's code, not this tree's",
                "uninstall the editable install or reinstall it from this checkout "
                "(`pip install -e .`), or let the gate find the package (a top-level or src/ "
                "package)",
            )
        if done.returncode == launch.STRAY_EXIT and launch.STRAY_EXIT not in set(ok):
            raise StageError(
                f"{self.stage.tool} exited with code {done.returncode}", tail(done.output)
            )
        return done

    def _roots(self) -> list[Path]:
        return launch.package_roots(self.root, self.layout.packages)

    def tool_argv(
        self, module: str, args: Sequence[str], *, ahead: Sequence[Path] = ()
    ) -> list[str]:
        """The command line of ``python -m module args`` for this stage (see :meth:`run_tool`)."""
        if not self.stage.needs_project_python:
            return launch.module_argv(self.python, module, args, ahead=ahead)
        from gatekeeper.environment import repository_dirs

        return launch.module_argv(
            self.python,
            module,
            args,
            roots=self._roots(),
            ahead=ahead,
            owned=launch.top_names(self.layout.packages),
            tree=self.root,
            repo=repository_dirs(self.root),
        )

    def relpath(self, path: str | Path) -> str:
        """A tool's path (absolute or relative to the root) as a repo-relative POSIX path."""
        p = Path(path)
        if p.is_absolute():
            try:
                p = p.resolve().relative_to(self.root.resolve())
            except ValueError:
                return p.as_posix()
        text = p.as_posix()
        if text == ".":  # the repository itself: a finding about the whole project has no path
            return ""
        return text[2:] if text.startswith("./") else text

    def finding(
        self,
        rule: str,
        path: str | Path,
        line: int,
        column: int,
        message: str,
        *,
        severity: Severity = "error",
        fixable: bool = False,
        hint: str = "",
        tool: str | None = None,
        stops_tool: bool = False,
        subject: str = "",
        measure: float | None = None,
    ) -> Finding:
        """Build a finding for this stage with a repo-relative path.

        ``stops_tool`` marks a finding that kept the tool from checking everything it was
        asked to (it always blocks, is never baselined and never existing). ``subject`` names
        what the finding is about when it has a stable name (a test's node id, a function's
        qualified name); ``measure`` is the size of the problem a ratchet compares with the
        base (a complexity score). See :class:`~gatekeeper.models.Finding`.
        """
        return Finding(
            stage=self.stage.name,
            tool=tool or self.stage.tool or self.stage.name,
            rule=rule,
            path=self.relpath(path),
            line=max(int(line or 0), 0),
            column=max(int(column or 0), 0),
            message=message.strip(),
            severity=severity,
            fixable=fixable,
            hint=hint,
            stops_tool=stops_tool,
            subject=subject,
            measure=measure,
        )
