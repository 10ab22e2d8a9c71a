"""A pytest plugin that records which changed lines the gate's own test run executes.

Loaded with ``-p`` ahead of everything else, so its import hook (``gatekeeper_probe``) is in
place before any conftest or test module imports the code under test; pytest-xdist workers load
it too, and other Python processes the tests start get the same hook from
``_site/sitecustomize.py``. With ``GATEKEEPER_COVERAGE_CONTEXTS=1`` each test's lines are also
recorded under the test's node id, which the deep mode uses to pick the tests of a line. Runs
in the project's interpreter and imports only the standard library and pytest.
"""

from __future__ import annotations

import importlib
from collections.abc import Generator

import pytest

# A sibling module on PYTHONPATH (imported by name: it is no package mypy can follow).
_RECORDER = importlib.import_module("gatekeeper_probe").install()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    if _RECORDER is not None:
        _RECORDER.context = item.nodeid
    yield
    if _RECORDER is not None:
        _RECORDER.context = ""


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _RECORDER is not None:
        _RECORDER.flush()
