"""Run the gate over the commits of a push and say, per commit, what was checked and how.

Shared by the native pre-push hook and the pre-commit hook: both turn their protocol into
:class:`~gatekeeper.pushrefs.Check` records and hand them here.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper.push import snapshot
from gatekeeper.push.refs import Check, Skipped

if TYPE_CHECKING:
    from gatekeeper.models import RunResult
    from gatekeeper.plugins import PluginSet

BYPASS = "git push --no-verify"

# Set by git for the hook; they would point our own git calls (and the project's tests, which
# may run git) at the wrong repository once we work in a snapshot.
_GIT_LOCATION_VARS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX")


@dataclass(frozen=True)
class PushOptions:
    """How the hook was asked to check: the gate options it accepts on its command line."""

    all_files: bool = False
    all_findings: bool = False  # --all: block on findings already at the base too
    base: str | None = None
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    use_cache: bool = True
    fail_fast: bool | None = None
    jobs: int | None = None
    format: str = "text"
    deep: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PushOptions:
        return cls(
            all_files=bool(getattr(args, "all_files", False)),
            all_findings=bool(getattr(args, "all_findings", False)),
            base=getattr(args, "base", None),
            only=tuple(getattr(args, "stage", ()) or ()),
            skip=tuple(getattr(args, "skip", ()) or ()),
            use_cache=not getattr(args, "no_cache", False),
            fail_fast=getattr(args, "fail_fast", False) or None,
            jobs=getattr(args, "jobs", None),
            format=getattr(args, "format", "text"),
            deep=bool(getattr(args, "deep", False)),
        )


def say(options: PushOptions, message: str) -> None:
    """A status line for the person pushing.

    With the text report it goes to stdout, in order with the report; with a machine format
    (json, sarif …) to stderr, so stdout stays parseable.
    """
    stream = sys.stdout if options.format == "text" else sys.stderr
    sys.stdout.flush()
    print(f"gatekeeper: {message}", file=stream, flush=True)


def forget_hook_location() -> None:
    """Drop git's location variables so every git call finds its repository from its cwd."""
    for name in _GIT_LOCATION_VARS:
        os.environ.pop(name, None)


def _announce_skips(options: PushOptions) -> None:
    from gatekeeper.environment import env_skips

    named = [*options.skip, *(s for s in env_skips() if s not in options.skip)]
    if named:
        say(
            options,
            f"WARNING: skipping {', '.join(named)} on request (--skip / GATEKEEPER_SKIP): "
            "this push is NOT fully checked",
        )


def check_push(
    root: Path, checks: Sequence[Check], skipped: Sequence[Skipped], options: PushOptions
) -> int:
    """Check every commit; the exit code is the worst of their exit codes (0 when none)."""
    from gatekeeper.state import state_dir

    state = state_dir(root)
    snapshot.sweep(root)
    for skip in skipped:
        say(options, f"{skip.ref}: {skip.reason}")
    if not checks:
        say(options, "nothing to check in this push")
        return 0
    _announce_skips(options)
    worst = 0
    # A push killed with SIGTERM still stops its tools and removes its snapshot.
    with snapshot.terminate_as_interrupt():
        for check in checks:
            worst = max(worst, check_commit(root, check, state, options))
    if worst:
        say(
            options,
            "push blocked: fix what is reported above, commit, and push again "
            f"(to bypass the gate, which is not recommended: {BYPASS})",
        )
    return worst


def check_commit(root: Path, check: Check, state: Path, options: PushOptions) -> int:
    """Run the gate on one commit, in a snapshot of it, and print its report.

    A tree that already passed against a base with the same tree, here and with the same
    options, is replayed from its sealed verdict instead (:mod:`gatekeeper.push.verdicts`).
    """
    base = options.base or check.base
    why = f"changes since {options.base}" if options.base else check.why
    scope = "all files (--all-files)" if options.all_files else why
    refs = ", ".join(check.refs)
    key = _verdict_key(root, check.commit, base, options)
    sealed = _sealed(root, state, key, options)
    if sealed is not None:
        code = _replay(root, state, sealed, check.commit, base, options)
        say(options, f"{_WORDS[code]}: commit {check.commit[:12]} ({refs})")
        return code
    with snapshot.tree_of(root, check.commit) as tree:
        say(
            options,
            f"checking commit {check.commit[:12]} ({refs}): {scope}, in a temporary worktree",
        )
        before = _before_run(root, tree, check.commit, key)
        result = _gate(tree, options, state, base=base, head=check.commit, why=why)
        _seal(root, tree, state, result, before, (check.commit, base, options))
    code = result.exit_code
    say(options, f"{_WORDS[code]}: commit {check.commit[:12]} ({refs})")
    return code


