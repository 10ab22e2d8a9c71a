"""Drive coding agents until the gate is clean, stuck, or out of budget (the fix loop).

Exit 0 clean, 1 not clean when the loop stopped (budget spent, stuck, tampering), 2 the gate
could not run, 130 interrupted.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

    from gatekeeper.loop.driver import LoopResult


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from gatekeeper.commands.options import (
        add_all_argument,
        add_deep_argument,
        add_report_arguments,
    )

    parser.add_argument(
        "--agent",
        action="append",
        default=[],
        required=True,
        metavar="CMD",
        help="fixer command line or preset (claude, codex, aider); repeat for a ladder, "
        "cheapest first",
    )
    parser.add_argument(
        "--max-attempts",
        type=_positive_int,
        default=5,
        metavar="N",
        help="fixer runs in all (default: 5)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=900.0,
        metavar="SECONDS",
        help="wall-clock limit of one fixer run; its process group is killed (default: 900)",
    )
    parser.add_argument(
        "--max-minutes",
        type=_positive_float,
        default=60.0,
        metavar="M",
        help="wall-clock budget of the whole loop (default: 60)",
    )
    parser.add_argument(
        "--stage", action="append", default=[], metavar="NAME", help="run only this stage"
    )
    parser.add_argument(
        "--skip", action="append", default=[], metavar="NAME", help="skip this stage, loudly"
    )
    parser.add_argument(
        "--jobs", "-j", type=int, metavar="N", help="stages to run at once (default: one per core)"
    )
    add_deep_argument(parser)
    parser.add_argument(
        "--base",
        metavar="REF",
        help="judge the change since REF (default: the merge-base with the upstream or the "
        "remote's default branch, fixed when the loop starts)",
    )
    add_all_argument(parser)
    add_report_arguments(parser)


def _summary(result: LoopResult) -> str:
    used = sum(1 for a in result.attempts if a.get("fixer"))
    lines = [
        f"loop {result.loop_id}: {result.stop_reason.upper()} after {used} "
        f"attempt{'s' if used != 1 else ''} in {result.duration_s:.1f}s "
        f"(fixers: {', '.join(result.fixers)})"
    ]
    for a in result.attempts:
        auto = a.get("autofix") or {}
        if auto.get("fixed"):
            lines.append(f"  attempt {a['attempt']}: autofix fixed {auto['fixed']}")
        if a.get("fixer"):
            exit_text = "timeout" if a.get("fixer_timed_out") else f"exit {a.get('fixer_exit')}"
            lines.append(
                f"  attempt {a['attempt']}: `{a['fixer']}` {exit_text}; fixed {a['fixed']}, "
                f"new {a['new']}, persisting {a['persisting']}"
                + (f" — stuck: {a['stuck']}" if a.get("stuck") else "")
                + (f" → escalated to `{a['escalated_to']}`" if a.get("escalated_to") else "")
            )
    if result.handoff:
        lines += ["", result.handoff.rstrip()]
    return "\n".join(lines) + "\n"


def main(args: argparse.Namespace) -> int:
    from gatekeeper.commands.options import mode_of, report_options
    from gatekeeper.loop.driver import LoopRequest, run_loop
    from gatekeeper.plugins import load_plugins
    from gatekeeper.reporting import render, resolve_format
    from gatekeeper.reports.json_report import dumps

    plugins = load_plugins()
    fmt = resolve_format(plugins, args.format)
    request = LoopRequest(
        agents=tuple(args.agent),
        max_attempts=args.max_attempts,
        timeout=args.timeout,
        max_minutes=args.max_minutes,
        only=tuple(args.stage),
        skip=tuple(args.skip),
        max_report_chars=args.max_report_chars,
        jobs=args.jobs,
        deep=args.deep,
        base=args.base,
        mode=mode_of(args),
    )

    def notify(line: str) -> None:
        print(
            f"gatekeeper loop: {line.strip()}" if not line.startswith(" ") else line,
            file=sys.stderr,
            flush=True,
        )

    # CI cancels a job with SIGTERM: stop the fixer's process group exactly as on Ctrl-C, so
    # no agent keeps editing the tree after the loop is gone.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = run_loop(request, plugins, notify)
    except KeyboardInterrupt:
        from gatekeeper.process import kill_all

        kill_all()
        print(
            "gatekeeper: error: loop interrupted; the running fixer or stage was stopped",
            file=sys.stderr,
        )
        print("  hint: files it changed stay as they are; `git diff` shows them", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    if fmt.name == "json":
        sys.stdout.write(dumps(result.to_json()))
    else:
        sys.stdout.write(render(result.run, fmt, report_options(args)))
        if fmt.name in ("text", "agent"):
            sys.stdout.write("\n" + _summary(result))
    return result.exit_code
