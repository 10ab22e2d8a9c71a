"""Install the native git pre-push hook that runs the gate on every push."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace a pre-push hook that gatekeeper did not write (kept as a backup)",
    )
    parser.add_argument(
        "--chain",
        action="store_true",
        help="keep an existing pre-push hook and run it before the gate",
    )


def main(args: argparse.Namespace) -> int:
    import os
    import sys

    from gatekeeper import git
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.push import hookscript

    if args.force and args.chain:
        raise GatekeeperError("--force and --chain exclude each other", "choose one")
    root = git.repo_root()
    target = hookscript.hooks_dir(root) / hookscript.HOOK
    chained = target.parent / (target.name + hookscript.CHAINED_SUFFIX)
    note = ""
    if target.exists() and not hookscript.is_ours(target):
        if args.chain:
            if chained.exists():
                raise GatekeeperError(
                    f"cannot chain: {chained} already exists",
                    "move one of the two hooks away, then run `gatekeeper install --chain`",
                )
            os.replace(target, chained)
            note = f"; the previous hook runs first (moved to {chained.name})"
        elif args.force:
            backup = target.parent / (target.name + hookscript.REPLACED_SUFFIX)
            os.replace(target, backup)
            note = f"; the previous hook was replaced (kept as {backup})"
        else:
            raise GatekeeperError(
                f"{target} exists and was not written by gatekeeper",
                "`gatekeeper install --chain` runs it before the gate; "
                "`--force` replaces it (keeping a backup)",
            )
    python = sys.executable
    text = hookscript.render(python, chained if chained.exists() else None)
    hookscript.write_executable(target, text)
    print(f"gatekeeper: installed {target} (runs {python} -m gatekeeper){note}")
    return 0
