"""Line probes for the changed files: which of their statements ran, and under which test.

coverage.py's tracer (``sys.settrace``) puts the whole interpreter on its slow tracing path
before Python 3.12, even when it measures a single file: on click's suite it doubled pytest's
CPU time. The gate only needs the changed statements, so the changed files alone are compiled
with a probe in front of each statement whose own text holds a changed line (same line numbers,
same code otherwise) when they are imported, and nothing else is slowed down. coverage.py
still decides which lines are executable (see ``gatekeeper_coverage_lines``).

A probe is a *site*: ``if not SEEN[i]: PROBE(i)``. The call records the site's lines and sets
its flag, so a statement that runs a million times pays a function call once and a flag test
after (a call per statement cost more-itertools' suite 30 % for one measured module; a flag
test in front of every statement of that module still cost 5-13 %, hence sites for the changed
statements only). With per-test contexts, the flags are cleared when the test changes, so each
test records each site once.

:func:`install` puts the import hook in place (from the ``-p`` plugin in the test processes,
from ``_site/sitecustomize.py`` in any other Python process the tests start). Each process
writes ``hits-<pid>-<n>.json`` into the data directory when it ends (or on :func:`flush`):
``{"files": {path: [lines]}, "contexts": {test id: {path: [lines]}}}``; it reads what to
measure from ``files.json`` there: ``{absolute path: [changed lines]}``. Imports only the
standard library.
"""

from __future__ import annotations

import _thread
import atexit
import importlib
import importlib.machinery
import json
import marshal
import os
import sys

# Every Python process the tests start imports this module (``_site/sitecustomize.py``), so it
# imports what start-up has already loaded and little more: the instrumenting (``ast``) waits
# for a changed module's import, typing and ``importlib.abc`` (~20 ms) are for mypy only.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from types import CodeType, ModuleType
    from typing import Any

    Sites = Sequence[Sequence[int]]

PROBE = "__gatekeeper_probe__"
SEEN = "__gatekeeper_seen__"
#: In the data directory: what to measure, ``{absolute path: [lines]}``.
FILES = "files.json"
spec_from_others = importlib.import_module("gatekeeper_import_hook").spec_from_others


class Recorder:
    """The lines hit in this process, overall and per test (the current context)."""

    def __init__(self, directory: str, contexts: bool) -> None:
        self.directory = directory
        self.contexts = contexts
        self._context = ""
        self.files: dict[str, set[int]] = {}
        self.by_context: dict[str, dict[str, set[int]]] = {}
        self.lock = _thread.allocate_lock()
        self.flushes = 0
        self._flags: list[bytearray] = []

    @property
    def context(self) -> str:
        """The test whose lines are being recorded ("" between tests)."""
        return self._context

    @context.setter
    def context(self, name: str) -> None:
        self._context = name
        if self.contexts:
            for flags in self._flags:  # every site records again for the next test
                flags[:] = bytes(len(flags))

    def probe_for(self, path: str, sites: Sites) -> tuple[bytearray, Any]:
        """The flags and the probe of one module's sites (see :func:`instrument`)."""
        hit = self.files.setdefault(path, set())
        flags = bytearray(len(sites))
        self._flags.append(flags)
        recorder = self

        def probe(site: int) -> None:
            flags[site] = 1
            lines = sites[site]
            hit.update(lines)
            if recorder.contexts and recorder._context:
                per = recorder.by_context.setdefault(recorder._context, {})
                per.setdefault(path, set()).update(lines)

        return flags, probe

    def flush(self, only_hits: bool = False) -> None:
        """Write what was recorded; ``only_hits``: not when no changed module was imported
        (a process that ends with nothing to say leaves no file)."""
        if only_hits and not self.files:
            return
        with self.lock:
            self.flushes += 1
            data = {
                "files": {p: sorted(lines) for p, lines in self.files.items()},
                "contexts": {
                    c: {p: sorted(lines) for p, lines in per.items()}
                    for c, per in self.by_context.items()
                },
            }
            name = f"hits-{os.getpid()}-{self.flushes}.json"
            target = os.path.join(self.directory, name)
            try:
                with open(target + ".tmp", "w", encoding="utf-8") as fh:
                    json.dump(data, fh)
                os.replace(target + ".tmp", target)
            except OSError:
                pass


