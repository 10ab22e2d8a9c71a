"""A fixer that silences the check instead of fixing the code; the mode says how.

Modes: type-ignore, noqa, skip, delete, mypy-ignore-errors; and two no pattern list knew:
expected (the test's expected value changed to match the bug), ruff-toml (a new ruff.toml,
which wins over pyproject's [tool.ruff], ignoring the rule).
"""

from __future__ import annotations

import sys
from pathlib import Path

from _contract import inputs, replace_in


def main() -> int:
    inputs()
    mode = sys.argv[1]
    if mode == "type-ignore":
        replace_in("sample/calc.py", "return str(x * 2)", "return str(x * 2)  # type: ignore")
    elif mode == "noqa":
        replace_in("sample/calc.py", "    spare = 2\n", "    spare = 2  # noqa\n")
    elif mode == "skip":
        replace_in(
            "tests/test_calc.py",
            "def test_add() -> None:",
            "@pytest.mark.skip(reason='flaky')\ndef test_add() -> None:",
        )
        replace_in("tests/test_calc.py", "from sample", "import pytest\n\nfrom sample")
    elif mode == "delete":
        replace_in("tests/test_calc.py", "def test_add() -> None:\n    assert add(1, 2) == 3\n", "")
    elif mode == "mypy-ignore-errors":
        with Path("pyproject.toml").open("a", encoding="utf-8") as handle:
            handle.write("\n[tool.mypy]\nignore_errors = true\n")
    elif mode == "expected":
        replace_in("tests/test_calc.py", "assert add(1, 2) == 3", "assert add(1, 2) == -1")
    elif mode == "ruff-toml":
        Path("ruff.toml").write_text('[lint]\nignore = ["F841"]\n', encoding="utf-8")
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
