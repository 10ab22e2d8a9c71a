"""Progress and stall detection for the fix loop, from finding fingerprints and tree hashes.

An attempt made progress when a finding it was handed is gone from the next run. The loop is
*stuck* — and stops long before its budget — when the fixer changed nothing, when the tree
returns to a state already checked (two fixes in turn), or when the same findings survive
``stall_after`` attempts in a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gatekeeper.models import Finding, RunResult


def blocking(run: RunResult) -> dict[str, Finding | None]:
    """What blocks ``run``, keyed by fingerprint.

    A stage that could not run blocks too; it has no finding, so it gets a pseudo-fingerprint
    ``error:<stage>`` (and ``None``) that counts in progress like any finding.
    """
    out: dict[str, Finding | None] = {}
    for stage in run.stages:
        if stage.status == "error":
            out[f"error:{stage.name}"] = None
        if stage.status != "failed":
            continue
        for f in stage.findings:
            if not f.blocking:
                continue
            out[f.fingerprint or f"{f.stage}:{f.rule}:{f.path}:{f.line}"] = f
    return out


@dataclass(frozen=True)
class Progress:
    """What one attempt did to the blocking findings (by fingerprint)."""

    fixed: frozenset[str]
    new: frozenset[str]
    persisting: frozenset[str]

    def counts(self) -> dict[str, int]:
        """``{"fixed": n, "new": n, "persisting": n}`` for reports and the ledger."""
        return {
            "fixed": len(self.fixed),
            "new": len(self.new),
            "persisting": len(self.persisting),
        }


def compare(before: RunResult, after: RunResult) -> Progress:
    """Fixed / new / persisting blocking findings between two runs."""
    old, cur = set(blocking(before)), set(blocking(after))
    return Progress(frozenset(old - cur), frozenset(cur - old), frozenset(old & cur))


@dataclass
class StallDetector:
    """Remembers every tree the gate checked and how the current fixer is doing.

    :ivar stall_after: attempts in a row without a fixed finding before the loop is stuck.
    """

    stall_after: int = 2
    seen: set[str] = field(default_factory=set)
    _no_fix_streak: int = 0
    _failed_streak: int = 0

    def see(self, tree: str) -> None:
        """Remember a tree the gate has checked."""
        self.seen.add(tree)

    def next_fixer(self) -> None:
        """A fresh fixer gets a fresh chance; the trees already seen stay seen."""
        self._no_fix_streak = 0
        self._failed_streak = 0

    def judge(
        self, tree_before: str, tree_after: str, progress: Progress, *, fixer_failed: bool
    ) -> str | None:
        """Why the loop is stuck after this attempt, or None while it is still moving.

        Call before :meth:`see` of ``tree_after``. A fixer that crashed or timed out without
        changing anything is given one more try (real agents fail transiently: rate limits,
        network); a fixer that exited normally and changed nothing is stuck at once.
        """
        stuck = self._stuck(tree_before, tree_after, progress, fixer_failed)
        self.see(tree_after)
        return stuck

    def _stuck(
        self, tree_before: str, tree_after: str, progress: Progress, fixer_failed: bool
    ) -> str | None:
        if progress.fixed:
            self._no_fix_streak = 0
        elif progress.persisting:
            self._no_fix_streak += 1
        if tree_after == tree_before:
            if not fixer_failed:
                return "the fixer changed nothing"
            self._failed_streak += 1
            if self._failed_streak >= 2:
                return "the fixer failed twice in a row without changing anything"
        else:
            self._failed_streak = 0
            if tree_after in self.seen:
                return "the tree returned to a state already checked (the fixes go in circles)"
        if self._no_fix_streak >= self.stall_after:
            return (
                f"the same findings persisted for {self._no_fix_streak} attempts "
                "without one being fixed"
            )
        return None


def describe(fingerprint: str, finding: Finding | None) -> str:
    """A short human label for a blocking item: ``path:line rule`` or the stage that errored."""
    if finding is None:
        return f"stage {fingerprint.removeprefix('error:')} could not run"
    return f"`{finding.location}` {finding.stage} `{finding.rule}`: {finding.message[:120]}"


def as_json(progress: Progress) -> dict[str, Any]:
    """Counts plus sorted fingerprint lists, as the ledger and ``--format json`` keep them."""
    return {
        **progress.counts(),
        "fixed_fingerprints": sorted(progress.fixed),
        "new_fingerprints": sorted(progress.new),
        "persisting_fingerprints": sorted(progress.persisting),
    }
