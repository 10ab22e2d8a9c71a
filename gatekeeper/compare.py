"""Compare a run with an earlier recorded run: what got fixed, what is new, what persists.

Findings are matched by fingerprint, which survives unrelated edits. A finding of a stage that
did not run this time is neither fixed nor persisting: it was not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gatekeeper import ledger
from gatekeeper.models import Finding, RunResult


@dataclass(frozen=True)
class Comparison:
    """The difference between a recorded run (``previous``) and this one.

    ``fixed`` and ``unchecked`` hold the short finding records of the ledger; ``new`` and
    ``persisting`` hold this run's findings.
    """

    previous: dict[str, Any]
    fixed: tuple[dict[str, Any], ...]
    new: tuple[Finding, ...]
    persisting: tuple[Finding, ...]
    unchecked: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "previous": {
                k: self.previous.get(k) for k in ("id", "ts", "trigger", "verdict", "tree")
            },
            "fixed": list(self.fixed),
            "new": [f.to_json() for f in self.new],
            "persisting": [f.to_json() for f in self.persisting],
            "unchecked": list(self.unchecked),
        }


def _described(previous: dict[str, Any]) -> dict[str, dict[str, Any]]:
    findings = previous.get("findings", ())
    return {str(d.get("fingerprint")): d for d in findings if isinstance(d, dict)}


def _current(run: RunResult) -> dict[str, Finding]:
    now: dict[str, Finding] = {}
    for f in ledger.blocking_findings(run):
        now.setdefault(f.fingerprint, f)
    return now


def compare(previous: dict[str, Any], run: RunResult) -> Comparison:
    """Match ``run``'s blocking findings against the ``previous`` run record's."""
    before = {str(f) for f in previous.get("fingerprints", ())}
    described = _described(previous)
    checked = {s.name for s in run.stages if s.status in ("passed", "failed")}
    now = _current(run)
    gone = [described.get(fp, {"fingerprint": fp}) for fp in sorted(before - set(now))]
    return Comparison(
        previous=previous,
        fixed=tuple(d for d in gone if d.get("stage") in checked),
        new=tuple(f for fp, f in now.items() if fp not in before),
        persisting=tuple(f for fp, f in now.items() if fp in before),
        unchecked=tuple(d for d in gone if d.get("stage") not in checked),
    )
