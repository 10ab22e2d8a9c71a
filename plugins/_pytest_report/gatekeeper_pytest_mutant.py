"""A pytest plugin that makes the test run import a mutant instead of a module's file.

The ``test-quality`` stage's deep mode loads it with ``-p`` (before any conftest or test module
imports the code) and names the module's file in ``GATEKEEPER_MUTANT_TARGET`` and the mutated
source in ``GATEKEEPER_MUTANT_SOURCE``. The file on disk is never touched. When the mutant is
actually imported, the plugin writes ``GATEKEEPER_MUTANT_SOURCE + ".loaded"``, so the stage can
tell "no test failed" from "the mutant never ran". Imports only the standard library.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType


def _import_hook() -> ModuleType:
    """The gate's import-hook helper, loaded from the path the stage gives (by name, a module
    of the project at the top of the repository would come first on ``sys.path``)."""
    path = os.environ["GATEKEEPER_IMPORT_HOOK"]
    spec = importlib.util.spec_from_file_location("_gatekeeper_import_hook", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


spec_from_others = _import_hook().spec_from_others

_TARGET = os.environ.get("GATEKEEPER_MUTANT_TARGET", "")
_SOURCE = os.environ.get("GATEKEEPER_MUTANT_SOURCE", "")


class _MutantLoader(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname: str) -> CodeType:
        text = Path(_SOURCE).read_text(encoding="utf-8")
        Path(_SOURCE + ".loaded").write_text(fullname, encoding="utf-8")
        return compile(text, self.path, "exec", dont_inherit=True)


class _MutantFinder(importlib.abc.MetaPathFinder):
    """Finds modules as the other finders do, and swaps the loader of the target file."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        spec: importlib.machinery.ModuleSpec | None
        spec = spec_from_others(self, fullname, path, target)
        origin = spec.origin if spec is not None else None
        if spec is not None and origin and os.path.realpath(origin) == _TARGET:
            spec.loader = _MutantLoader(fullname, origin)
        return spec


if _TARGET and _SOURCE:
    sys.meta_path.insert(0, _MutantFinder())
