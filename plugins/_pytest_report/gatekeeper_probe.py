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

import ast
import atexit
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from types import CodeType, ModuleType
from typing import Any

PROBE = "__gatekeeper_probe__"
SEEN = "__gatekeeper_seen__"
#: In the data directory: what to measure, ``{absolute path: [lines]}``.
FILES = "files.json"
spec_from_others = importlib.import_module("gatekeeper_import_hook").spec_from_others

Sites = Sequence[Sequence[int]]


class Recorder:
    """The lines hit in this process, overall and per test (the current context)."""

    def __init__(self, directory: str, contexts: bool) -> None:
        self.directory = directory
        self.contexts = contexts
        self._context = ""
        self.files: dict[str, set[int]] = {}
        self.by_context: dict[str, dict[str, set[int]]] = {}
        self.lock = threading.Lock()
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

    def flush(self) -> None:
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


def _docstring(body: list[ast.stmt]) -> ast.stmt | None:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return first if isinstance(first.value.value, str) else None
    return None


def _lines(node: ast.stmt) -> tuple[int, ...]:
    decorators = getattr(node, "decorator_list", [])
    return tuple(sorted({node.lineno, *(d.lineno for d in decorators)}))


def _own_text(node: ast.stmt) -> range:
    """The lines of a statement's own text: decorators to the end of a compound statement's
    header (``if a and`` / ``b:``), not its body; all of a simple statement."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
        end = body[0].lineno - 1
    else:
        end = node.end_lineno or node.lineno
    return range(first, max(end, node.lineno) + 1)


class _Instrument(ast.NodeTransformer):
    """A probe site before each wanted statement; docstrings and ``__future__`` imports stay
    first.

    :param wanted: the lines to measure; a statement gets a site when its own text holds one
        of them (None: every statement).
    ``sites[i]``: the lines site ``i`` stands for.
    """

    def __init__(self, wanted: Collection[int] | None = None) -> None:
        self.sites: list[tuple[int, ...]] = []
        self.wanted = None if wanted is None else frozenset(wanted)

    def _wants(self, lines: Iterable[int]) -> bool:
        return self.wanted is None or not self.wanted.isdisjoint(lines)

    def _probe(self, lines: Iterable[int], where: ast.stmt) -> ast.stmt:
        site = ast.Constant(len(self.sites))
        self.sites.append(tuple(sorted(set(lines))))
        seen = ast.Subscript(ast.Name(SEEN, ast.Load()), site, ast.Load())
        call = ast.Expr(ast.Call(ast.Name(PROBE, ast.Load()), [site], []))
        return ast.copy_location(ast.If(ast.UnaryOp(ast.Not(), seen), [call], []), where)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, name, self._block(block, keep_doc=name == "body"))
        return node

    def _block(self, block: list[ast.stmt], keep_doc: bool) -> list[ast.stmt]:
        head: list[ast.stmt] = []
        pending: list[int] = []
        rest = list(block)
        doc = _docstring(rest) if keep_doc else None
        if doc is not None:
            head.append(rest.pop(0))
            pending += range(doc.lineno, (doc.end_lineno or doc.lineno) + 1)
        while rest and isinstance(rest[0], ast.ImportFrom) and rest[0].module == "__future__":
            future = rest.pop(0)
            head.append(future)
            pending.append(future.lineno)
        out = head
        for stmt in rest:
            if self._wants(pending) or self._wants(_own_text(stmt)):
                out.append(self._probe([*pending, *_lines(stmt)], stmt))
            out.append(stmt)
            pending = []
        if pending and self._wants(pending):  # only a docstring: count it when the block runs
            out.append(self._probe(pending, out[-1]))
        return out


def instrument(source: str, path: str, lines: Collection[int] | None = None) -> CodeType:
    """``source`` compiled with its probes (line numbers unchanged).

    :param lines: the lines to measure (the change's); None: every statement.
    The module's first statement after its docstring and ``__future__`` imports binds the
    probe, so the code records its lines however it is run (imported, or ``python -m``).
    """
    instrumenter = _Instrument(lines)
    tree = instrumenter.visit(ast.parse(source, path))
    body = tree.body
    at = 0
    while at < len(body) and (
        (at == 0 and _docstring(body) is not None)
        or (
            isinstance(body[at], ast.ImportFrom) and getattr(body[at], "module", "") == "__future__"
        )
    ):
        at += 1
    sites = tuple(instrumenter.sites)
    binding = f"{SEEN}, {PROBE} = __import__('gatekeeper_probe').probe({path!r}, {sites!r})"
    bind = ast.parse(binding).body[0]
    body.insert(at, ast.copy_location(bind, body[min(at, len(body) - 1)]) if body else bind)
    ast.fix_missing_locations(tree)
    return compile(tree, path, "exec", dont_inherit=True)


def probe(path: str, sites: Sites) -> tuple[bytearray, Any]:
    """The flags and probe of ``path``'s sites in this process.

    When nothing is measured (``GATEKEEPER_COVERAGE_DIR`` unset: the module was compiled by
    another process) every flag is set, so no probe is ever called.
    """
    recorder = install()
    if recorder is None:
        return bytearray(b"\x01" * len(sites)), lambda site: None
    return recorder.probe_for(os.path.realpath(path), sites)


class _ProbedLoader(importlib.machinery.SourceFileLoader):
    def __init__(self, fullname: str, path: str, lines: Collection[int]) -> None:
        super().__init__(fullname, path)
        self.lines = lines

    def get_code(self, fullname: str) -> CodeType:
        with open(self.path, encoding="utf-8") as fh:
            source = fh.read()
        return instrument(source, self.path, self.lines)


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, files: Mapping[str, Collection[int]], recorder: Recorder) -> None:
        self.files = files
        self.recorder = recorder
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
        origin = spec.origin if spec is not None else None
        lines = self.files.get(os.path.realpath(origin)) if origin else None
        if spec is not None and origin and lines is not None:
            spec.loader = _ProbedLoader(fullname, origin, lines)
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
    atexit.register(_RECORDER.flush)
    return _RECORDER
