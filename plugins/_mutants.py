"""A small AST mutator for the deep mode of the ``test-quality`` stage.

mutmut and cosmic-ray both mutate the files on disk and drive the test run themselves; neither
takes "these lines, with these tests" from a caller, and the gate may never change the tree it
checks. So mutants are made here, on the source text (each mutated expression is replaced in
place by its mutated form, everything else byte for byte), and the test run imports the mutated
module through the ``gatekeeper_pytest_mutant`` plugin instead of the file on disk.

The mutations are the standard ones: arithmetic and bitwise operators (``+`` ↔ ``-`` …),
comparisons (``<`` → ``<=``, ``==`` ↔ ``!=`` …), ``and`` ↔ ``or``, numeric and boolean
constants, the returned value (``return x`` → ``return None``) and the negated condition of
``if`` / ``while`` / conditional expressions.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

_BINOPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
_COMPARE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


@dataclass(frozen=True)
class Mutant:
    """One mutation of a module: ``before`` becomes ``after`` at ``line``; ``source`` is the
    whole mutated module."""

    line: int
    kind: str
    before: str
    after: str
    source: str

    @property
    def description(self) -> str:
        return f"`{self.before}` becomes `{self.after}`"


def _clone(node: ast.expr) -> ast.expr:
    copy = ast.parse(ast.unparse(node), mode="eval").body
    return copy


def _binop(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        yield "operator", ast.BinOp(_clone(node.left), _BINOPS[type(node.op)](), _clone(node.right))


def _compare(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        ops = [_COMPARE[type(op)]() for op in node.ops]
        yield (
            "comparison",
            ast.Compare(_clone(node.left), ops, [_clone(c) for c in node.comparators]),
        )


def _boolop(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(node, ast.BoolOp):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "operator", ast.BoolOp(other, [_clone(v) for v in node.values])


def _constant(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if not isinstance(node, ast.Constant):
        return
    value = node.value
    if isinstance(value, bool):
        yield "constant", ast.Constant(not value)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield "constant", ast.Constant(value + 1)


def _condition(node: ast.AST) -> Iterator[tuple[str, ast.expr]]:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "condition", _clone(node.operand)
    else:
        yield "condition", ast.UnaryOp(ast.Not(), _clone(node))  # type: ignore[arg-type]


_EXPRESSION_RULES: tuple[Callable[[ast.AST], Iterator[tuple[str, ast.expr]]], ...] = (
    _compare,
    _binop,
    _boolop,
    _constant,
)
#: Which kinds are tried first when a line allows more mutants than are wanted.
_PRIORITY = {"comparison": 0, "condition": 1, "operator": 2, "return": 3, "constant": 4}


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _left_alone(tree: ast.Module) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations (no runtime effect under
    ``from __future__ import annotations``) and f-strings (their inner positions are unreliable
    before Python 3.12)."""
    roots: list[ast.AST] = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                roots.append(value)
        if isinstance(node, ast.arg) and node.annotation is not None:
            roots.append(node.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            roots.append(node.returns)
        if isinstance(node, ast.AnnAssign):
            roots.append(node.annotation)
        if isinstance(node, ast.JoinedStr):
            roots.append(node)
    return {id(n) for root in roots for n in ast.walk(root)}


def _candidates(tree: ast.Module) -> Iterator[tuple[ast.AST, str, ast.expr]]:
    """(original node, kind, replacement) for every mutation the module allows."""
    skip = _left_alone(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            for kind, new in _condition(node.test):
                yield node.test, kind, new
        if isinstance(node, ast.Return) and node.value is not None and not _is_none(node.value):
            yield node.value, "return", ast.Constant(None)
        for rule in _EXPRESSION_RULES:
            for kind, new in rule(node):
                yield node, kind, new


def _offsets(source: str) -> list[int]:
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _splice(source: str, starts: list[int], node: ast.AST, text: str) -> str | None:
    """``source`` with ``node``'s text replaced by ``text`` (None when positions are missing)."""
    end_line, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
    if end_line is None or end_col is None:
        return None
    lines = source.splitlines(keepends=True)
    # ast columns are UTF-8 byte offsets; convert them to character offsets.
    begin_line = lines[node.lineno - 1].encode()  # type: ignore[attr-defined]
    finish_line = lines[end_line - 1].encode()
    begin = starts[node.lineno - 1] + len(begin_line[: node.col_offset].decode())  # type: ignore[attr-defined]
    finish = starts[end_line - 1] + len(finish_line[:end_col].decode())
    return source[:begin] + text + source[finish:]


def mutants(source: str, lines: Iterable[int], per_line: int = 3) -> list[Mutant]:
    """Up to ``per_line`` mutants for each of ``lines`` (1-based), in line order.

    Each mutant's source compiles; a mutation that would not (or that changes nothing) is
    dropped.
    """
    wanted = set(lines)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    starts = _offsets(source)
    by_line: dict[int, list[Mutant]] = {}
    seen: set[str] = set()
    for node, kind, new in _candidates(tree):
        line = getattr(node, "lineno", 0)
        if line not in wanted:
            continue
        before, after = ast.unparse(node), ast.unparse(new)
        text = _splice(source, starts, node, f"({after})")
        if text is None or before == after or text in seen or not _compiles(text):
            continue
        seen.add(text)
        by_line.setdefault(line, []).append(Mutant(line, kind, before, after, text))
    chosen: list[Mutant] = []
    for line in sorted(by_line):
        ranked = sorted(by_line[line], key=lambda m: (_PRIORITY[m.kind], len(m.before)))
        chosen += ranked[:per_line]
    return chosen


def _compiles(text: str) -> bool:
    try:
        compile(text, "<mutant>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True
