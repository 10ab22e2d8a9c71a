"""Record today's findings so only new ones fail (adopting the gate on an existing codebase).

``gatekeeper baseline`` runs every enabled stage over the whole tree and writes the findings
to ``.gatekeeper-baseline.json`` (commit it). ``--update`` drops what has been fixed and
never adds anything unless ``--add-new`` is given. A stage that could not run stops the
command with nothing written: its findings are unknown, and an error is never baselined. So
does a finding that stopped its tool (a collection error, a file that cannot be parsed, a run
cut short): the command exits 2 naming them.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from gatekeeper.baseline import Update
    from gatekeeper.models import StageResult
    from gatekeeper.plugins import PluginSet


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--update",
        action="store_true",
        help="shrink the existing baseline: drop findings that were fixed",
    )
    parser.add_argument(
        "--add-new",
        action="store_true",
        help="with --update: also record findings that are new since the baseline",
    )
    parser.add_argument(
        "--stage",
        action="append",
        default=[],
        metavar="NAME",
        help="record only this stage (repeatable); other stages' entries are kept",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="NAME",
        help="leave this stage out (repeatable); its entries are kept",
    )
    parser.add_argument("--no-cache", action="store_true", help="ignore cached stage results")
    parser.add_argument("--jobs", "-j", type=int, metavar="N", help="stages to run at once")


def main(args: argparse.Namespace) -> int:
    from gatekeeper import baseline, git
    from gatekeeper.gate import load_config
    from gatekeeper.plugins import load_plugins

    plugins = load_plugins()
    root = git.repo_root()
    config, _ = load_config(root, plugins)
    setting = config.get("baseline")
    path = baseline.path_of(root, setting)
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    old = baseline.load(root, setting)
    _check_mode(args, old is not None, rel)
    ran = _run(args, root, plugins)
    current = baseline.entries_of(f for s in ran for f in s.findings)
    if old is None:
        new = baseline.Baseline(current)
        baseline.save(path, new)
        stages = ", ".join(s.name for s in ran) or "none"
        print(
            f"recorded {new.total} findings ({len(new.entries)} fingerprints) of stages "
            f"{stages} in {rel}; commit it"
        )
        return 0
    change = baseline.update(old, current, (s.name for s in ran), add_new=args.add_new)
    if change.baseline != old:
        baseline.save(path, change.baseline)
    print(_update_message(rel, old.total, change))
    return 0


def _check_mode(args: argparse.Namespace, exists: bool, rel: str) -> None:
    from gatekeeper.errors import GatekeeperError

    if args.add_new and not args.update:
        raise GatekeeperError(
            "--add-new only goes with --update", "run `baseline --update --add-new`"
        )
    if exists and not args.update:
        raise GatekeeperError(
            f"{rel} already exists",
            "run `gatekeeper baseline --update` to drop fixed findings "
            "(add --add-new to also record new ones)",
        )
    if not exists and args.update:
        raise GatekeeperError(
            f"there is no baseline to update ({rel})", "run `gatekeeper baseline`"
        )


def _run(args: argparse.Namespace, root: Path, plugins: PluginSet) -> list[StageResult]:
    """The whole-tree run without the baseline; the stages that ran (an error stops here)."""
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.gate import GateRequest, run_gate
    from gatekeeper.reports.text import stage_line

    request = GateRequest(
        root=root,
        only=tuple(args.stage),
        skip=tuple(args.skip),
        trigger="baseline",
        use_cache=not args.no_cache,
        fail_fast=False,
        jobs=args.jobs,
        use_baseline=False,
    )
    result = run_gate(request, plugins)
    for s in result.stages:
        print(stage_line(s, False), file=sys.stderr)
    broken = [s for s in result.stages if s.status == "error"]
    if broken:
        first = broken[0]
        reason = (first.reason or "no reason given").splitlines()[0]
        raise GatekeeperError(
            f"stage {first.name} could not run ({reason}); nothing was written",
            f"fix it (see `gatekeeper doctor`) or leave it out with --skip {first.name}",
        )
    ran = [s for s in result.stages if s.status in ("passed", "failed")]
    _refuse_stops(ran)
    return ran


def _refuse_stops(ran: list[StageResult]) -> None:
    """Stop with nothing written when a finding kept its tool from checking everything.

    A collection error, a syntax error or a run cut short hides whatever lies behind it;
    recording it would let the baseline pass a tree nobody checked.
    """
    from gatekeeper.errors import GatekeeperError

    stops = [f for s in ran for f in s.findings if f.stops_tool]
    if not stops:
        return
    shown = "; ".join(f"{f.stage} {f.rule} {f.location or '(project)'}" for f in stops[:10])
    more = f" and {len(stops) - 10} more" if len(stops) > 10 else ""
    raise GatekeeperError(
        f"{len(stops)} finding(s) stopped a tool and can never be baselined: {shown}{more}; "
        "nothing was written",
        "fix them (a test module that cannot be imported, a syntax error, a run cut short), "
        "then record the baseline",
    )


def _update_message(rel: str, before: int, change: Update) -> str:
    after = change.baseline.total
    parts = [f"{rel}: {before} -> {after} findings", f"{change.fixed} fixed and removed"]
    if change.added:
        parts.append(f"{change.added} new recorded")
    if change.not_added:
        parts.append(
            f"{change.not_added} new not recorded (they fail the gate; --add-new records them)"
        )
    if after == before and not change.fixed:
        parts.append("unchanged")
    return "; ".join(parts)
