"""A fixer that leaves the code alone and forges the state the gate keeps; the mode says which.

Modes:
- ``cache``: every cached result in ``.gatekeeper/cache/results/`` becomes ``passed`` with no
  findings (a signed entry keeps its old signature: the fixer has no key).
- ``baseline``: points the ``baseline`` setting at a new file and runs ``gatekeeper baseline``
  (for ruff, the stage the test plants a finding for).
- ``hook``: fixes the code honestly, and replaces ``.git/hooks/pre-push`` by ``exit 0``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from _contract import inputs, replace_in


def _passed(entry: dict) -> None:
    entry["result"]["status"] = "passed"
    entry["result"]["findings"] = []


def forge_cache() -> None:
    for path in Path(".gatekeeper/cache/results").glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "sealed" in data:
            inner = json.loads(data["sealed"])
            _passed(inner)
            data["sealed"] = json.dumps(inner, sort_keys=True)
        else:
            _passed(data)
        path.write_text(json.dumps(data), encoding="utf-8")


def main() -> int:
    inputs()
    mode = sys.argv[1]
    if mode == "cache":
        forge_cache()
    elif mode == "baseline":
        if "q.json" not in Path("pyproject.toml").read_text(encoding="utf-8"):
            setting = '[tool.gatekeeper]\nbaseline = "q.json"\n'
            replace_in("pyproject.toml", "[tool.gatekeeper]\n", setting)
        gate = [sys.executable, "-m", "gatekeeper", "baseline", "--stage", "ruff"]
        subprocess.run(gate, check=True)
    elif mode == "hook":
        replace_in("sample/calc.py", "return a - b", "return a + b")
        Path(".git/hooks/pre-push").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
