"""A pytest plugin the ``pytest`` stage loads into the project's pytest (``-p``).

It must run in the project's interpreter, where gatekeeper may not be installed, so it
imports nothing but pytest and the standard library. It writes one JSON document to the path
in ``GATEKEEPER_PYTEST_REPORT``: counts, failures with their crash location, collection errors.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

_state: dict[str, Any] = {
    "collected": 0,
    "deselected": 0,
    "test_files": 0,
    "outcomes": {"passed": 0, "failed": 0, "skipped": 0, "error": 0, "xfailed": 0, "xpassed": 0},
    "failures": [],
    "collect_errors": [],
    "exitstatus": None,
    # Tests that reported at all (run, skipped or errored): fewer than collected means the
    # session stopped early (-x, --maxfail, --stepwise, pytest.exit, an interrupt).
    "ran": 0,
    "stopped": "",
}
_seen: set[str] = set()


def _crash(report: Any) -> dict[str, Any] | None:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is None:
        return None
    return {"path": str(crash.path), "line": int(crash.lineno), "message": str(crash.message)}


def _text(report: Any, limit: int = 1500) -> str:
    text = str(getattr(report, "longreprtext", "") or report.longrepr or "")
    return text[-limit:]


def pytest_collection_finish(session: pytest.Session) -> None:
    _state["collected"] = len(session.items)
    _state["test_files"] = len({item.nodeid.split("::")[0] for item in session.items})


def pytest_deselected(items: list[Any]) -> None:
    _state["deselected"] += len(items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    # Under pytest-xdist the controller collects nothing itself; the workers tell it.
    _state["collected"] = max(_state["collected"], len(ids))
    _state["test_files"] = max(_state["test_files"], len({i.split("::")[0] for i in ids}))


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _state["collect_errors"].append(
            {"nodeid": report.nodeid, "path": str(report.fspath), "text": _text(report)}
        )


def _count(report: pytest.TestReport) -> str | None:
    """The outcome this report adds to the counts, if any (pytest's own terminal counts)."""
    if hasattr(report, "wasxfail"):
        if report.when != "call":
            return None
        return "xfailed" if report.skipped else "xpassed"
    if report.when == "call":
        return report.outcome
    if report.failed:
        return "error"
    if report.skipped and report.when == "setup":
        return "skipped"
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid not in _seen:
        _seen.add(report.nodeid)
        _state["ran"] = len(_seen)
    outcome = _count(report)
    if outcome is not None:
        _state["outcomes"][outcome] += 1
    if report.failed and not hasattr(report, "wasxfail"):
        path, line, _domain = report.location
        _state["failures"].append(
            {
                "nodeid": report.nodeid,
                "when": report.when,
                "path": str(path),
                "line": (line or 0) + 1,
                "crash": _crash(report),
                "text": _text(report),
            }
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _state["exitstatus"] = int(exitstatus)
    why = session.shouldfail or session.shouldstop
    _state["stopped"] = why if isinstance(why, str) else ("stopped" if why else "")
    target = os.environ.get("GATEKEEPER_PYTEST_REPORT")
    if target:
        tmp = f"{target}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(_state, fh)
        os.replace(tmp, target)
