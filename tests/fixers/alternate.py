"""A fixer that swaps one problem for another, in turn: odd attempts write A, even ones B.

Each swap "fixes" the finding it was handed and adds a new one, so the findings keep changing;
only the tree hash shows that attempt 3 is back where attempt 1 left it.
"""

from __future__ import annotations

from pathlib import Path

from _contract import inputs

VERSIONS = {
    1: "def f() -> int:\n    first = 1\n    return 2\n",
    0: "def f() -> int:\n    second = 1\n    return 2\n",
}

_report, _findings, attempt = inputs()
Path("sample/flip.py").write_text(VERSIONS[attempt % 2], encoding="utf-8")
