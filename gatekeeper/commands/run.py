"""Run the gate on the working tree (exit 0 clean, 1 findings, 2 could not run)."""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import TextIO


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from gatekeeper.commands.options import (
        add_gate_arguments,
        add_output_arguments,
        add_report_arguments,
    )

    parser.add_argument("paths", nargs="*", metavar="PATH", help="limit the run to these paths")
    add_gate_arguments(parser)
    add_report_arguments(parser)
    add_output_arguments(parser)


def _paths(paths: list[str]) -> tuple[str, ...]:
    """The PATH arguments, relative to the current directory, as repo-relative paths."""
    if not paths:
        return ()
    from gatekeeper.paths import repo_paths
    from gatekeeper.projects import project_root

    return repo_paths(project_root(), paths)


def _same_stream(a: TextIO, b: TextIO) -> bool:
    try:
        return os.path.sameopenfile(a.fileno(), b.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


def main(args: argparse.Namespace) -> int:
    from gatekeeper import git
    from gatekeeper.change import resolve
    from gatekeeper.commands.options import mode_of, report_options, use_color
    from gatekeeper.gate import GateRequest, run_gate
    from gatekeeper.outputs import parse_outputs, write_reports
    from gatekeeper.plugins import load_plugins
    from gatekeeper.progress import PlainProgress, Progress
    from gatekeeper.reporting import resolve_format

    plugins = load_plugins()
    fmt = resolve_format(plugins, args.format)
    outputs = parse_outputs(plugins, args.format, args.output)
    live = fmt.name == "text" and use_color(args.color, sys.stderr) and sys.stderr.isatty()
    progress: Progress | PlainProgress | None = None
    if live:
        progress = Progress(color=use_color(args.color, sys.stderr))
    elif fmt.name == "text" and not sys.stderr.isatty():
        # A CI log: a line per finished stage as it finishes; the report then leaves them out
        # when it goes to the same place.
        progress = PlainProgress()
        live = _same_stream(sys.stdout, sys.stderr)
    request = GateRequest(
        paths=_paths(args.paths),
        only=tuple(args.stage),
        skip=tuple(args.skip),
        base=None if args.all_files else args.base,
        compare_to=args.base,
        use_cache=not args.no_cache,
        deep=args.deep,
        fail_fast=args.fail_fast or None,
        jobs=args.jobs,
        listener=progress,
        use_baseline=not args.no_baseline,
        mode=mode_of(args),
        change=None if mode_of(args) else resolve(git.repo_root(), args.base),
    )
    try:
        result = run_gate(request, plugins)
    finally:
        if progress:
            progress.close()
    write_reports(result, fmt, report_options(args), outputs, stage_lines=not live)
    return result.exit_code
