"""Which ledgers a report reads, and the time window it keeps.

A repository has one ledger, shared by all of its worktrees (see :mod:`gatekeeper.state`).
Several clones — on one machine, or copied from several — are aggregated by naming each
(``--ledger PATH`` given more than once). A record read twice (the same ledger named twice, a
copied file) counts once: records are keyed by their ``id``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from gatekeeper import ledger
from gatekeeper.errors import GatekeeperError
from gatekeeper.metrics.records import Records, parse_timed, when

AGE = re.compile(r"^(\d+)\s*([wdhm])$")
AGE_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
TIME_HINT = "use a date (2026-11-01), a UTC time (2026-11-01T14:00) or an age (30d, 12h, 90m)"


@dataclass(frozen=True)
class Source:
    """One ledger read: the path as given, the file, and how many of its records were kept."""

    label: str
    path: Path
    records: int


@dataclass(frozen=True)
class Window:
    """Records with ``since <= ts < until`` are kept; None is open-ended."""

    since: datetime | None = None
    until: datetime | None = None

    def holds(self, ts: datetime | None) -> bool:
        """Whether a record at ``ts`` is in the window (an unknown time only in an open one)."""
        if ts is None:
            return self.since is None and self.until is None
        return (self.since is None or ts >= self.since) and (self.until is None or ts < self.until)


def parse_time(raw: str, option: str, *, now: datetime, end_of_day: bool = False) -> datetime:
    """``--since`` / ``--until`` as an aware UTC datetime.

    Accepts an age (``30d``, ``12h``, ``90m``, ``2w``: that long before ``now``), a date (its
    midnight UTC; with ``end_of_day`` the next midnight, so ``--until 2026-11-30`` includes
    that day) or an ISO 8601 time (UTC unless it names its offset). Raises
    :class:`GatekeeperError` naming the option otherwise.
    """
    value = raw.strip()
    age = AGE.match(value)
    if age:
        return now - timedelta(**{AGE_UNITS[age.group(2)]: int(age.group(1))})
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        day = when(value)
        if day is not None:
            return day + timedelta(days=1) if end_of_day else day
    parsed = when(value)
    if parsed is None:
        raise GatekeeperError(f"{option}: cannot read {raw!r} as a time", TIME_HINT)
    return parsed.astimezone(timezone.utc)


def window(since: str | None, until: str | None, now: datetime | None = None) -> Window:
    """The window of ``--since`` / ``--until`` (see :func:`parse_time`); an empty one is an
    error, since it could only ever show nothing."""
    moment = now or datetime.now(timezone.utc)
    start = parse_time(since, "--since", now=moment) if since else None
    end = parse_time(until, "--until", now=moment, end_of_day=True) if until else None
    if start is not None and end is not None and end <= start:
        raise GatekeeperError(
            f"--until ({until}) is not after --since ({since})", "swap them, or widen the window"
        )
    return Window(start, end)


def resolve(given: str) -> Path:
    """The ledger file named by ``--ledger PATH``.

    PATH is the ``ledger.jsonl`` file itself, a state directory holding one, or any directory
    of a repository (its shared ledger is used). Raises :class:`GatekeeperError` when PATH
    does not exist or holds no ledger.
    """
    path = Path(given).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise GatekeeperError(
            f"--ledger {given}: no such file or directory",
            "pass a ledger.jsonl file, a .gatekeeper directory or a repository",
        )
    if (path / ledger.LEDGER_NAME).is_file():
        return path / ledger.LEDGER_NAME
    from gatekeeper import git
    from gatekeeper.state import repository_state

    try:
        # that repository's own ledger: GATEKEEPER_STATE_DIR is about the current one
        found = ledger.ledger_path(repository_state(git.repo_root(path)))
    except GatekeeperError:
        found = None
    if found is None or not found.is_file():
        raise GatekeeperError(
            f"--ledger {given}: no ledger there",
            "no gate has run in that repository yet; pass a ledger.jsonl file or another clone",
        )
    return found


def current() -> Path:
    """The ledger of the repository around the current directory (it may not exist yet)."""
    from gatekeeper import git
    from gatekeeper.state import state_path

    return ledger.ledger_path(state_path(git.repo_root()))


def load(paths: Sequence[tuple[str, Path]], scope: Window) -> tuple[list[Source], Records]:
    """Read the ledgers ``(label, file)``, keep the records in ``scope``, oldest first.

    A record whose ``id`` was already read from an earlier ledger is dropped.
    """
    seen: set[str] = set()
    kept: list[tuple[datetime | None, int, str, dict[str, Any]]] = []
    sources = []
    for label, path in paths:
        mine = 0
        for raw in ledger.read_path(path):
            key = raw.get("id")
            if isinstance(key, str) and key:
                if key in seen:
                    continue
                seen.add(key)
            ts = when(raw.get("ts"))
            if scope.holds(ts):
                kept.append((ts, len(kept), label, raw))
                mine += 1
        sources.append(Source(label, path, mine))
    floor = datetime.min.replace(tzinfo=timezone.utc)
    kept.sort(key=lambda item: (item[0] or floor, item[1]))
    return sources, parse_timed((label, ts, raw) for ts, _n, label, raw in kept)
