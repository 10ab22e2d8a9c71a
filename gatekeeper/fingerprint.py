"""Finding fingerprints that survive unrelated edits.

A fingerprint is rule + path + normalised message + the stripped content of the offending
line — never the line number — so inserting lines above a finding keeps its identity.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from gatekeeper.models import Finding

_NUMBERS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def normalise_message(message: str) -> str:
    """Drop what moves when code moves: numbers (line refs, counts) and spacing."""
    return _SPACE.sub(" ", _NUMBERS.sub("#", message)).strip()


def compute(finding: Finding, line_text: str) -> str:
    parts = (
        finding.stage,
        finding.rule,
        finding.path,
        normalise_message(finding.message),
        _SPACE.sub(" ", line_text).strip(),
    )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def _line(root: Path, path: str, line: int, cache: dict[str, list[str]]) -> str:
    if line <= 0:
        return ""
    if path not in cache:
        try:
            cache[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[path] = []
    lines = cache[path]
    return lines[line - 1] if 0 < line <= len(lines) else ""


def fingerprint_all(root: Path, findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Fill in the fingerprint of each finding that has none."""
    cache: dict[str, list[str]] = {}
    out = []
    for f in findings:
        if not f.fingerprint:
            f = replace(f, fingerprint=compute(f, _line(root, f.path, f.line, cache)))
        out.append(f)
    return tuple(out)
