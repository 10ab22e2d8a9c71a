"""A fixer that keeps busy without fixing anything: each attempt appends a comment line.

The tree changes every time, so only the persisting findings show that it is stuck.
"""

from __future__ import annotations

from pathlib import Path

from _contract import inputs

_report, _findings, attempt = inputs()
with Path("sample/notes.py").open("a", encoding="utf-8") as handle:
    handle.write(f"# attempt {attempt} looked at it\n")
