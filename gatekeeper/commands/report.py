"""The factory floor: yield, attempts and cost of the agents, from the ledger (text, json, html).

Exit 0 with the report written, 2 when it could not be (a bad option, an unreadable ledger,
``--html`` without the charting library).
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--html",
        metavar="FILE",
        help="write the report as one self-contained HTML page with charts (needs the `report` "
        "extra)",
    )
    parser.add_argument(
        "--format",
        "-f",
        choices=("text", "json"),
        default="text",
        help="what to print: a terminal summary, or the figures as JSON (default: text)",
    )
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only records from then on: a date (2026-11-01), a UTC time or an age (30d, 12h)",
    )
    parser.add_argument(
        "--until", metavar="WHEN", help="only records before then (a date includes that day)"
    )
    parser.add_argument(
        "--ledger",
        action="append",
        default=[],
        metavar="PATH",
        help="read this ledger (a ledger.jsonl, a .gatekeeper directory or a repository) instead "
        "of the current repository's; repeat to aggregate several clones",
    )
    parser.add_argument(
        "--latest",
        type=int,
        default=50,
        metavar="N",
        help="loops and sessions in the table of the latest ones (default: 50)",
    )


def main(args: argparse.Namespace) -> int:
    import json
    import sys
    from pathlib import Path

    from gatekeeper.errors import GatekeeperError
    from gatekeeper.metrics import figures, sources, summary

    if args.latest < 0:
        raise GatekeeperError("--latest must be 0 or more", "e.g. --latest 20")
    if args.html:
        from gatekeeper.metrics import page

        page.check_library()  # before any work: a missing extra is a one-line error
    scope = sources.window(args.since, args.until)
    if args.ledger:
        paths = [(given, sources.resolve(given)) for given in args.ledger]
    else:
        try:
            found = sources.current()
        except GatekeeperError as exc:
            raise GatekeeperError(
                exc.message, "run it in a repository, or name ledgers with --ledger PATH"
            ) from None
        paths = [(str(found), found)]
    read, records = sources.load(paths, scope)
    fig = figures.compute(records, read, scope, latest_limit=args.latest)
    if args.html:
        size = page.write(Path(args.html), fig)
        print(f"gatekeeper: report written to {args.html} ({size / 1e6:.2f} MB)", file=sys.stderr)
    if args.format == "json":
        sys.stdout.write(json.dumps(fig, indent=2) + "\n")
    elif not args.html:
        sys.stdout.write(summary.render(fig))
    return 0
