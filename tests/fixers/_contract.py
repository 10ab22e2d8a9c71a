"""What every scripted fixer shares: read the contract's inputs, leave a trace for the test.

A scripted fixer stands in for a coding agent (the only fake the tests allow). It gets what
an agent gets — the report on stdin and at GATEKEEPER_REPORT, the findings JSON at
GATEKEEPER_FINDINGS, the attempt numbers — and appends one JSON line per run to the file
named by FIXER_TRACE (when set) so a test can check the contract was kept.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def inputs() -> tuple[str, dict[str, Any], int]:
    """The report (from stdin), the findings JSON and the 1-based attempt number."""
    report = sys.stdin.read()
    findings = json.loads(Path(os.environ["GATEKEEPER_FINDINGS"]).read_text(encoding="utf-8"))
    attempt = int(os.environ["GATEKEEPER_ATTEMPT"])
    trace = os.environ.get("FIXER_TRACE")
    if trace:
        entry = {
            "fixer": Path(sys.argv[0]).stem,
            "argv": sys.argv[1:],
            "attempt": attempt,
            "max_attempts": int(os.environ["GATEKEEPER_MAX_ATTEMPTS"]),
            "stdin_is_report": report
            == Path(os.environ["GATEKEEPER_REPORT"]).read_text(encoding="utf-8"),
            "report_chars": len(report),
            "findings_version": findings.get("version"),
            "cwd": os.getcwd(),
        }
        with open(trace, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")
    return report, findings, attempt


def blocking(findings: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of failed stages, in report order."""
    return [f for s in findings["stages"] if s["status"] == "failed" for f in s["findings"]]


def replace_in(path: str, old: str, new: str) -> bool:
    """Replace ``old`` by ``new`` in ``path``; False when ``old`` is not there."""
    target = Path(path)
    text = target.read_text(encoding="utf-8")
    if old not in text:
        return False
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return True
