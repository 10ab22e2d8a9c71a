"""Command-line options shared by the verbs that run the gate."""

from __future__ import annotations

import argparse
import os
import sys

from gatekeeper.formats import ReportOptions


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of every verb that runs the gate (run, verify, ci, loop …)."""
    parser.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this stage (repeatable); enables it explicitly",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="NAME",
        help="skip this stage, loudly (repeatable; also GATEKEEPER_SKIP=a,b)",
    )
    parser.add_argument(
        "--base",
        metavar="REF",
        help="check only what changed since REF; findings already at REF do not block "
        "(default base: the merge-base with the upstream or the remote's default branch)",
    )
    add_all_argument(parser)
    parser.add_argument(
        "--all-files",
        action="store_true",
        help="check every file, not only what changed (overrides --base and the push's base "
        "for the scope; findings already at the base still do not block without --all)",
    )
    parser.add_argument("--no-cache", action="store_true", help="ignore cached stage results")
    add_deep_argument(parser)
    parser.add_argument(
        "--fail-fast", action="store_true", help="stop the remaining stages at the first failure"
    )
    parser.add_argument(
        "--jobs", "-j", type=int, metavar="N", help="stages to run at once (default: one per core)"
    )


def add_deep_argument(parser: argparse.ArgumentParser) -> None:
    """``--deep``: the slow checks too (mutants of the changed lines)."""
    parser.add_argument(
        "--deep",
        action="store_true",
        help="deep mode: also mutate the changed lines and report mutants no test kills",
    )


def add_all_argument(parser: argparse.ArgumentParser) -> None:
    """``--all``: the whole tree must be clean, findings already at the base included."""
    parser.add_argument(
        "--all",
        action="store_true",
        dest="all_findings",
        help="block on every finding, also those already at the base of the change "
        '(config: mode = "all")',
    )


def mode_of(args: argparse.Namespace) -> str | None:
    """``all`` when ``--all`` was given, else None (the config's ``mode`` decides)."""
    return "all" if getattr(args, "all_findings", False) else None


def add_report_arguments(parser: argparse.ArgumentParser, default: str = "text") -> None:
    parser.add_argument(
        "--format",
        "-f",
        default=default,
        metavar="FORMAT",
        help="report format: text, agent, json, sarif, junit, github, or one a plugin adds "
        f"(default: {default})",
    )
    parser.add_argument(
        "--max-report-chars",
        type=int,
        metavar="N",
        help="size cap of the agent report (default: 8000)",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in text output (default: auto, off when piped or NO_COLOR)",
    )


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """``--output`` (several reports from one run) and ``--no-baseline``."""
    parser.add_argument(
        "--output",
        "-o",
        action="append",
        default=[],
        metavar="[FORMAT=]FILE",
        help="also write the report in FORMAT to FILE (repeatable, e.g. sarif=gate.sarif); "
        "a bare FILE takes the --format report instead of stdout",
    )
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="report baselined findings as new (ignore .gatekeeper-baseline.json)",
    )


def use_color(choice: str, stream: object = None) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    target = stream or sys.stdout
    isatty = getattr(target, "isatty", None)
    return bool(isatty and isatty())


def report_options(args: argparse.Namespace, default_max: int = 8000) -> ReportOptions:
    return ReportOptions(
        color=use_color(args.color),
        max_chars=args.max_report_chars or default_max,
    )
