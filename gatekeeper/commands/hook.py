"""Entry points for hooks: `gatekeeper hook pre-push|pre-commit|claude-stop` (called by tools)."""

from __future__ import annotations

import argparse
import importlib

#: hook name -> module in gatekeeper.hooks with ``add_arguments`` and ``main``.
HOOKS: dict[str, str] = {
    "pre-push": "gatekeeper.hooks.pre_push",
    "pre-commit": "gatekeeper.hooks.pre_commit",
    "claude-stop": "gatekeeper.hooks.claude_stop",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="hook", metavar="HOOK")
    sub.required = True
    for name, module_name in HOOKS.items():
        module = importlib.import_module(module_name)
        doc = (module.__doc__ or "").strip().splitlines()
        hook = sub.add_parser(name, help=doc[0] if doc else "", description=doc[0] if doc else "")
        module.add_arguments(hook)
        hook.set_defaults(_hook_module=module)


def main(args: argparse.Namespace) -> int:
    code: int = args._hook_module.main(args)
    return code
