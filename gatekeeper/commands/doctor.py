"""Check the setup: config, stages and their tools, hooks, baseline, cache and ledger.

Exit 0 when the gate can run as set up (warnings allowed), 1 when something is broken; every
problem comes with a fix line.
"""

from __future__ import annotations

import argparse

_MARK = {"ok": "✓", "info": "-", "warn": "!", "fail": "✗"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def main(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from gatekeeper.doctor import run_checks

    checks = run_checks()
    failed = [c for c in checks if c.level == "fail"]
    if args.format == "json":
        print(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
        return 1 if failed else 0
    width = max(len(c.name) for c in checks)
    for c in checks:
        print(f"  {_MARK[c.level]} {c.name:<{width}}  {c.detail}")
        if c.fix and c.level in ("warn", "fail"):
            print(f"    {'':<{width}}  fix: {c.fix}")
    warned = sum(1 for c in checks if c.level == "warn")
    if failed:
        print(f"\n{len(failed)} problem{'s' if len(failed) != 1 else ''} to fix, {warned} warnings")
        return 1
    print(f"\nready: the gate can run ({warned} warning{'s' if warned != 1 else ''})")
    return 0
