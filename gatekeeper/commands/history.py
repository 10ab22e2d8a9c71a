"""Show recent gate runs, loops and agent hook decisions from the ledger."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

KINDS = ("run", "attempt", "loop", "hook")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--limit", "-n", type=int, default=20, metavar="N", help="newest N records (default: 20)"
    )
    parser.add_argument("--kind", choices=KINDS, help="only records of this kind")
    parser.add_argument("--format", "-f", choices=("text", "json"), default="text")


def _when(record: dict[str, Any]) -> str:
    return str(record.get("ts", "?"))[:19].replace("T", " ")


def _short(value: Any) -> str:
    return str(value)[:10] if value else "-"


def _run_line(r: dict[str, Any]) -> str:
    raw = r.get("stages")
    stages: dict[str, Any] = raw if isinstance(raw, dict) else {}
    bad = [f"{n} {s}" for n, s in stages.items() if s in ("failed", "error")]
    findings = len(r.get("fingerprints", ()))
    detail = f"{findings} finding{'s' if findings != 1 else ''}"
    if bad:
        detail += f" ({', '.join(bad)})"
    tags = " ".join(f"{k}={r[k]}" for k in ("loop_id", "attempt", "session_id") if k in r)
    seconds = float(r.get("duration_s", 0) or 0)
    head = f"{r.get('trigger', '?')!s:<8} {r.get('verdict', '?')!s:<7}"
    line = f"{head} tree {_short(r.get('tree'))}  {seconds:.1f}s  {detail}"
    return line + (f"  {tags}" if tags else "")


def _loop_line(r: dict[str, Any]) -> str:
    return (
        f"{_short(r.get('loop_id'))}  stop={r.get('stop_reason', '?')}  "
        f"attempts={r.get('attempts', '?')}  verdict={r.get('verdict', '?')}  "
        f"{float(r.get('duration_s', 0) or 0):.1f}s"
    )


def _attempt_line(r: dict[str, Any]) -> str:
    return (
        f"{_short(r.get('loop_id'))}  #{r.get('attempt', '?')}  fixer={r.get('fixer', '?')!s:.40}  "
        f"exit={r.get('fixer_exit', '?')}  fixed={r.get('fixed', '?')} new={r.get('new', '?')} "
        f"persisting={r.get('persisting', '?')}"
    )


def _hook_line(r: dict[str, Any]) -> str:
    why = f" ({r['why']})" if r.get("why") else ""
    return (
        f"session {str(r.get('session_id', '?'))[:12]}  {r.get('decision', '?')}{why}  "
        f"blocks={r.get('blocks_so_far', '?')}  verdict={r.get('verdict', '?')}"
    )


LINES = {"run": _run_line, "loop": _loop_line, "attempt": _attempt_line, "hook": _hook_line}


def render(records: list[dict[str, Any]]) -> str:
    """One line per record, oldest first."""
    if not records:
        return "no runs recorded yet (the ledger is empty)\n"
    out = []
    for r in records:
        line = LINES.get(str(r.get("kind")), lambda rec: "")(r)
        out.append(f"{_when(r)}  {r.get('kind')!s:<7} {line}".rstrip())
    return "\n".join(out) + "\n"


def main(args: argparse.Namespace) -> int:
    import json
    import sys

    from gatekeeper import git, ledger
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.state import state_dir

    if args.limit < 0:
        raise GatekeeperError("--limit must be 0 or more", "e.g. --limit 50")
    state = state_dir(git.repo_root())
    records = ledger.read(state, kind=args.kind, limit=args.limit)
    if args.format == "json":
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
    elif not records and args.kind:
        sys.stdout.write(none_of_kind(args.kind, ledger.read(state)))
    else:
        sys.stdout.write(render(records))
    return 0


def none_of_kind(kind: str, everything: list[dict[str, Any]]) -> str:
    """Why ``--kind KIND`` shows nothing: what the ledger does hold (never "empty" when not)."""
    if not everything:
        return "no runs recorded yet (the ledger is empty)\n"
    counts = Counter(str(r.get("kind")) for r in everything)
    held = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    line = f"no {kind} records in the ledger (it holds {held})"
    if kind == "hook":
        line += "; the hooks' gate runs are `run` records (trigger agent or pre-push)"
    return line + "\n"
