"""Which changed lines of project code count, and which of them no test ran.

coverage.py says which lines are executable (statements) and which ran. This module maps each
changed line to the statement it belongs to (a changed argument line of a call spanning lines
counts as that call), leaves out what the issue excludes — ``if TYPE_CHECKING:`` blocks, ``...``
bodies, ``raise NotImplementedError`` and code under a ``pragma: no cover`` that existed at the
base (a pragma the change adds excludes nothing; the tamper guard reports it) — and groups the
statements no test ran into ranges.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

#: coverage.py's default exclusion pragma.
PRAGMA = re.compile(r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER)")


@dataclass(frozen=True)
class Judged:
    """The changed statements of one file: the ones that count and the ones no test ran."""

    statements: tuple[int, ...]  # every executable line of the file (coverage.py)
    changed: frozenset[int]  # changed statements that count
    missed: frozenset[int]  # of those, the ones no test ran

    def ranges(self) -> list[tuple[int, int]]:
        """Runs of missed statements with no other statement between them: (first, last)."""
        runs: list[tuple[int, int]] = []
        previous = None
        for index, line in enumerate(self.statements):
            if line not in self.missed:
                continue
            if previous is not None and runs and previous == index - 1:
                runs[-1] = (runs[-1][0], line)
            else:
                runs.append((line, line))
            previous = index
        return runs


def _header_end(node: ast.stmt) -> int:
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
        return body[0].lineno - 1
    return node.end_lineno or node.lineno


def _first(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return int(min([node.lineno, *(d.lineno for d in decorators)]))


def statement_lines(tree: ast.Module) -> dict[int, range]:
    """Each statement's first line (decorators included) to the lines of its own text.

    A compound statement owns its header (``if x and`` / ``y:``), not its body.
    """
    found: dict[int, range] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            end = max(_header_end(node), node.lineno)
            found[_first(node)] = range(_first(node), end + 1)
    return found


def _always_excluded(node: ast.stmt) -> bool:
    if isinstance(node, ast.If):
        return _is_type_checking(node.test)
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant) and node.value.value is Ellipsis
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _excluded_nodes(tree: ast.Module, pragma_lines: Collection[int]) -> Iterator[ast.stmt]:
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        header = range(_first(node), _header_end(node) + 1)
        if _always_excluded(node) or any(line in pragma_lines for line in header):
            yield node


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def excluded_lines(tree: ast.Module, pragma_lines: Collection[int]) -> set[int]:
    """Every line of the excluded statements (whole blocks for compound ones)."""
    lines: set[int] = set()
    for node in _excluded_nodes(tree, pragma_lines):
        lines.update(range(_first(node), (node.end_lineno or node.lineno) + 1))
    return lines


def old_pragmas(text: str, changed: Collection[int]) -> set[int]:
    """Lines with a ``pragma: no cover`` the change did not touch (it was at the base)."""
    return {
        n for n, line in enumerate(text.splitlines(), 1) if n not in changed and PRAGMA.search(line)
    }


def judge(
    text: str, changed: Collection[int], statements: Iterable[int], executed: Iterable[int]
) -> Judged:
    """The changed statements of one file that count, and which of them no test ran."""
    all_statements = tuple(sorted(statements))
    tree = ast.parse(text)
    excluded = excluded_lines(tree, old_pragmas(text, changed))
    executable = set(all_statements)
    owners = statement_lines(tree)
    counted = set()
    for lines in owners.values():
        # coverage.py puts a decorated def at its decorator or its def line: take what it has
        hits = [n for n in lines if n in executable]
        if hits and hits[0] not in excluded and any(n in changed for n in lines):
            counted.add(hits[0])
    ran = set(executed)
    return Judged(all_statements, frozenset(counted), frozenset(counted - ran))


def statement_of(tree: ast.Module, line: int) -> int:
    """The first line of the innermost statement whose own text holds ``line`` (0: none)."""
    best = 0
    for first, lines in statement_lines(tree).items():
        if line in lines and first >= best:
            best = first
    return best
