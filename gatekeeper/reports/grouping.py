"""Shared shaping of findings for human and agent reports: grouped by file, duplicates folded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gatekeeper.models import Finding


@dataclass(frozen=True)
class Folded:
    """Identical findings (same stage, rule, message and hint) in one file, with their lines."""

    first: Finding
    lines: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.lines)


def by_file(findings: Iterable[Finding]) -> dict[str, list[Folded]]:
    """Findings grouped by path (sorted), identical ones folded into one entry with a count."""
    groups: dict[str, dict[tuple[str, str, str, str], list[Finding]]] = {}
    for f in sorted(findings, key=lambda f: (f.path, f.line, f.column, f.stage, f.rule)):
        key = (f.stage, f.rule, f.message, f.hint)
        groups.setdefault(f.path, {}).setdefault(key, []).append(f)
    return {
        path: [Folded(items[0], tuple(i.line for i in items)) for items in per_key.values()]
        for path, per_key in sorted(groups.items())
    }
