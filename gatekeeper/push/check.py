"""Run the gate over the commits of a push and say, per commit, what was checked and how.

Shared by the native pre-push hook and the pre-commit hook: both turn their protocol into
:class:`~gatekeeper.pushrefs.Check` records and hand them here.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.push import seal, snapshot
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
    options, is replayed from its sealed verdict instead (:mod:`gatekeeper.push.seal`).
    """
    base = options.base or check.base
    why = f"changes since {options.base}" if options.base else check.why
    scope = "all files (--all-files)" if options.all_files else why
    refs = ", ".join(check.refs)
    key = seal.verdict_key(root, check.commit, base, options)
    sealed = seal.sealed(root, state, key, options)
    if sealed is not None:
        code = seal.replay(root, state, sealed, check.commit, base, options)
        say(options, f"{WORDS[code]}: commit {check.commit[:12]} ({refs})")
        return code
    with snapshot.tree_of(root, check.commit) as tree:
        say(
            options,
            f"checking commit {check.commit[:12]} ({refs}): {scope}, in a temporary worktree",
        )
        before = seal.before_run(root, tree, check.commit, key)
        result = gate(tree, options, state, base=base, head=check.commit, why=why)
        seal.seal(root, tree, state, result, before, (check.commit, base, options))
    code = result.exit_code
    say(options, f"{WORDS[code]}: commit {check.commit[:12]} ({refs})")
    return code


def check_tree(root: Path, options: PushOptions) -> int:
    """Run the gate on the working tree as it is (a manual run through pre-commit)."""
    from gatekeeper.state import state_dir

    _announce_skips(options)
    why = f"--base {options.base}" if options.base else "none (no base was given)"
    result = gate(root, options, state_dir(root), base=options.base, head=None, why=why)
    return result.exit_code


WORDS = {0: "PASSED", 1: "FAILED", 2: "ERROR (the gate could not run)"}


def gate(
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
    """Run the gate as the push hook does over ``tree`` (a snapshot of ``head``, or the working
    tree when ``head`` is None) and, with ``report``, print its report."""
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
        emit_report(result, options, plugins)
    return result


def emit_report(result: RunResult, options: PushOptions, plugins: PluginSet | None = None) -> None:
    """Print ``result`` in the hook's format (a built-in one without loading the plugins)."""
    from gatekeeper.commands.options import use_color
    from gatekeeper.formats import ReportOptions
    from gatekeeper.reporting import builtin_formats, emit, resolve_format

    fmt = None if plugins else builtin_formats().get(options.format)
    if fmt is None:
        from gatekeeper.plugins import load_plugins

        fmt = resolve_format(plugins or load_plugins(), options.format)
    emit(result, fmt, ReportOptions(color=use_color("auto", sys.stdout)))
    sys.stdout.flush()
