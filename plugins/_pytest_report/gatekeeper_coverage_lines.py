"""Read the coverage data of the gate's test run: executable and executed lines per file.

Run by the ``test-quality`` stage in the project's interpreter (where coverage.py is)::

    python gatekeeper_coverage_lines.py DATA_DIR CONTEXTS(0|1) ABSOLUTE_PATH...

It combines the data files the test processes left in DATA_DIR and prints one JSON object:
``{"files": {path: {"statements": [...], "executed": [...], "contexts": {line: [test ids]}}}}``.
Statements are coverage.py's executable lines with no exclusion at all (the stage decides what
is excluded, from the base of the change). Imports only the standard library and coverage.py.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import coverage
from coverage.exceptions import NoDataError


def _file(cov: Any, data: Any, path: str, contexts: bool) -> dict[str, Any]:
    try:
        _name, statements, _excluded, _missing, _text = cov.analysis2(path)
    except Exception as exc:  # not Python coverage.py can parse: the stage leaves it to mypy
        return {"statements": [], "executed": [], "unreadable": f"{type(exc).__name__}: {exc}"}
    executed = data.lines(path) or []
    found: dict[str, Any] = {"statements": sorted(statements), "executed": sorted(executed)}
    if contexts:
        by_line = data.contexts_by_lineno(path)
        found["contexts"] = {str(n): sorted(c for c in ids if c) for n, ids in by_line.items()}
    return found


def main(argv: list[str]) -> int:
    directory, contexts, paths = argv[0], argv[1] == "1", argv[2:]
    cov = coverage.Coverage(data_file=os.path.join(directory, "cov"), config_file=False)
    cov.set_option("report:exclude_lines", [])
    try:
        cov.combine([directory], keep=True)
    except NoDataError:
        print(json.dumps({"error": "no coverage data: no test process was measured"}))
        return 0
    data = cov.get_data()
    files = {p: _file(cov, data, p, contexts) for p in paths}
    print(json.dumps({"files": files}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
