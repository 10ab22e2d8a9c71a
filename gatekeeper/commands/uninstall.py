"""Remove the pre-push hook that `gatekeeper install` wrote (and nothing else)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options: uninstall only ever removes what install wrote."""


def main(args: argparse.Namespace) -> int:
    import os

    from gatekeeper import git
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.push import hookscript

    root = git.repo_root()
    target = hookscript.hooks_dir(root) / hookscript.HOOK
    chained = target.parent / (target.name + hookscript.CHAINED_SUFFIX)
    if not target.exists():
        print(f"gatekeeper: no pre-push hook at {target}: nothing to uninstall")
        return 0
    if not hookscript.is_ours(target):
        raise GatekeeperError(
            f"{target} was not written by gatekeeper; left alone",
            "remove it yourself if you no longer want it",
        )
    if chained.exists():
        os.replace(chained, target)
        print(f"gatekeeper: removed the gate; restored the previous hook at {target}")
    else:
        target.unlink()
        print(f"gatekeeper: removed {target}")
    return 0
