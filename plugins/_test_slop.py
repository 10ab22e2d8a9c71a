"""Test slop in test source, by AST: tests that check nothing, assertions that cannot fail.

What counts as a check (issue 17): ``assert``; ``pytest.raises`` / ``warns`` /
``deprecated_call``; unittest's ``self.assert*`` and ``self.fail``; ``pytest.fail`` on a branch;
a mock's ``assert_*`` call (any ``assert*`` function the test module does not define, such as
``numpy.testing.assert_allclose``); ``raise AssertionError``; and any of these reached through a
helper function or method of the test module, a ``conftest.py`` above it, or a fixture the test
(or a fixture it uses) requests.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Function = ast.FunctionDef | ast.AsyncFunctionDef

NO_ASSERT_HINT = (
    "assert what the code must return or do (e.g. `assert total(cart) == 12`), "
    "not only that it runs; use pytest.raises for an expected error"
)
TAUTOLOGY_HINT = (
    "compare the code's result with the value it must have; this assertion passes "
    "whatever the code does"
)
_RAISES = {"raises", "warns", "deprecated_call"}
_BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.With, ast.AsyncWith)
_SAME_SIDED = (ast.Eq, ast.Is, ast.LtE, ast.GtE)
_UNITTEST_SAME = {"assertEqual", "assertIs", "assertLessEqual", "assertGreaterEqual"}


@dataclass(frozen=True)
class Slop:
    """One finding of the AST rules: ``rule`` at ``line`` of the file."""

    rule: str
    line: int
    message: str
    hint: str


@dataclass
class Helpers:
    """Functions a test can reach by name: the module's, then its conftests' (nearest first)."""

    functions: dict[str, Function] = field(default_factory=dict)
    fixtures: dict[str, Function] = field(default_factory=dict)
    classes: dict[str, dict[str, Function]] = field(default_factory=dict)

    def add_module(self, tree: ast.Module, *, override: bool) -> None:
        """Take a module's top-level functions and fixtures (``override``: this one wins)."""
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for table, key in ((self.functions, node.name), *self._fixture_keys(node)):
                    if override or key not in table:
                        table[key] = node
            elif isinstance(node, ast.ClassDef):
                methods = _methods(node)
                self.classes.setdefault(node.name, {}).update(methods)
                for method in methods.values():
                    for table, key in self._fixture_keys(method):
                        table.setdefault(key, method)

    def _fixture_keys(self, node: Function) -> list[tuple[dict[str, Function], str]]:
        for deco in node.decorator_list:
            name = _fixture_name(deco)
            if name is not None:
                return [(self.fixtures, name or node.name)]
        return []


def _methods(cls: ast.ClassDef) -> dict[str, Function]:
    return {n.name: n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _fixture_name(deco: ast.expr) -> str | None:
    """ "" for ``@pytest.fixture``, the ``name=`` it gives, or None when not a fixture."""
    target = deco.func if isinstance(deco, ast.Call) else deco
    if _dotted(target) not in ("pytest.fixture", "fixture"):
        return None
    if isinstance(deco, ast.Call):
        for kw in deco.keywords:
            if kw.arg == "name" and isinstance(kw.value, ast.Constant):
                return str(kw.value.value)
    return ""


@dataclass
class CheckFinder:
    """Answers "does this function check anything?", following helpers and fixtures."""

    helpers: Helpers
    seen: set[int] = field(default_factory=set)

    def checks(self, fn: Function, cls: str | None = None) -> bool:
        if id(fn) in self.seen:
            return False
        self.seen.add(id(fn))
        on_branch = {id(c) for b in _branch_nodes(fn) for c in ast.walk(b)}
        for node in ast.walk(fn):
            if _is_check(node, on_branch) or self._reaches_check(node, cls):
                return True
        return any(
            self.checks(self.helpers.fixtures[a.arg])
            for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)
            if a.arg in self.helpers.fixtures
        ) or self._uses_fixtures(fn)

    def _uses_fixtures(self, fn: Function) -> bool:
        names = [
            elt.value
            for deco in fn.decorator_list
            if isinstance(deco, ast.Call) and _dotted(deco.func).endswith("usefixtures")
            for elt in deco.args
            if isinstance(elt, ast.Constant) and isinstance(elt.value, str)
        ]
        return any(
            self.checks(self.helpers.fixtures[n]) for n in names if n in self.helpers.fixtures
        )

    def _reaches_check(self, node: ast.AST, cls: str | None) -> bool:
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Name):
            target = self.helpers.functions.get(func.id)
            if target is not None:
                return self.checks(target)
            return func.id.startswith("assert")  # an imported checker (assert_frame_equal …)
        if isinstance(func, ast.Attribute) and _dotted(func.value) in ("self", "cls") and cls:
            method = self.helpers.classes.get(cls, {}).get(func.attr)
            if method is not None:
                return self.checks(method, cls)
        return False


