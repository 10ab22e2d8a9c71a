"""A pytest plugin that measures coverage of the changed files during the gate's own test run.

Loaded with ``-p`` ahead of everything else, so measurement starts before any conftest or test
module imports the code under test. It runs in the project's interpreter and imports only the
standard library, pytest and coverage.py. Settings come from the coverage config file named in
``GATEKEEPER_COVERAGE_RC`` (data file, ``include``, ``parallel``). pytest-xdist workers load the
plugin too; other Python processes the tests start are measured by ``_site/sitecustomize.py``.
With ``GATEKEEPER_COVERAGE_CONTEXTS=1`` each test's lines are recorded under the test's node id
(a dynamic context), which the deep mode uses to pick the tests of a line.

When coverage.py is not importable a file ``coverage-missing`` is written to the data directory,
so the gate reports the missing tool instead of "nothing covered".
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

_RC = os.environ.get("GATEKEEPER_COVERAGE_RC", "")
_CONTEXTS = os.environ.get("GATEKEEPER_COVERAGE_CONTEXTS") == "1"


def _ours(cov: Any) -> bool:
    data_file = str(getattr(cov.config, "data_file", ""))
    return bool(_RC) and Path(data_file).parent == Path(_RC).parent


def _start() -> Any:
    """The running Coverage of this process, started here unless coverage's hook did it."""
    if not _RC:
        return None
    try:
        import coverage
    except ImportError:
        (Path(_RC).parent / "coverage-missing").write_text("", encoding="utf-8")
        return None
    current = coverage.Coverage.current()
    if current is not None and _ours(current):
        return current  # started by the start-up hook of this process (_site/sitecustomize.py)
    if current is not None:
        # Measured by someone else's coverage (the gate's own tests under a gate): hand over.
        current.stop()
        current.save()
    cov = coverage.Coverage(config_file=_RC, data_suffix=True)
    cov.start()
    return cov


_COV = _start()


def _switch(name: str) -> None:
    if _COV is not None and _CONTEXTS:
        _COV.switch_context(name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    _switch(item.nodeid)
    yield
    _switch("")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _COV is not None:
        _COV.stop()
        _COV.save()
