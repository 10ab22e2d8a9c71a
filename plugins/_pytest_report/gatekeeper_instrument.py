"""Compile a changed file with probe sites in front of its changed statements.

Used by ``gatekeeper_probe`` when a process of the tests imports a changed file (imported
only then: ``ast`` is not free at every process's start). A site is
``if not __gatekeeper_seen__[i]: __gatekeeper_probe__(i)``; see ``gatekeeper_probe`` for what
the call records. Imports only the standard library.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable
from types import CodeType

PROBE = "__gatekeeper_probe__"
SEEN = "__gatekeeper_seen__"


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


def wanted_lines(tree: ast.Module, changed: Collection[int]) -> frozenset[int]:
    """The own text of every statement that holds a changed line.

    A statement whose own text meets these lines gets a site: the changed statements, and any
    other statement that starts on one of their lines (``if x: raise E(`` / ``"y")`` with the
    second line changed: coverage.py counts the ``raise`` at the ``if``'s line, which runs
    whenever the ``if`` does).
    """
    lines = frozenset(changed)
    found = set(lines)
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and not lines.isdisjoint(text := _own_text(node)):
            found.update(text)
    return frozenset(found)


class _Instrument(ast.NodeTransformer):
    """A probe site before each wanted statement; docstrings and ``__future__`` imports stay
    first.

    :param wanted: the lines to measure (see :func:`wanted_lines`); a statement gets a site
        when its own text holds one of them (None: every statement).
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
        # Lines the next site records (a docstring, ``__future__`` imports); wanted_lines
        # holds a multi-line import's whole text whenever one of its lines changed.
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
    tree = ast.parse(source, path)
    instrumenter = _Instrument(None if lines is None else wanted_lines(tree, lines))
    tree = instrumenter.visit(tree)
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