def seal_for_push(
    root: Path, tree: str, parent: str, base: str, why: str, options: PushOptions
) -> bool:
    """Check ``tree`` as a push of it against ``base`` would, and seal a pass for that push.

    Called through :func:`seal_clean_run` when an attempt passes (the loop, ``verify``, the
    Stop hook), so the push of that tree is a look-up. The tree gets a commit of its own
    (parent ``parent``, no ref: git collects it) for the snapshot; the run is not reported or
    recorded. True when a verdict was sealed.

    :raises GatekeeperError: git cannot make the commit or the snapshot.
    """
    from gatekeeper import git
    from gatekeeper.state import state_dir

    identity = {
        "GIT_AUTHOR_NAME": "gatekeeper",
        "GIT_AUTHOR_EMAIL": "gatekeeper@localhost",
        "GIT_COMMITTER_NAME": "gatekeeper",
        "GIT_COMMITTER_EMAIL": "gatekeeper@localhost",
    }
    message = "gatekeeper: an attempt's tree, sealed for the push"
    commit = git.git(root, "commit-tree", tree, "-p", parent, "-m", message, env=identity).strip()
    state = state_dir(root)
    key = _verdict_key(root, commit, base, options)
    with snapshot.tree_of(root, commit) as checkout:
        before = _before_run(root, checkout, commit, key)
        if before is None:
            return False  # nothing could be sealed: do not spend the check
        result = _gate(
            checkout, options, state, base=base, head=commit, why=why, report=False, record=False
        )
        return _seal(root, checkout, state, result, before, (commit, base, options))


def seal_clean_run(
    root: Path, run: RunResult, judged: str | None, fallback: str | None, deep: bool
) -> str | None:
    """After an attempt that passed with every stage on, seal its tree for the push.

    The push is predicted: the current branch pushed to its upstream (its base: the upstream
    commit), else ``fallback`` (the commit the loop or agent session started from). It is
    sealed only when that base has the tree the attempt judged its change against
    (``judged``, a tree or commit), so the stages that judge the change replay from the
    result cache and the seal costs about what the push would have. An optimisation only:
    nothing is raised; the line for the person says what happened (None: nothing to say).
    """
    from gatekeeper import git
    from gatekeeper.change import upstream_commit
    from gatekeeper.environment import env_skips
    from gatekeeper.errors import GatekeeperError

    head = git.head_sha(root)
    if run.verdict != "passed" or env_skips() or head is None or judged is None:
        return None
    started = time.monotonic()
    try:
        base = upstream_commit(root) or fallback
        if base is None or git.tree_hash_of(root, base) != git.tree_hash_of(root, judged):
            return None
        why = "the attempt's base, as the push will see it"
        sealed = seal_for_push(root, run.tree, head, base, why, PushOptions(deep=deep))
    except (GatekeeperError, OSError) as exc:
        why = exc.message if isinstance(exc, GatekeeperError) else str(exc)
        return f"the tree was not sealed for the push: {why}"
    took = time.monotonic() - started
    if not sealed:
        return None
    return (
        f"sealed the tree for a push against {base[:10]} ({took:.1f}s): a push of it from "
        "this environment replays the verdict"
    )


def _verdict_key(
    root: Path, commit: str, base: str | None, options: PushOptions
) -> tuple[str, str] | None:
    """The sealed-verdict key of a push of ``commit`` against ``base``, and the commit's
    tree (None: nothing is sealed for this push)."""
    from gatekeeper import git
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.push import verdicts

    if options.all_files or options.base:
        # --all-files is not a check of the change; a --base given by name is resolved in
        # the snapshot, where HEAD is the pushed commit, not here. Both always run.
        return None
    asked = [f"{commit}^{{tree}}", *([f"{base}^{{tree}}"] if base else [])]
    try:
        out = git.git(root, "rev-parse", "--path-format=absolute", "--git-common-dir", *asked)
    except GatekeeperError:
        return None
    common, tree, *rest = out.splitlines()
    settings = {
        "only": sorted(options.only),
        "skip": sorted(options.skip),
        "all_findings": options.all_findings,
        "deep": options.deep,
    }
    return verdicts.key(root, Path(common), tree, rest[0] if rest else None, settings), tree


def _sealed(
    root: Path, state: Path, key: tuple[str, str] | None, options: PushOptions
) -> dict[str, Any] | None:
    from gatekeeper.push import verdicts

    if key is None or not options.use_cache:
        return None
    return verdicts.lookup(state, key[0], root, key[1])


@dataclass(frozen=True)
class _Before:
    """What a seal must find unchanged after the run: the key, and the project interpreter
    (its ``python`` setting, path and stamp) as they were before it."""

    key: tuple[str, str]
    configured: str | None
    python: Path
    stamp: str


def _before_run(
    root: Path, checkout: Path, commit: str, key: tuple[str, str] | None
) -> _Before | None:
    """The seal's preconditions, taken before the run (None: this run is never sealed).

    The snapshot must hold exactly the commit's tree (see
    :func:`~gatekeeper.push.verdicts.matches_tree`) and be a single project, whose
    interpreter is the one to check again on replay.
    """
    from gatekeeper.config import read_settings
    from gatekeeper.environment import project_python
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.hashing import interpreter_stamp
    from gatekeeper.projects import projects
    from gatekeeper.push import verdicts

    if key is None or projects(checkout) != [""]:
        return None
    if not verdicts.matches_tree(root, checkout, commit):
        return None
    try:
        configured = read_settings(checkout)[1].get("python")
        python = project_python(checkout, configured)
    except GatekeeperError:
        return None
    return _Before(key, configured, python, interpreter_stamp(python))


