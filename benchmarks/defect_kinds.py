"""Held-out check: every kind of defect is still caught by an attempt's final verdict.

    python benchmarks/defect_kinds.py

The fast path of an attempt (``verify``, the Stop hook, the loop) runs what can fail first and
skips the rest of the suite while something fails; a ``clean`` verdict still needs the full
gate. This script checks that claim kind by kind, on a real temporary repository with the
real tools: starting from a clean tree whose selection data is warm (a full attempt ran), it
plants one defect, runs ``gatekeeper verify`` once, and prints whether the verdict blocked,
which stage caught it and whether the fast path or the full check did. Every row must read
``blocked``. Offline; a minute or two on 2 cores. Not part of the test suite.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from gatekeeper.testing import make_repo

FILES = {
    "pyproject.toml": '[project]\nname = "sample"\nversion = "0.1.0"\n',
    "sample/__init__.py": '"""Sample."""\n',
    "sample/calc.py": '"""Calc."""\n\n\ndef add(a: int, b: int) -> int:\n'
    '    """Add."""\n    return a + b\n',
    "sample/other.py": '"""Other."""\n\n\ndef one() -> int:\n    """One."""\n    return 1\n',
    "tests/value.txt": "42\n",
    "tests/test_calc.py": "from sample.calc import add\n\n\ndef test_add() -> None:\n"
    "    assert add(1, 2) == 3\n",
    "tests/test_other.py": "from sample.other import one\n\n\ndef test_one() -> None:\n"
    "    assert one() == 1\n",
    "tests/test_data.py": "from pathlib import Path\n\n\ndef test_value() -> None:\n"
    '    assert (Path(__file__).parent / "value.txt").read_text().strip() == "42"\n',
}

BRANCHES = "".join(f"    if a == {i}:\n        return {i}\n" for i in range(25))
#: kind -> (file, new text or None to delete, the stage that must block)
KINDS: dict[str, tuple[str, str | None, str]] = {
    "lint (unused import)": ("sample/other.py", "import os\n" + FILES["sample/other.py"], "ruff"),
    "format drift": (
        "sample/other.py",
        FILES["sample/other.py"].replace("1\n", "( 1 )\n"),
        "ruff-format",
    ),
    "type error": (
        "sample/other.py",
        FILES["sample/other.py"].replace("return 1", 'return "1"'),
        "mypy",
    ),
    "complexity": (
        "sample/other.py",
        FILES["sample/other.py"]
        + '\n\ndef pick(a: int) -> int:\n    """Pick."""\n'
        + BRANCHES
        + "    return 0\n",
        "radon",
    ),
    "failing test, affected by the edit": (
        "sample/calc.py",
        FILES["sample/calc.py"].replace("a + b", "a - b"),
        "pytest",
    ),
    "failing test the selection cannot see (data file)": ("tests/value.txt", "41\n", "pytest"),
    "collection error in an unchanged test's import": (
        "sample/other.py",
        FILES["sample/other.py"].replace("def one", "def uno"),
        "pytest",
    ),
    "new failing test file": (
        "tests/test_new.py",
        "def test_new() -> None:\n    assert False\n",
        "pytest",
    ),
    "syntax error": ("sample/calc.py", "def add(:\n", "ruff"),
    "test silenced (skip)": (
        "tests/test_calc.py",
        "import pytest\n\n\n@pytest.mark.skip\n"
        + FILES["tests/test_calc.py"].split("\n\n\n", 1)[1],
        "tamper",
    ),
    "test deleted": ("tests/test_other.py", None, "tamper"),
}


def verify(repo_path: Path, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "verify", "--skip", "build", "--format", "json"],
        cwd=repo_path,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 1, 2):
        raise SystemExit(f"verify crashed: {done.stderr}")
    data: dict[str, object] = json.loads(done.stdout)
    return data


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp) / "repo", Path(tmp) / "home")
        for rel, text in FILES.items():
            repo.write(rel, text)
        repo.commit("clean")
        first = verify(repo.path, repo.env)  # warm: selection data and the cache
        assert first["verdict"] == "passed", first
        for kind, (rel, text, stage) in KINDS.items():
            target = repo.path / rel
            if text is None:
                target.unlink()
            else:
                target.write_text(text, encoding="utf-8")
            report = verify(repo.path, repo.env)
            stages = {s["name"]: s for s in report["stages"]}  # type: ignore[attr-defined]
            hit = stages.get(stage, {})
            how = (
                "fast path" if hit.get("extra", {}).get("fast_path") == "partial" else "full check"
            )
            blocked = report["verdict"] != "passed" and hit.get("status") in ("failed", "error")
            rows.append((kind, stage, report["verdict"], how, "blocked" if blocked else "MISSED"))
            repo.git("checkout", "--", ".")
            repo.git("clean", "-fdq", "-e", ".gatekeeper")
    print("| defect kind | stage | verdict | caught by | result |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0 if all(r[-1] == "blocked" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
