"""An honest fixer: repairs the first finding it knows how to repair, one per attempt.

It knows the repairs of the planted defects of the loop tests' sample repository, keyed by
stage; ``--crash-first`` makes it crash (exit 1, nothing changed) on attempt 1, ``--sloppy``
leaves an unformatted file behind with each repair.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _contract import blocking, inputs, replace_in

REPAIRS = {
    "ruff": ("sample/calc.py", "    spare = 2\n", ""),
    "mypy": ("sample/calc.py", "return str(x * 2)", "return x * 2"),
    "pytest": ("sample/calc.py", "return a - b", "return a + b"),
}


def main() -> int:
    _report, findings, attempt = inputs()
    if "--crash-first" in sys.argv and attempt == 1:
        raise RuntimeError("scripted crash on the first attempt")
    for finding in blocking(findings):
        repair = REPAIRS.get(finding["stage"])
        if repair and replace_in(*repair):
            if "--sloppy" in sys.argv:  # and leave formatting drift behind
                Path("sample/extra.py").write_text("VALUE   =  ( 1 )\n", encoding="utf-8")
            print(f"repaired {finding['stage']} {finding['rule']} at {finding['path']}")
            return 0
    print("nothing I know how to repair")
    return 0


if __name__ == "__main__":
    sys.exit(main())
