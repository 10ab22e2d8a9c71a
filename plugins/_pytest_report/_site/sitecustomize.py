"""Measure a Python process the tests start, from the moment it imports a changed file.

The ``pytest`` stage puts this directory on ``PYTHONPATH`` while it measures the coverage of
a change, so every Python process of the test run (a CLI the tests call with ``subprocess``,
say) imports it at start-up. It costs an import hook and nothing more: coverage.py is loaded
and started only in a process that imports one of the measured files, just before that file's
code runs, with the configuration in ``GATEKEEPER_COVERAGE_RC``. The project's own
``sitecustomize`` (the next one on ``sys.path``) still runs. Imports only the standard library.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType


def _measured() -> set[str]:
    rc = os.environ.get("GATEKEEPER_COVERAGE_RC", "")
    listed = os.path.join(os.path.dirname(rc), "files") if rc else ""
    try:
        with open(listed, encoding="utf-8") as fh:
            return {line.strip() for line in fh if line.strip()}
    except OSError:
        return set()


def _name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.basename(os.path.dirname(path)) if stem == "__init__" else stem


class _StartCoverage(importlib.abc.MetaPathFinder):
    """Starts coverage.py when a measured file is about to be imported, then steps aside."""

    def __init__(self, files: set[str]) -> None:
        self.files = files
        self.names = {_name(p) for p in files}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.rsplit(".", 1)[-1] not in self.names:
            return None  # the common case: one set look-up per import
        spec: importlib.machinery.ModuleSpec | None
        spec = spec_from_others(self, fullname, path, target)
        if spec is not None and spec.origin and os.path.realpath(spec.origin) in self.files:
            _start()
        return spec


def _start() -> None:
    for i, finder in enumerate(sys.meta_path):
        if isinstance(finder, _StartCoverage):
            del sys.meta_path[i]
            break
    try:
        import coverage
    except ImportError:
        return
    if coverage.Coverage.current() is not None:
        return
    cov = coverage.Coverage(config_file=os.environ["GATEKEEPER_COVERAGE_RC"], data_suffix=True)
    cov.start()

    def save() -> None:
        cov.stop()
        cov.save()

    atexit.register(save)


def _chain() -> None:
    """Run the next ``sitecustomize`` on the path: the project's own, if it has one."""
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


try:  # the plugins' directory comes right after this one on PYTHONPATH
    spec_from_others = importlib.import_module("gatekeeper_import_hook").spec_from_others
except ImportError:  # a process that changed PYTHONPATH: measure nothing there
    _files: set[str] = set()
else:
    _files = _measured()
if _files:
    sys.meta_path.insert(0, _StartCoverage(_files))
_chain()
