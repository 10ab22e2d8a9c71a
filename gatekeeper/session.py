"""An agent session as the ledger remembers it: its base, its blocks, whether it is stuck.

A coding agent's Stop hook runs the gate at the end of every turn. The host gives the hook
only a ``stop_hook_active`` bit, so the budget (how many times the gate may send the agent
back) and the memory (which findings the previous blocks already reported) live in the ledger
as ``hook`` records keyed by the host's ``session_id``. Any process can read them, so a
crashed or restarted hook picks up where the last one stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper import ledger
from gatekeeper.errors import GatekeeperError
from gatekeeper.models import RunResult


@dataclass(frozen=True)
class Session:
    """What the ledger knows about one agent session.

    :ivar base: the commit the session's changes are judged against (HEAD when the hook first
        ran for it), None when the repository had no commits.
    :ivar blocks: the fingerprint sets of the session's blocks so far, oldest first.
    """

    session_id: str
    base: str | None
    known: bool
    blocks: tuple[frozenset[str], ...]

    @property
    def blocks_so_far(self) -> int:
        return len(self.blocks)

    def repeats(self, fingerprints: frozenset[str]) -> int:
        """How many of the latest blocks, in a row, reported exactly these findings."""
        count = 0
        for earlier in reversed(self.blocks):
            if earlier != fingerprints:
                break
            count += 1
        return count


def load(state: Path, session_id: str, base: str | None) -> Session:
    """The session's blocks from the ledger, with ``base`` from :func:`fix_base` (never the
    ledger's: the agent can rewrite the ledger)."""
    records = [r for r in ledger.read(state, kind="hook") if r.get("session_id") == session_id]
    if not records:
        return Session(session_id, base, False, ())
    blocks = tuple(
        frozenset(str(f) for f in r.get("fingerprints", ()))
        for r in records
        if r.get("decision") == "block"
    )
    return Session(session_id, base, True, blocks)


@dataclass(frozen=True)
class Base:
    """Where an agent session's change starts: HEAD when the gate first heard of it.

    :ivar commit: that commit (None: the repository had no commits).
    :ivar event: the hook event that fixed it (``SessionStart`` at best).
    :ivar fresh: this call fixed it (it was not recorded before).
    """

    commit: str | None
    event: str
    fresh: bool


def fix_base(root: Path, session_id: str, event: str) -> Base:
    """The session's base, fixed by the first hook event that asks (first writer wins).

    It is kept in the user's state directory, outside the repository the agent edits, so
    neither a rewritten ledger nor a commit made before the first Stop moves it.
    """
    from gatekeeper import git
    from gatekeeper.userstate import user_state_dir

    common = git.git(root, "rev-parse", "--path-format=absolute", "--git-common-dir").strip()
    repo = hashlib.sha256(common.encode()).hexdigest()[:24]
    name = hashlib.sha256(session_id.encode()).hexdigest()[:32]
    path = user_state_dir() / "sessions" / repo / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"base": git.head_sha(root), "event": event, "fixed_at": ledger.now_iso()}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            base = kept.get("base")
            return Base(base if isinstance(base, str) else None, str(kept.get("event")), False)
        except (OSError, ValueError, AttributeError):
            raise GatekeeperError(
                f"the record of agent session {session_id} ({path}) is damaged",
                f"delete {path}; the session's base is then HEAD at the next hook event",
            ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(record))
    return Base(record["base"], event, True)


def identity(run: RunResult) -> frozenset[str]:
    """What a run's failure consists of: blocking findings, plus stages that could not run."""
    found: Iterable[str] = ledger.run_record(run)["fingerprints"]
    errors = (f"error:{s.name}" for s in run.stages if s.status == "error")
    return frozenset([*found, *errors])


def record(
    state: Path,
    session: Session,
    decision: str,
    *,
    run: RunResult | None,
    fingerprints: Iterable[str],
    **extra: Any,
) -> dict[str, Any]:
    """Append the ``hook`` record of one decision (``block`` or ``stop``)."""
    blocks = session.blocks_so_far + (1 if decision == "block" else 0)
    return ledger.append(
        state,
        {
            "kind": "hook",
            "session_id": session.session_id,
            "base": session.base,
            "decision": decision,
            "blocks_so_far": blocks,
            "verdict": run.verdict if run is not None else "error",
            "tree": run.tree if run is not None else None,
            "fingerprints": sorted(fingerprints),
            **extra,
        },
    )
