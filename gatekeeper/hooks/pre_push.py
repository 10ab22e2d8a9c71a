"""git's pre-push hook: validate every commit being pushed (called as `pre-push REMOTE URL`)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from gatekeeper.commands.options import add_gate_arguments

    parser.add_argument("remote", help="the remote's name (git's $1)")
    parser.add_argument("url", nargs="?", default="", help="the remote's URL (git's $2)")
    add_gate_arguments(parser)
    parser.add_argument(
        "--format", "-f", default="text", metavar="FORMAT", help="report format (default: text)"
    )


def main(args: argparse.Namespace) -> int:
    from gatekeeper import git
    from gatekeeper.push import check as pushgate
    from gatekeeper.push import refs as pushrefs

    pushgate.forget_hook_location()
    root = git.repo_root()
    if sys.stdin.isatty():
        from gatekeeper.errors import GatekeeperError

        raise GatekeeperError(
            "the pre-push hook reads git's ref lines on stdin, and stdin is a terminal",
            "let `git push` run it (`gatekeeper install`), or pipe "
            "'<local ref> <local sha> <remote ref> <remote sha>' lines into it",
        )
    refs = pushrefs.parse_lines(sys.stdin.read())
    checks, skipped = pushrefs.plan_checks(root, args.remote, refs)
    return pushgate.check_push(root, checks, skipped, pushgate.PushOptions.from_args(args))