def _branch_nodes(fn: Function) -> Iterator[ast.AST]:
    for node in ast.walk(fn):
        if isinstance(node, (*_BRANCHES, ast.Match)):
            yield node


def _is_check(node: ast.AST, on_branch: set[int]) -> bool:
    if isinstance(node, ast.Assert):
        return True
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return _dotted(exc).endswith("AssertionError")
    if not isinstance(node, ast.Call):
        return False
    name = _dotted(node.func)
    last = name.rsplit(".", 1)[-1]
    if last in _RAISES and name.rsplit(".", 1)[0] in ("pytest", last):
        return True
    if name in ("self.fail",) or (name.startswith("self.assert") and "." not in name[5:]):
        return True
    if isinstance(node.func, ast.Attribute) and node.func.attr.startswith("assert_"):
        return True  # a mock's assert_called_once_with …, np.testing.assert_allclose …
    return name in ("pytest.fail", "fail") and id(node) in on_branch


# -- which functions are tests ----------------------------------------------------------------


def test_functions(tree: ast.Module) -> Iterator[tuple[Function, str | None]]:
    """Test functions and methods (pytest's and unittest's naming), with their class."""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
            "test"
        ):
            yield node, None
        elif isinstance(node, ast.ClassDef) and _is_test_class(node):
            for method in _methods(node).values():
                if method.name.startswith("test"):
                    yield method, node.name


def _is_test_class(node: ast.ClassDef) -> bool:
    bases = {_dotted(b).rsplit(".", 1)[-1] for b in node.bases}
    return node.name.startswith("Test") or any(b.endswith("TestCase") for b in bases)


def span(node: ast.stmt) -> range:
    """The lines of a statement, decorators included."""
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(d.lineno for d in decorators)])
    return range(first, (node.end_lineno or node.lineno) + 1)


def no_assert(tree: ast.Module, changed: Iterable[int], helpers: Helpers) -> list[Slop]:
    """``no-assert`` for each test the change added or modified that checks nothing."""
    lines = set(changed)
    found = []
    for fn, cls in test_functions(tree):
        if lines.isdisjoint(span(fn)):
            continue
        if not CheckFinder(helpers).checks(fn, cls):
            name = f"{cls}.{fn.name}" if cls else fn.name
            found.append(
                Slop(
                    "no-assert",
                    fn.lineno,
                    f"test {name} can pass without checking anything: no assert, no "
                    "pytest.raises/warns, no self.assert*/mock assert_* call, and no helper "
                    "or fixture that checks",
                    NO_ASSERT_HINT,
                )
            )
    return found


# -- assertions that cannot fail --------------------------------------------------------------


def _literal(node: ast.expr) -> bool:
    return isinstance(
        node,
        (
            ast.Constant,
            ast.List,
            ast.Tuple,
            ast.Set,
            ast.Dict,
            ast.JoinedStr,
            ast.ListComp,
            ast.SetComp,
            ast.DictComp,
            ast.Lambda,
        ),
    )


def _true_constant(node: ast.Constant) -> bool:
    """A truthy constant other than ``...``."""
    return bool(node.value) and node.value is not Ellipsis


def _true_sequence(node: ast.Tuple | ast.List | ast.Set) -> bool:
    """A non-empty tuple, list or set display."""
    return bool(node.elts)


def _true_dict(node: ast.Dict) -> bool:
    """A non-empty dict display."""
    return bool(node.keys)


def _true_fstring(node: ast.JoinedStr) -> bool:
    """An f-string with some non-empty literal text."""
    return any(isinstance(v, ast.Constant) and v.value for v in node.values)


def _true_lambda(node: ast.Lambda) -> bool:
    """A lambda, which is a function object and so always truthy."""
    return True


def _true_boolop(node: ast.BoolOp) -> bool:
    """``or`` with any operand always true, ``and`` with every operand always true."""
    test = any if isinstance(node.op, ast.Or) else all
    return test(_always_true(v) for v in node.values)


def _true_not(node: ast.UnaryOp) -> bool:
    """``not`` of a falsy constant."""
    return (
        isinstance(node.op, ast.Not)
        and isinstance(node.operand, ast.Constant)
        and not node.operand.value
    )


