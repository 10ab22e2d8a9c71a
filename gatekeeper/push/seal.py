"""Sealed push verdicts: seal a push check that passed, and replay it for the same push.

:mod:`gatekeeper.push.verdicts` keeps the records (key, HMAC seal, look-up); this module
decides when a run may be sealed and replays one: :func:`seal` after a push check,
:func:`seal_clean_run` after an attempt that passed (the loop, ``verify``, the Stop hook), and
:func:`replay` in place of a check whose sealed verdict matches.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.push import snapshot

if TYPE_CHECKING:
    from gatekeeper.models import RunResult
    from gatekeeper.push.check import PushOptions


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
    from gatekeeper.push.check import gate
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
    key = verdict_key(root, commit, base, options)
    with snapshot.tree_of(root, commit) as checkout:
        before = before_run(root, checkout, commit, key)
        if before is None:
            return False  # nothing could be sealed: do not spend the check
        result = gate(
            checkout, options, state, base=base, head=commit, why=why, report=False, record=False
        )
        return seal(root, checkout, state, result, before, (commit, base, options))


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
    from gatekeeper.push.check import PushOptions

    head = git.head_sha(root)
    if run.verdict != "passed" or env_skips() or head is None or judged is None:
        return None
    started = time.monotonic()
    try:
        base = upstream_commit(root) or fallback
        if base is None or git.tree_hash_of(root, base) != git.tree_hash_of(root, judged):
            return None
        why = "the attempt's base, as the push will see it"
        stored = seal_for_push(root, run.tree, head, base, why, PushOptions(deep=deep))
    except (GatekeeperError, OSError) as exc:
        why = exc.message if isinstance(exc, GatekeeperError) else str(exc)
        return f"the tree was not sealed for the push: {why}"
    took = time.monotonic() - started
    if not stored:
        return None
    return (
        f"sealed the tree for a push against {base[:10]} ({took:.1f}s): a push of it from "
        "this environment replays the verdict"
    )


def verdict_key(
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


def sealed(
    root: Path, state: Path, key: tuple[str, str] | None, options: PushOptions
) -> dict[str, object] | None:
    """The sealed record for ``key`` (from :func:`verdict_key`), or None: no key, ``--no-cache``,
    or no valid record (see :func:`gatekeeper.push.verdicts.lookup`)."""
    from gatekeeper.push import verdicts

    if key is None or not options.use_cache:
        return None
    return verdicts.lookup(state, key[0], root, key[1])


@dataclass(frozen=True)
class Before:
    """What a seal must find unchanged after the run: the key, and the project interpreter
    (its ``python`` setting, path and stamp) as they were before it."""

    key: tuple[str, str]
    configured: str | None
    python: Path
    stamp: str


def before_run(
    root: Path, checkout: Path, commit: str, key: tuple[str, str] | None
) -> Before | None:
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
    return Before(key, configured, python, interpreter_stamp(python))


def seal(
    root: Path,
    checkout: Path,
    state: Path,
    result: RunResult,
    before: Before | None,
    push: tuple[str, str | None, PushOptions],
) -> bool:
    """Seal a passed run of the commit's own tree when nothing it depends on moved during
    the run and every stage it ran may be replayed (see :func:`replayable`)."""
    from gatekeeper.hashing import interpreter_stamp
    from gatekeeper.push import verdicts

    if before is None or result.verdict != "passed" or result.tree != before.key[1]:
        return False
    if result.environment.get("python") != str(before.python):
        return False
    if not replayable(checkout, result):
        return False
    # Taken again: an install, a config edit or a variable set while the stages ran means
    # the verdict was reached under other conditions than the key says.
    if verdict_key(root, *push) != before.key or interpreter_stamp(before.python) != before.stamp:
        return False
    return verdicts.store(state, before.key[0], result, before.python, before.configured)


def replayable(checkout: Path, result: RunResult) -> bool:
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


def replay(
    root: Path,
    state: Path,
    record: dict[str, object],
    commit: str,
    base: str | None,
    options: PushOptions,
) -> int:
    """Report a sealed verdict as the check of ``commit`` against ``base``, record it in the
    ledger, and return its exit code (0: the record holds passed runs only)."""
    from gatekeeper import ledger
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.push import verdicts
    from gatekeeper.push.check import emit_report, say

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
    emit_report(result, options)
    try:
        ledger.record_run(state, result)
    except GatekeeperError as exc:
        # The verdict stands; only its record is missing, and the user is told so.
        say(options, f"warning: run not recorded: {exc.message}")
    return result.exit_code
