"""Re-check after an agent says "fixed": the gate in agent format, compared with the last run."""

from __future__ import annotations

import argparse
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from gatekeeper.commands.options import add_gate_arguments

    add_gate_arguments(parser)
    parser.add_argument(
        "--format",
        "-f",
        choices=("agent", "json"),
        default="agent",
        help="agent (markdown, size-capped) or json (default: agent)",
    )
    parser.add_argument(
        "--max-report-chars", type=int, metavar="N", help="size cap of the agent report"
    )


def _still_failing(previous: dict[str, Any] | None) -> frozenset[str]:
    """What blocked the last run (its fingerprints, and ``error:<stage>``), if anything."""
    if not previous:
        return frozenset()
    found = [str(f) for f in previous.get("fingerprints") or ()]
    return frozenset([*found, *(f"error:{e}" for e in previous.get("errors") or ())])


def main(args: argparse.Namespace) -> int:
    import json
    import sys

    from gatekeeper import git, ledger
    from gatekeeper.change import resolve
    from gatekeeper.commands.options import mode_of
    from gatekeeper.compare import compare
    from gatekeeper.gate import GateRequest, run_gate
    from gatekeeper.state import state_dir

    root = git.repo_root()
    state = state_dir(root)
    previous = ledger.last_run(state, root=str(root))
    only = tuple(args.stage)
    if only and "tamper" not in only:
        only = (*only, "tamper")  # an agent's claim is always checked for suppression creep
    request = GateRequest(
        root=root,
        only=only,
        skip=tuple(args.skip),
        base=args.base,
        use_cache=not args.no_cache,
        deep=args.deep,
        fail_fast=args.fail_fast or None,
        jobs=args.jobs,
        trigger="agent",
        state=state,
        mode=mode_of(args),
        change=None if mode_of(args) else resolve(root, args.base),
        fast_path=True,
        still_failing=_still_failing(previous),
    )
    run = run_gate(request)
    if not args.stage and not args.skip and request.change is not None:
        from gatekeeper.push.seal import seal_clean_run

        judged = request.change.ref
        said = seal_clean_run(root, run, judged, judged, args.deep)
        if said:
            print(f"gatekeeper: {said}", file=sys.stderr)
    comparison = compare(previous, run) if previous else None
    if args.format == "json":
        data = run.to_json()
        data["comparison"] = comparison.to_json() if comparison else None
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return run.exit_code
    from gatekeeper.formats import ReportOptions
    from gatekeeper.reports import agent
    from gatekeeper.verify_report import comparison_section

    cap = args.max_report_chars or 8000
    section = comparison_section(comparison)
    room = max(cap - len(section), agent.MIN_CHARS)
    sys.stdout.write(agent.render(run, ReportOptions(max_chars=room)) + section)
    return run.exit_code
