"""What the ``pytest`` stage runs first in an attempt: last failures, then affected tests.

Test selection is pytest-testmon's (coverage-based dependency data; see
https://testmon.org): a well-kept library, not an import graph of our own. Its data file
and the list of tests that failed last time live in the stage's directory under the gate's
state directory (``.gatekeeper/tools/pytest/``), so the loop, the Stop hook, ``verify`` and
the push gate of a repository — worktrees included — share them.

Both are hints, never evidence: a fast path that passes is always followed by the full suite
(:mod:`gatekeeper.fastpath`), so missing, stale, corrupted or even hostile selection data
can make an attempt slower, never a verdict weaker. Data that cannot be read is removed and
the full suite runs; without pytest-testmon in the project's interpreter only the last
failures go first.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from gatekeeper import StageContext, StageError

#: Triggers whose first full run records testmon's data: the runs an attempt's selection serves.
ATTEMPT_TRIGGERS = ("loop", "agent")
LAST_FAILED = "last-failed.json"
DATAFILE = "testmondata"
#: Failures remembered at most (a suite that is all red gains nothing from more).
_MAX_REMEMBERED = 200
_PROBE = "import importlib.util, sys; sys.exit(importlib.util.find_spec('testmon') is None)"


def last_failed(ctx: StageContext) -> list[str]:
    """Test ids that failed in the previous run and still exist (oldest first); [] if unknown."""
    try:
        data = json.loads((ctx.cache_dir / LAST_FAILED).read_text(encoding="utf-8"))
        ids = data["failed"] if isinstance(data, dict) else []
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if not isinstance(ids, list):
        return []
    return [i for i in dict.fromkeys(ids) if isinstance(i, str) and _runnable(ctx.root, i)]


def _runnable(root: Path, nodeid: str) -> bool:
    """A test id pytest can be handed: a relative file of the tree, no option, no escape.

    The list lives in state a change can write, so anything else never reaches pytest's
    command line.
    """
    path = nodeid.split("::", 1)[0]
    if not path or nodeid.startswith("-") or path.startswith("/") or ".." in Path(path).parts:
        return False
    return (root / path).is_file()


def remember(ctx: StageContext, failed: Iterable[str], ran: Sequence[str] | None) -> None:
    """Record the tests that failed.

    :param failed: the ids that failed (collection errors: the module's id) in this run.
    :param ran: the ids this run was limited to; None for a run of the whole suite, which
        replaces the list. After a partial run, earlier failures it did not re-run stay.
    """
    failing = list(dict.fromkeys(failed))
    if ran is not None:
        tried = set(ran)
        failing += [i for i in last_failed(ctx) if i not in tried and i not in failing]
    path = ctx.cache_dir / LAST_FAILED
    tmp = path.with_name(f".{LAST_FAILED}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"failed": failing[:_MAX_REMEMBERED]}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()  # a read-only state dir costs speed next time, never correctness


def datafile(ctx: StageContext) -> Path:
    """Where pytest-testmon keeps its data for this repository (``TESTMON_DATAFILE``)."""
    return ctx.cache_dir / DATAFILE


def testmon_usable(ctx: StageContext) -> bool:
    """pytest-testmon is installed in the project's interpreter and pytest will load it."""
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False  # loaded only through its entry point
    try:
        done = ctx.run([str(ctx.python), "-c", _PROBE], ok=(0, 1))
    except StageError:  # a timeout or a missing interpreter: select nothing by it
        return False
    return done.returncode == 0


def should_build(ctx: StageContext) -> bool:
    """Whether this full run records testmon's data: an attempt's run, when there is none.

    Tracing coverage makes a run several times slower (3.6x CPU on more-itertools), so only
    the first full run of an attempt pays it. After that the data stays right by content:
    testmon keeps each test's dependencies with their checksums, and the fast path re-runs
    (and re-records) every test whose dependencies changed, so the full runs that confirm a
    verdict run plain pytest.
    """
    if ctx.trigger not in ATTEMPT_TRIGGERS or data_ready(ctx):
        return False
    return testmon_usable(ctx)


def data_ready(ctx: StageContext) -> bool:
    """True when testmon has readable data to select with; unreadable data is removed."""
    path = datafile(ctx)
    if not path.is_file():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            ok = db.execute("PRAGMA quick_check").fetchone()
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type='table'").fetchone()
    except sqlite3.Error:
        ok, tables = None, None
    if ok == ("ok",) and tables is not None and tables[0] > 0:
        return True
    forget_data(ctx)
    return False


def forget_data(ctx: StageContext) -> None:
    """Remove testmon's data (and SQLite's side files): the next full run rebuilds it."""
    path = datafile(ctx)
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        with contextlib.suppress(OSError):
            (path.parent / name).unlink()
