"""Run the gate as a CI step: the change under review, annotations, a job summary, reports.

The CI system is detected from its environment (GitHub Actions, GitLab CI, generic). On a
pull or merge request only the change is checked (base from the PR/MR, or ``--base REF``);
otherwise the whole tree. On GitHub the findings become annotations and a markdown summary
is appended to ``$GITHUB_STEP_SUMMARY``. Exit codes are ``gatekeeper run``'s.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gatekeeper.errors import GatekeeperError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from gatekeeper.commands.options import (
        add_gate_arguments,
        add_output_arguments,
        add_report_arguments,
    )

    add_gate_arguments(parser)
    add_report_arguments(parser, default="auto")
    add_output_arguments(parser)
    parser.add_argument("--sarif", metavar="FILE", help="also write SARIF to FILE")
    parser.add_argument("--junit", metavar="FILE", help="also write JUnit XML to FILE")
    parser.add_argument(
        "--summary",
        metavar="FILE",
        help="append the markdown summary to FILE (default on GitHub: $GITHUB_STEP_SUMMARY)",
    )


def main(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from gatekeeper import git
    from gatekeeper.ci import detect
    from gatekeeper.commands.options import mode_of, report_options
    from gatekeeper.gate import GateRequest, run_gate
    from gatekeeper.outputs import parse_outputs, write_reports
    from gatekeeper.plugins import load_plugins
    from gatekeeper.reporting import resolve_format

    plugins = load_plugins()
    root = git.repo_root()
    context = detect(root, os.environ, args.base)
    if getattr(args, "all_files", False):
        context = replace(context, base=None, why="whole tree: --all-files", warning=None)
    auto = args.format == "auto"
    fmt = resolve_format(plugins, "text" if auto else args.format)
    extra = [f"sarif={args.sarif}"] * bool(args.sarif) + [f"junit={args.junit}"] * bool(args.junit)
    outputs = parse_outputs(plugins, fmt.name, [*args.output, *extra])
    print(f"gatekeeper ci: {context.label}; {context.why}", file=sys.stderr)
    if context.warning:
        print(f"gatekeeper ci: warning: {context.warning}", file=sys.stderr)
    request = GateRequest(
        root=root,
        only=tuple(args.stage),
        skip=tuple(args.skip),
        base=context.base,
        trigger="ci",
        use_cache=not args.no_cache,
        deep=args.deep,
        fail_fast=args.fail_fast or None,
        jobs=args.jobs,
        use_baseline=not args.no_baseline,
        mode=mode_of(args),
    )
    summary = Path(args.summary) if args.summary else context.summary_path
    annotate = auto and context.system == "github"
    try:
        result = run_gate(request, plugins)
    except GatekeeperError as exc:
        # The page and the annotations must say so too, not only the log.
        _could_not_run(exc, summary, annotate)
        raise
    options = report_options(args)
    write_reports(result, fmt, options, outputs)
    if annotate:
        from gatekeeper.reports.github import lines

        sys.stdout.write("".join(line + "\n" for line in lines(result)))
    if summary is not None:
        from gatekeeper.reports.summary import render_summary

        _append(summary, render_summary(result, scope=context.why), strict=bool(args.summary))
    return result.exit_code


def _could_not_run(exc: GatekeeperError, summary: Path | None, annotate: bool) -> None:
    if annotate:
        from gatekeeper.reports.github import command

        print(command("error", f"{exc.message}\nfix: {exc.hint}", title="gatekeeper could not run"))
    if summary is not None:
        fix = f"\n\nFix: {exc.hint}" if exc.hint else ""
        _append(summary, f"## gatekeeper: ⚠️ could not run\n\n{exc.message}{fix}\n", strict=False)


def _append(path: Path, text: str, *, strict: bool) -> None:
    """Append ``text`` to ``path``; a failure is an error for ``--summary`` (asked for), and
    only a warning for the runner's ``$GITHUB_STEP_SUMMARY`` (the verdict stands)."""
    try:
        # One append of the whole text: other steps may append to the same file.
        with path.open("a", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        if strict:
            raise GatekeeperError(
                f"cannot append the summary to {path}: {exc}", "check the --summary path"
            ) from None
        print(
            f"gatekeeper ci: warning: no job summary: cannot write {path}: {exc}", file=sys.stderr
        )