def _true_compare(node: ast.Compare) -> bool:
    """A single reflexive comparison of an expression with itself (``x == x``)."""
    if len(node.ops) != 1:
        return False
    return isinstance(node.ops[0], _SAME_SIDED) and _same(node.left, node.comparators[0])


def _true_isinstance(node: ast.Call) -> bool:
    """``isinstance`` of a literal, whose type is known before it runs."""
    return _dotted(node.func) == "isinstance" and bool(node.args) and _literal(node.args[0])


# Checked in order with isinstance (not a type lookup) so AST subclasses match as before.
_Kinds = type[ast.expr] | tuple[type[ast.expr], ...]
_ALWAYS_TRUE: tuple[tuple[_Kinds, Callable[[Any], bool]], ...] = (
    (ast.Constant, _true_constant),
    ((ast.Tuple, ast.List, ast.Set), _true_sequence),
    (ast.Dict, _true_dict),
    (ast.JoinedStr, _true_fstring),
    (ast.Lambda, _true_lambda),
    (ast.BoolOp, _true_boolop),
    (ast.UnaryOp, _true_not),
    (ast.Compare, _true_compare),
    (ast.Call, _true_isinstance),
)


def _always_true(node: ast.expr) -> bool:
    for kinds, judge in _ALWAYS_TRUE:
        if isinstance(node, kinds):
            return judge(node)
    return False


def _same(a: ast.expr, b: ast.expr) -> bool:
    """The same expression on both sides, with no call that could return something else."""
    if any(isinstance(n, (ast.Call, ast.Await, ast.NamedExpr)) for n in ast.walk(a)):
        return False
    return ast.dump(a) == ast.dump(b)


def _called_just_before(test: ast.expr, previous: ast.stmt | None) -> bool:
    """``assert m.called`` (or ``m.call_count``) right after a statement that calls ``m``."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        test = test.left
    if not (isinstance(test, ast.Attribute) and test.attr in ("called", "call_count")):
        return False
    if previous is None:
        return False
    mock = ast.dump(test.value)
    return any(isinstance(n, ast.Call) and ast.dump(n.func) == mock for n in ast.walk(previous))


def _unittest_tautology(call: ast.Call) -> bool:
    name = _dotted(call.func)
    if not name.startswith("self.") or not call.args:
        return False
    method = name[5:]
    if method in ("assertTrue", "assertIsNotNone"):
        return _always_true(call.args[0]) or (
            method == "assertIsNotNone" and _literal(call.args[0])
        )
    if method == "assertIsInstance":
        return _literal(call.args[0])
    if method in _UNITTEST_SAME and len(call.args) >= 2:
        return _same(call.args[0], call.args[1])
    return False


def _statement_pairs(tree: ast.AST) -> Iterator[tuple[ast.stmt | None, ast.stmt]]:
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield from zip([None, *block[:-1]], block, strict=True)


def tautologies(tree: ast.Module, changed: Iterable[int]) -> list[Slop]:
    """``tautology`` for each assertion on a changed line that cannot fail."""
    lines = set(changed)
    found = []
    for previous, stmt in _statement_pairs(tree):
        if stmt.lineno not in lines:
            continue
        if isinstance(stmt, ast.Assert):
            cannot_fail = _always_true(stmt.test) or _called_just_before(stmt.test, previous)
            text = f"assert {ast.unparse(stmt.test)}"
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            cannot_fail = _unittest_tautology(stmt.value)
            text = ast.unparse(stmt.value)
        else:
            continue
        if cannot_fail:
            shown = text if len(text) <= 80 else text[:77] + "..."
            found.append(Slop("tautology", stmt.lineno, f"`{shown}` cannot fail", TAUTOLOGY_HINT))
    return found


def judge(
    tree: ast.Module, changed: Iterable[int], helpers: Helpers, *, is_test_module: bool
) -> list[Slop]:
    """Both rules on one changed test file (``no-assert`` only for test modules)."""
    lines = frozenset(changed)
    found = tautologies(tree, lines)
    if is_test_module:
        found += no_assert(tree, lines, helpers)
    return sorted(found, key=lambda s: (s.line, s.rule))


def helpers_for(tree: ast.Module, conftests: Iterable[ast.Module]) -> Helpers:
    """The helper index of a test module: its own functions first, then nearest conftests."""
    found = Helpers()
    found.add_module(tree, override=True)
    for conftest in conftests:
        found.add_module(conftest, override=False)
    return found


def parse(text: str | None) -> ast.Module | None:
    """The module's AST, or None when it does not parse (other stages report that)."""
    if text is None:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


__all__ = ["Helpers", "Slop", "helpers_for", "judge", "no_assert", "parse", "tautologies"]