def probe(path: str, sites: Sites) -> tuple[bytearray, Any]:
    """The flags and probe of ``path``'s sites in this process.

    When nothing is measured (``GATEKEEPER_COVERAGE_DIR`` unset: the module was compiled by
    another process) every flag is set, so no probe is ever called.
    """
    recorder = install()
    if recorder is None:
        return bytearray(b"\x01" * len(sites)), lambda site: None
    return recorder.probe_for(os.path.realpath(path), sites)


def _instrumenter() -> ModuleType:
    """``gatekeeper_instrument``, loaded from this module's folder by file, not by name.

    The import hook is in place by then: found through ``sys.meta_path``, a changed
    ``gatekeeper_instrument`` (this repository gating itself) would be handed to the hook that
    needs it, and a test that replaced ``sys.path`` would find none.
    """
    global _INSTRUMENTER
    if _INSTRUMENTER is None:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gatekeeper_instrument.py")
        loader = importlib.machinery.SourceFileLoader("_gatekeeper_instrument", path)
        util = importlib.import_module("importlib.util")
        spec = util.spec_from_loader(loader.name, loader)
        module = util.module_from_spec(spec)
        loader.exec_module(module)
        _INSTRUMENTER = module
    return _INSTRUMENTER


_INSTRUMENTER: ModuleType | None = None


class _ProbedLoader(importlib.machinery.SourceFileLoader):
    """Loads a changed file compiled with its probes.

    The compiled code is kept in ``cache`` for the run's other processes (a suite that starts
    its CLI a thousand times would parse and compile the file a thousand times): the entry
    holds the interpreter's version and the source's bytes, and is used only when both are
    this process's.
    """

    def __init__(self, fullname: str, path: str, lines: Collection[int], cache: str) -> None:
        super().__init__(fullname, path)
        self.lines = lines
        self.cache = cache

    def get_code(self, fullname: str) -> CodeType:
        with open(self.path, "rb") as fh:
            source = fh.read()
        # compile() takes -O / -OO from the process: a code object is this level's only.
        header = f"{sys.version}\0{sys.flags.optimize}\0".encode()
        code = self._cached(header, source)
        if code is None:
            code = _instrumenter().instrument(source.decode("utf-8"), self.path, self.lines)
            self._store(header, source, code)
        return code

    def _cached(self, header: bytes, source: bytes) -> CodeType | None:
        try:
            with open(self.cache, "rb") as fh:
                data = fh.read()
            if not data.startswith(header):
                return None
            kept, code = marshal.loads(data[len(header) :])
        except (OSError, ValueError, EOFError, TypeError):
            return None
        return code if kept == source else None

    def _store(self, header: bytes, source: bytes, code: CodeType) -> None:
        tmp = f"{self.cache}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(header + marshal.dumps((source, code)))
            os.replace(tmp, self.cache)
        except OSError:
            pass  # the next process compiles it again


class _Finder:
    """A ``sys.meta_path`` finder (see ``importlib.abc.MetaPathFinder``) that hands the
    changed files to :class:`_ProbedLoader`."""

    def __init__(self, files: Mapping[str, Collection[int]], recorder: Recorder) -> None:
        self.files = files
        self.recorder = recorder
        self.names = {_name(p) for p in files}
        self.index = {path: n for n, path in enumerate(sorted(files))}

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
        origin = spec.origin if spec is not None else None
        lines = self.files.get(os.path.realpath(origin)) if origin else None
        if spec is not None and origin and lines is not None:
            real = os.path.realpath(origin)
            cache = os.path.join(self.recorder.directory, f"code-{self.index[real]}.bin")
            spec.loader = _ProbedLoader(fullname, origin, lines, cache)
        return spec


def _name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.basename(os.path.dirname(path)) if stem == "__init__" else stem


_RECORDER: Recorder | None = None


def install() -> Recorder | None:
    """The recorder of this process, installing the import hook on first call.

    None when the process is not asked to measure (``GATEKEEPER_COVERAGE_DIR`` unset).
    """
    global _RECORDER
    if _RECORDER is not None:
        return _RECORDER
    directory = os.environ.get("GATEKEEPER_COVERAGE_DIR", "")
    if not directory:
        return None
    try:
        with open(os.path.join(directory, FILES), encoding="utf-8") as fh:
            wanted = json.load(fh)
        files = {str(path): frozenset(int(n) for n in lines) for path, lines in wanted.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return None  # nothing measured: the stage finds no data and says so
    _RECORDER = Recorder(directory, os.environ.get("GATEKEEPER_COVERAGE_CONTEXTS") == "1")
    sys.meta_path.insert(0, _Finder(files, _RECORDER))
    atexit.register(_RECORDER.flush, only_hits=True)
    return _RECORDER
