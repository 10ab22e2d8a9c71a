"""The ledger: an append-only record of every run, loop attempt, loop and hook decision.

It lives in the state directory as ``ledger.jsonl``, one JSON object per line, and is shared
by every process working on the repository (people, pre-push hooks, CI, loops, agents' Stop
hooks). Many processes may append at once, so each record is written whole: the line is
built first, then written with a single ``os.write`` under an exclusive ``fcntl.flock`` on an
``O_APPEND`` descriptor. Readers never trust a line blindly: a torn or corrupt line (a writer
killed mid-write, a disk that filled up) is skipped, so one bad line never hides the rest.

Record kinds: ``run`` (every gate run), ``attempt`` (one loop round), ``loop`` (a loop's end),
``hook`` (an agent Stop-hook decision). Every record has ``kind``, ``ts`` (ISO 8601, UTC),
``pid`` and ``id``.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gatekeeper.errors import GatekeeperError
from gatekeeper.models import Finding, RunResult

LEDGER_NAME = "ledger.jsonl"

#: How many findings a run record describes in full (fingerprints are always all kept);
#: enough for ``verify`` to name what got fixed without letting one record grow unbounded.
MAX_DESCRIBED = 200
MAX_MESSAGE = 300


def ledger_path(state: Path) -> Path:
    """Where the ledger of the state directory ``state`` lives."""
    return Path(state) / LEDGER_NAME


def now_iso() -> str:
    """The current time as the ledger writes it (ISO 8601, UTC, microseconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _encode(record: Mapping[str, Any]) -> bytes:
    # json.dumps escapes newlines inside strings, so a record is always exactly one line.
    return (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode("utf-8")


def append(state: Path, record: Mapping[str, Any]) -> dict[str, Any]:
    """Append one record and return it as written.

    Adds ``ts``, ``pid`` and ``id`` when missing. ``record`` must have a ``kind``.
    A failure to write is a :class:`GatekeeperError` (the record was not kept).
    """
    if not record.get("kind"):
        raise ValueError("a ledger record needs a 'kind'")
    full: dict[str, Any] = {"ts": now_iso(), "pid": os.getpid(), "id": uuid.uuid4().hex}
    full.update(record)
    data = _encode(full)
    path = ledger_path(state)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise GatekeeperError(
            f"cannot open the ledger {path}: {exc}", "check permissions"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _write_whole(fd, data)
    except OSError as exc:
        raise GatekeeperError(
            f"cannot write to the ledger {path}: {exc}", "check free disk space and permissions"
        ) from None
    finally:
        os.close(fd)  # closing releases the lock
    return full


def _write_whole(fd: int, data: bytes) -> None:
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        # A writer died mid-line: start ours on a fresh line so only the torn one is lost.
        data = b"\n" + data
    written = os.write(fd, data)
    while written < len(data):  # a short write on a regular file: finish it under the lock
        written += os.write(fd, data[written:])


def _parse_lines(raw: bytes) -> Iterator[dict[str, Any]]:
    for line in raw.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            continue  # torn or corrupt line: skip it, keep the rest
        if isinstance(record, dict) and isinstance(record.get("kind"), str):
            yield record


def read_path(path: Path) -> list[dict[str, Any]]:
    """Every record of the ledger file ``path``, oldest first (a missing file is empty).

    Corrupt lines are skipped; a file that cannot be read is a :class:`GatekeeperError`.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise GatekeeperError(
            f"cannot read the ledger {path}: {exc}", "check permissions"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)  # never see a record half-appended
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read()
    except OSError as exc:  # e.g. a directory given where the file belongs
        raise GatekeeperError(
            f"cannot read the ledger {path}: {exc.strerror or exc}",
            "pass the ledger.jsonl file, its .gatekeeper directory or the repository",
        ) from None
    finally:
        os.close(fd)
    return list(_parse_lines(raw))


def read(
    state: Path,
    *,
    kind: str | None = None,
    since: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Records oldest first; ``kind`` filters, ``since`` keeps ``ts >= since``, ``limit`` keeps
    the newest N. A missing ledger is empty; corrupt lines are skipped."""
    records = [
        r
        for r in read_path(ledger_path(state))
        if (kind is None or r["kind"] == kind) and (since is None or str(r.get("ts", "")) >= since)
    ]
    if limit is not None:
        records = records[-limit:] if limit > 0 else []
    return records


def blocking_findings(run: RunResult) -> tuple[Finding, ...]:
    """The findings that block the verdict (baselined ones and notes do not)."""
    return tuple(f for s in run.stages if s.blocking for f in s.findings if f.blocking)


def describe(finding: Finding) -> dict[str, Any]:
    """The short form of a finding kept in a run record (``existing``: present at the base of
    the change already, for ``gatekeeper report``'s new-vs-existing split)."""
    return {
        "fingerprint": finding.fingerprint,
        "stage": finding.stage,
        "rule": finding.rule,
        "path": finding.path,
        "line": finding.line,
        "message": finding.message[:MAX_MESSAGE],
        "existing": finding.existing,
    }


def existing_findings(run: RunResult) -> tuple[Finding, ...]:
    """The findings present at the base of the change already (they do not block)."""
    return tuple(f for s in run.stages for f in s.findings if f.existing)


def run_record(run: RunResult, **extra: Any) -> dict[str, Any]:
    """The ``run`` record of a finished gate run (not yet written)."""
    blocking = blocking_findings(run)
    record: dict[str, Any] = {
        "kind": "run",
        "trigger": run.trigger,
        "root": run.root,
        "tree": run.tree,
        "commit": run.commit,
        "verdict": run.verdict,
        "started_at": run.started_at,
        "duration_s": round(run.duration_s, 3),
        "stages": {s.name: s.status for s in run.stages},
        # where the time goes (`gatekeeper report`): seconds per stage, and which were replayed
        "timings": {s.name: round(s.duration_s, 3) for s in run.stages if s.status != "skipped"},
        "cached": [s.name for s in run.stages if s.cached],
        "errors": [s.name for s in run.stages if s.status == "error"],
        "fingerprints": sorted({f.fingerprint for f in blocking}),
        "findings": [describe(f) for f in blocking[:MAX_DESCRIBED]],
        "environment": run.environment,
        # not blocking, so not in `fingerprints`; kept for the report's new-vs-existing split
        "existing_findings": [describe(f) for f in existing_findings(run)[:MAX_DESCRIBED]],
    }
    record.update(extra)
    return record


def record_run(state: Path, run: RunResult, **extra: Any) -> dict[str, Any]:
    """Append the ``run`` record of ``run`` (plus ``extra``, e.g. loop_id, attempt)."""
    return append(state, run_record(run, **extra))


def last_run(
    state: Path, *, root: str | None = None, exclude_id: str | None = None
) -> dict[str, Any] | None:
    """The most recent ``run`` record (for ``root`` when given), skipping ``exclude_id``."""
    candidates = [
        r
        for r in read(state, kind="run")
        if r.get("id") != exclude_id and (root is None or r.get("root") == root)
    ]
    return candidates[-1] if candidates else None
