"""The changed files' executable lines (coverage.py) and the lines the tests ran (probes).

Run by the ``test-quality`` stage in the project's interpreter (where coverage.py is)::

    python gatekeeper_coverage_lines.py DATA_DIR CONTEXTS(0|1) ABSOLUTE_PATH...

It merges the ``hits-*.json`` files the test processes left in DATA_DIR (see
``gatekeeper_probe``) and prints one JSON object:
``{"files": {path: {"statements": [...], "executed": [...], "contexts": {line: [test ids]}}}}``.
Statements are coverage.py's executable lines with no exclusion at all (the stage decides what
is excluded, from the base of the change). Imports only the standard library and coverage.py.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from typing import Any

import coverage

Contexts = dict[str, dict[str, set[str]]]  # path -> line -> test ids


def _merge(directory: str) -> tuple[dict[str, set[int]], Contexts] | None:
    names = glob.glob(os.path.join(directory, "hits-*.json"))
    if not names:
        return None
    files: dict[str, set[int]] = {}
    contexts: Contexts = {}
    for name in names:
        with open(name, encoding="utf-8") as fh:
            data = json.load(fh)
        for path, lines in data["files"].items():
            files.setdefault(path, set()).update(lines)
        for test, per in data["contexts"].items():
            for path, lines in per.items():
                for line in lines:
                    contexts.setdefault(path, {}).setdefault(str(line), set()).add(test)
    return files, contexts


def _file(cov: Any, path: str, executed: set[int], contexts: dict[str, set[str]]) -> Any:
    try:
        _name, statements, _excluded, _missing, _text = cov.analysis2(path)
    except Exception as exc:  # not Python coverage.py can parse: the stage leaves it to mypy
        return {"statements": [], "executed": [], "unreadable": f"{type(exc).__name__}: {exc}"}
    return {
        "statements": sorted(statements),
        "executed": sorted(executed),
        "contexts": {n: sorted(t) for n, t in contexts.items()},
    }


def main(argv: list[str]) -> int:
    directory, paths = argv[0], argv[2:]
    merged = _merge(directory)
    if merged is None:
        print(json.dumps({"error": "no coverage data: no test process was measured"}))
        return 0
    files, contexts = merged
    cov = coverage.Coverage(data_file=None, config_file=False)
    cov.set_option("report:exclude_lines", [])
    found = {p: _file(cov, p, files.get(p, set()), contexts.get(p, {})) for p in paths}
    print(json.dumps({"files": found}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
