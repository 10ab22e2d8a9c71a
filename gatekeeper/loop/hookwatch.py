"""The gate's own hooks, watched while a fixer works: a fixer that rewrites them is reported.

A fixer that cannot make the change pass can instead make the next check not happen: rewrite
``.git/hooks/pre-push`` (outside the tree, so no diff shows it), point ``core.hooksPath``
elsewhere, or drop the Stop hook or the pre-commit hook from their config. The loop takes a
fingerprint of each before the first fixer runs and compares after every fixer; a change ends
the loop with ``tamper`` and names what changed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from gatekeeper.push.hookscript import HOOK, hooks_dir

#: Config files, relative to the root, that decide whether the gate runs at all.
HOOK_CONFIGS = (".claude/settings.json", ".claude/settings.local.json", ".pre-commit-config.yaml")


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "absent"


def fingerprint(root: Path) -> dict[str, str]:
    """Where git runs hooks from, and a content hash of each watched file (``absent``)."""
    where = hooks_dir(root)
    found = {"hooks directory": str(where), str(where / HOOK): _digest(where / HOOK)}
    found.update({rel: _digest(root / rel) for rel in HOOK_CONFIGS})
    return found


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The watched names whose fingerprint differs, sorted."""
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
