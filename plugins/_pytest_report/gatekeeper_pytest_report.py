"""A pytest plugin the ``pytest`` stage loads into the project's pytest (``-p``).

It must run in the project's interpreter, where gatekeeper may not be installed, so it
imports nothing but pytest and the standard library. It writes one JSON document to the path
in ``GATEKEEPER_PYTEST_REPORT``: counts, failures with their crash location, collection errors,
skips with the place that raised them, and outcomes that something rewrote.

The stage loads a copy of this file under a name chosen per run, so a module of the project
cannot shadow it. The project's own hooks may still rewrite a test's report; this plugin
judges every report against what actually happened (the exception the test raised, seen by a
wrapper around ``item.runtest`` and by ``call.excinfo``) and counts the truth. The per-run
nonce in ``GATEKEEPER_PYTEST_NONCE`` names a file it reads and deletes at import, before any
conftest runs; the report carries it, so a report forged by the project (and followed by
``os._exit(0)``) is told apart from this plugin's.
"""

from __future__ import annotations

import functools
import json
import os
import unittest
from collections.abc import Generator
from typing import Any

import pytest


def _take_nonce() -> str:
    where = os.environ.get("GATEKEEPER_PYTEST_NONCE", "")
    if not where:
        return ""
    try:
        with open(where, encoding="utf-8") as fh:
            nonce = fh.read().strip()
        os.unlink(where)
    except OSError:
        return ""  # an xdist worker: the controller already took it, and workers write nothing
    return nonce


_state: dict[str, Any] = {
    "nonce": _take_nonce(),
    "collected": 0,
    "deselected": 0,
    "test_files": 0,
    "outcomes": {"passed": 0, "failed": 0, "skipped": 0, "error": 0, "xfailed": 0, "xpassed": 0},
    "failures": [],
    "collect_errors": [],
    "skips": [],
    "rewritten": [],
    "exitstatus": None,
    # Tests that reported at all (run, skipped or errored): fewer than collected means the
    # session stopped early (-x, --maxfail, --stepwise, pytest.exit, an interrupt).
    "ran": 0,
    "stopped": "",
}
_raised: dict[str, str] = {}  # nodeid -> the exception the test body raised
_xfail_origin: dict[str, tuple[str, int]] = {}  # nodeid -> where pytest.xfail() was called
_SKIPS = (pytest.skip.Exception, pytest.xfail.Exception, unittest.SkipTest)
_FLAG = "gatekeeper_true_outcome"
_seen: set[str] = set()


def _crash(report: Any) -> dict[str, Any] | None:
    crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
    if crash is None:
        return None
    return {"path": str(crash.path), "line": int(crash.lineno), "message": str(crash.message)}


def _text(report: Any, limit: int = 1500) -> str:
    text = str(getattr(report, "longreprtext", "") or report.longrepr or "")
    return text[-limit:]


def _recording(nodeid: str, runtest: Any) -> Any:
    @functools.wraps(runtest)
    def run() -> Any:
        try:
            return runtest()
        except _SKIPS:
            raise
        except BaseException as exc:
            _raised[nodeid] = type(exc).__name__
            raise

    return run


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    _state["collected"] = len(session.items)
    _state["test_files"] = len({item.nodeid.split("::")[0] for item in session.items})
    for item in session.items:
        # Innermost of all: a hook that swallows the exception around it cannot hide it here.
        item.runtest = _recording(item.nodeid, item.runtest)  # type: ignore[method-assign]


def pytest_deselected(items: list[Any]) -> None:
    _state["deselected"] += len(items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    # Under pytest-xdist the controller collects nothing itself; the workers tell it.
    _state["collected"] = max(_state["collected"], len(ids))
    _state["test_files"] = max(_state["test_files"], len({i.split("::")[0] for i in ids}))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    # Outermost: we see the report after every other hook had its say, and judge it by what
    # happened (the exception the body raised), not by what the report now claims.
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and call.excinfo.errisinstance(pytest.xfail.Exception):
        crash = call.excinfo._getreprcrash()
        if crash is not None:
            _xfail_origin[item.nodeid] = (str(crash.path), int(crash.lineno))
    raised = call.excinfo is not None and not call.excinfo.errisinstance(_SKIPS)
    if call.when == "call" and item.nodeid in _raised:
        raised = True
    if raised and not report.failed and not hasattr(report, "wasxfail"):
        setattr(report, _FLAG, report.outcome)
        report.outcome = "failed"  # undo the rewrite, so pytest's own counts and exit agree


@pytest.hookimpl(optionalhook=True)
def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _state["collect_errors"].append(
            {"nodeid": report.nodeid, "path": str(report.fspath), "text": _text(report)}
        )
    elif report.skipped:
        _skip(report, "skipped")


def _skip(report: Any, kind: str) -> None:
    where = report.longrepr if isinstance(report.longrepr, tuple) else None
    path, line, reason = where if where and len(where) == 3 else ("", 0, str(report.longrepr))
    if kind == "xfailed":
        # A marker's xfail belongs to the test; a pytest.xfail() call to where it was made.
        path, line = _xfail_origin.get(report.nodeid, (str(report.location[0]), 0))
        reason = str(getattr(report, "wasxfail", ""))
    _state["skips"].append(
        {
            "nodeid": report.nodeid,
            "kind": kind,
            "path": str(path),
            "line": int(line or 0),
            "reason": str(reason)[:300],
        }
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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    claimed = getattr(report, _FLAG, None)
    hidden = report.when == "call" and report.nodeid in _raised and not report.failed
    if (claimed or hidden) and not hasattr(report, "wasxfail"):
        # A hook rewrote the outcome after (or around) ours: the body raised, so it failed.
        _state["rewritten"].append(
            {"nodeid": report.nodeid, "when": report.when, "claimed": claimed or report.outcome}
        )
        report.outcome = "failed"
    if report.nodeid not in _seen:
        _seen.add(report.nodeid)
        _state["ran"] = len(_seen)
    outcome = _count(report)
    if outcome is not None:
        _state["outcomes"][outcome] += 1
    if outcome in ("skipped", "xfailed"):
        _skip(report, outcome)
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


@pytest.hookimpl(hookwrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> Generator[None, None, None]:
    yield
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: the controller writes the one report
    # The status pytest will exit with: the session's once every plugin's hook has run
    # (pytest-testmon turns "no tests collected" into 0 when it deselected every test).
    # Findings come from the reports above, so a status changed to hide them hides nothing.
    _state["exitstatus"] = int(session.exitstatus)
    why = session.shouldfail or session.shouldstop
    _state["stopped"] = why if isinstance(why, str) else ("stopped" if why else "")
    target = os.environ.get("GATEKEEPER_PYTEST_REPORT")
    if target:
        tmp = f"{target}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(_state, fh)
        os.replace(tmp, target)