def _seal(
    root: Path,
    checkout: Path,
    state: Path,
    result: RunResult,
    before: _Before | None,
    push: tuple[str, str | None, PushOptions],
) -> bool:
    """Seal a passed run of the commit's own tree when nothing it depends on moved during
    the run and every stage it ran may be replayed (see :func:`_replayable`)."""
    from gatekeeper.hashing import interpreter_stamp
    from gatekeeper.push import verdicts

    if before is None or result.verdict != "passed" or result.tree != before.key[1]:
        return False
    if result.environment.get("python") != str(before.python):
        return False
    if not _replayable(checkout, result):
        return False
    # Taken again: an install, a config edit or a variable set while the stages ran means
    # the verdict was reached under other conditions than the key says.
    if _verdict_key(root, *push) != before.key or interpreter_stamp(before.python) != before.stamp:
        return False
    return verdicts.store(state, before.key[0], result, before.python, before.configured)


def _replayable(checkout: Path, result: RunResult) -> bool:
    """Every stage that ran may be replayed: the cache is on, and each is cacheable (its
    result depends only on its inputs) or a change judge reading only git (the tamper guard).

    A command stage that reads the network or the clock, or anything a ``cache = false``
    setting excludes, must run on every push.
    """
    from gatekeeper.cache import cache_allowed
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.gate import load_config
    from gatekeeper.plugins import load_plugins

    try:
        config, registered = load_config(checkout, load_plugins())
    except GatekeeperError:
        return False
    if not config.get("cache"):
        return False
    for stage in result.stages:
        if stage.status == "skipped":
            continue
        found = registered.get(stage.name)
        if found is None:
            return False
        judge = found.stage.tool is None and found.stage.judges_change and not found.stage.writes
        if not judge and not cache_allowed(found.stage, config.stage(stage.name)):
            return False
    return True


def _replay(
    root: Path,
    state: Path,
    record: dict[str, Any],
    commit: str,
    base: str | None,
    options: PushOptions,
) -> int:
    from gatekeeper import ledger
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.push import verdicts

    started = time.monotonic()
    result = verdicts.replay(record, commit, base, root)
    result = dataclasses.replace(result, duration_s=time.monotonic() - started)
    say(
        options,
        f"commit {commit[:12]}: its tree passed this check against the same base on "
        f"{record.get('sealed_at', '?')} (same options, tools, settings and environment): "
        "replayed (`cache = false` in the config, or `gatekeeper hook pre-push … --no-cache`, "
        "checks again)",
    )
    _emit(result, options)
    try:
        ledger.record_run(state, result)
    except GatekeeperError as exc:
        # The verdict stands; only its record is missing, and the user is told so.
        say(options, f"warning: run not recorded: {exc.message}")
    return result.exit_code


def check_tree(root: Path, options: PushOptions) -> int:
    """Run the gate on the working tree as it is (a manual run through pre-commit)."""
    from gatekeeper.state import state_dir

    _announce_skips(options)
    why = f"--base {options.base}" if options.base else "none (no base was given)"
    result = _gate(root, options, state_dir(root), base=options.base, head=None, why=why)
    return result.exit_code


_WORDS = {0: "PASSED", 1: "FAILED", 2: "ERROR (the gate could not run)"}


def _gate(
    tree: Path,
    options: PushOptions,
    state: Path,
    *,
    base: str | None,
    head: str | None,
    why: str,
    report: bool = True,
    record: bool = True,
) -> RunResult:
    from gatekeeper.change import ChangeBase
    from gatekeeper.gate import GateRequest, run_gate
    from gatekeeper.plugins import load_plugins

    plugins = load_plugins()
    request = GateRequest(
        root=tree,
        only=options.only,
        skip=options.skip,
        base=None if options.all_files else base,
        head=head,
        compare_to=base,
        trigger="pre-push",
        mode="all" if options.all_findings else None,
        change=ChangeBase(base, why if base else f"none: {why}"),
        use_cache=options.use_cache,
        fail_fast=options.fail_fast,
        jobs=options.jobs,
        state=state,
        deep=options.deep,
        record=record,
    )
    result = run_gate(request, plugins)
    if report:
        _emit(result, options, plugins)
    return result


def _emit(result: RunResult, options: PushOptions, plugins: PluginSet | None = None) -> None:
    from gatekeeper.commands.options import use_color
    from gatekeeper.formats import ReportOptions
    from gatekeeper.reporting import builtin_formats, emit, resolve_format

    fmt = None if plugins else builtin_formats().get(options.format)
    if fmt is None:
        from gatekeeper.plugins import load_plugins

        fmt = resolve_format(plugins or load_plugins(), options.format)
    emit(result, fmt, ReportOptions(color=use_color("auto", sys.stdout)))
    sys.stdout.flush()
