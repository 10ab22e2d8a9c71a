"""pre-commit's pre-push stage: check the pushed commit once (`gatekeeper hook pre-commit`).

pre-commit runs the hook with ``PRE_COMMIT_FROM_REF`` / ``PRE_COMMIT_TO_REF`` for the ref it
is pushing. Without them (``pre-commit run gatekeeper --hook-stage manual``) the working tree
is checked, like ``gatekeeper run``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gatekeeper.push.refs import Check


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from gatekeeper.commands.options import add_gate_arguments

    # pre-commit appends file names only when pass_filenames is true; accept and ignore them
    # so a config that forgets `pass_filenames: false` still checks the whole push.
    parser.add_argument("filenames", nargs="*", help=argparse.SUPPRESS)
    add_gate_arguments(parser)
    parser.add_argument(
        "--format", "-f", default="text", metavar="FORMAT", help="report format (default: text)"
    )


def pushed_check(root: Path, remote: str, from_ref: str, to_ref: str) -> Check:
    """The check for pre-commit's from/to refs (from_ref may be empty: a new branch)."""
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.push import refs as pushrefs

    commit = pushrefs.commit_of(root, to_ref)
    # Name the check after the branch being pushed when pre-commit says which it is.
    label = os.environ.get("PRE_COMMIT_REMOTE_BRANCH") or to_ref
    if commit is None:
        raise GatekeeperError(
            f"PRE_COMMIT_TO_REF {to_ref!r} is not a commit in this repository",
            "run the hook through `git push` or `pre-commit run --hook-stage pre-push`",
        )
    old = pushrefs.commit_of(root, from_ref) if from_ref else None
    fork = pushrefs.merge_base(root, old, commit) if old else None
    if fork is not None:
        return pushrefs.Check(commit, fork, (label,), f"since {fork[:10]} (PRE_COMMIT_FROM_REF)")
    ref = pushrefs.PushedRef(label, commit, label, pushrefs.ZERO)
    base, why = pushrefs.base_for(root, remote, ref, commit)
    return pushrefs.Check(commit, base, (label,), why)


def main(args: argparse.Namespace) -> int:
    from gatekeeper import git
    from gatekeeper.push import check as pushgate

    pushgate.forget_hook_location()
    root = git.repo_root()
    options = pushgate.PushOptions.from_args(args)
    remote = os.environ.get("PRE_COMMIT_REMOTE_NAME", "origin")
    to_ref = os.environ.get("PRE_COMMIT_TO_REF", "")
    local = os.environ.get("PRE_COMMIT_LOCAL_BRANCH", "")
    if to_ref:
        check = pushed_check(root, remote, os.environ.get("PRE_COMMIT_FROM_REF", ""), to_ref)
    elif local:
        # A push that includes the root commit: pre-commit sends no refs, only the branch.
        check = whole_check(root, local)
    else:
        pushgate.say(options, "not run by a push (no PRE_COMMIT_TO_REF): checking the working tree")
        return pushgate.check_tree(root, options)
    return pushgate.check_push(root, [check], [], options)


def whole_check(root: Path, local_ref: str) -> Check:
    """Every file of the commit ``local_ref`` names (a push of a whole history)."""
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.push import refs as pushrefs

    commit = pushrefs.commit_of(root, local_ref)
    if commit is None:
        raise GatekeeperError(
            f"PRE_COMMIT_LOCAL_BRANCH {local_ref!r} does not name a commit",
            "push a branch or a commit",
        )
    return pushrefs.Check(commit, None, (local_ref,), "everything (the push starts at a root)")
