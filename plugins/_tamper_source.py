"""Suppression creep in Python sources: new suppressions and skips, deleted or emptied tests.

Pure functions from file text to facts; :mod:`gatekeeper_plugins.tamper` compares the facts of
the base with those of the tree under check. Comments are found with :mod:`tokenize` and skip
markers with :mod:`ast`, so a ``"# noqa"`` inside a string (a test of this very guard) is not a
suppression. A file that does not parse falls back to a plain line scan: a syntax error must
not hide a suppression.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

#: Comment suppressions: rule -> (pattern on a comment, what it silences).
COMMENT_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "tamper-noqa": (re.compile(r"#\s*(?:ruff\s*:\s*|flake8\s*:\s*)?noqa\b", re.I), "`# noqa`"),
    "tamper-type-ignore": (
        re.compile(
            r"#\s*(?:type\s*:\s*ignore\b|mypy\s*:\s*ignore-errors\b"
            r"|(?:based)?pyright\s*:\s*ignore\b|ty\s*:\s*ignore\b)",
            re.I,
        ),
        "`# type: ignore`",
    ),
    "tamper-no-cover": (re.compile(r"#\s*pragma\s*:\s*no\s*cover\b", re.I), "`# pragma: no cover`"),
}
_SKIP_LINE = re.compile(
    r"\bmark\s*\.\s*(?:skip|skipif|xfail)\b|\bpytest\s*\.\s*(?:skip|xfail)\s*\("
    r"|\bunittest\s*\.\s*(?:skip\w*|expectedFailure)\b|\.skipTest\s*\(|\bcollect_ignore"
)
_MARKS = {"skip", "skipif", "xfail"}
#: Type laundering: what makes mypy stop looking without a comment or a setting.
_LAUNDERING = {"Any": "`Any`", "cast": "a `cast(`", "no_type_check": "`no_type_check`"}
_UNITTEST = {"skip", "skipIf", "skipUnless", "expectedFailure"}


@dataclass(frozen=True)
class Mark:
    """One suppression or skip in a file: its rule, 1-based line, what it is, the line's text."""

    rule: str
    line: int
    what: str
    text: str


@dataclass(frozen=True)
class TestFunc:
    """A test function: qualified name (``Class.test_x``), line, and whether its body is empty."""

    name: str
    line: int
    empty: bool


def is_test_file(path: str) -> bool:
    """pytest's default test file names: ``test_*.py`` and ``*_test.py``."""
    name = PurePosixPath(path).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _comments(text: str) -> Iterator[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _skip_kind(node: ast.AST) -> str | None:
    """What a node is when it skips a test (None when it does not)."""
    if isinstance(node, ast.Attribute):
        dotted = _dotted(node)
        parts = dotted.split(".")
        if len(parts) >= 2 and parts[-2] == "mark" and parts[-1] in _MARKS:
            return f"`pytest.mark.{parts[-1]}`"
        if dotted in {f"unittest.{n}" for n in _UNITTEST}:
            return f"`{dotted}`"
    if isinstance(node, ast.Call):
        dotted = _dotted(node.func)
        if dotted in ("pytest.skip", "pytest.xfail"):
            return f"a `{dotted}(` call"
        if dotted.endswith(".skipTest"):
            return "a `skipTest(` call"
    stored = isinstance(getattr(node, "ctx", None), ast.Store)
    if stored and "collect_ignore" in _dotted(node):
        return "`collect_ignore` (tests hidden from collection)"
    return None


def _laundering(node: ast.AST) -> str | None:
    """What a node launders types with (``Any``, ``cast``, ``no_type_check``), if anything."""
    if isinstance(node, ast.Call):
        name = _dotted(node.func).rsplit(".", 1)[-1]
        return _LAUNDERING["cast"] if name == "cast" else None
    if isinstance(node, ast.Name | ast.Attribute) and not isinstance(node.ctx, ast.Store):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name in ("Any", "no_type_check"):
            return _LAUNDERING[name]
    if isinstance(node, ast.ImportFrom):
        return None  # the use is what counts, not the import
    return None


def marks(text: str) -> list[Mark]:
    """Every suppression comment and test skip in a Python file's text."""
    lines = text.splitlines()

    def line_text(n: int) -> str:
        return lines[n - 1].strip() if 0 < n <= len(lines) else ""

    try:
        tree = ast.parse(text)
        comments = list(_comments(text))
    except (SyntaxError, ValueError, tokenize.TokenError):
        return _scan_lines(lines)
    found = [
        Mark(rule, n, what, line_text(n))
        for n, comment in comments
        for rule, (pattern, what) in COMMENT_RULES.items()
        if pattern.search(comment)
    ]
    seen: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        what = _skip_kind(node)
        line = getattr(node, "lineno", 0)
        if what and (line, what) not in seen:
            seen.add((line, what))
            found.append(Mark("tamper-skip", line, what, line_text(line)))
        laundered = _laundering(node)
        if laundered and (line, laundered) not in seen:
            seen.add((line, laundered))
            found.append(Mark("tamper-type-laundering", line, laundered, line_text(line)))
    return sorted(found, key=lambda m: (m.line, m.rule))


def _scan_lines(lines: list[str]) -> list[Mark]:
    found = []
    for n, line in enumerate(lines, 1):
        for rule, (pattern, what) in COMMENT_RULES.items():
            if pattern.search(line):
                found.append(Mark(rule, n, what, line.strip()))
        if _SKIP_LINE.search(line):
            found.append(Mark("tamper-skip", n, "a test skip", line.strip()))
    return found


def new_marks(base_text: str | None, now_text: str) -> list[Mark]:
    """Suppressions in ``now_text`` that the base did not have.

    A suppression counts as old when the same rule sits on a line with the same text in the
    base (so moving code around is not tampering); when a rule's count grew, every mark of it
    without such a twin is reported.
    """
    now = marks(now_text)
    base = marks(base_text) if base_text is not None else []
    base_count = Counter(m.rule for m in base)
    now_count = Counter(m.rule for m in now)
    twins = Counter((m.rule, m.text) for m in base)
    out = []
    for m in now:
        key = (m.rule, m.text)
        if twins[key] > 0:
            twins[key] -= 1
            continue
        if now_count[m.rule] > base_count[m.rule]:
            out.append(m)
    return out


def _trivial(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return True  # a docstring or `...`
    if isinstance(stmt, ast.Return):
        return stmt.value is None or isinstance(stmt.value, ast.Constant)
    if isinstance(stmt, ast.Assert):
        return isinstance(stmt.test, ast.Constant) and bool(stmt.test.value)
    return False


def _tests_in(body: list[ast.stmt], prefix: str) -> Iterator[TestFunc]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            empty = all(_trivial(s) for s in node.body)
            yield TestFunc(f"{prefix}{node.name}", node.lineno, empty)
        elif isinstance(node, ast.ClassDef):
            yield from _tests_in(node.body, f"{prefix}{node.name}.")


def tests(text: str | None) -> dict[str, TestFunc] | None:
    """The test functions of a test file by qualified name; None when it does not parse."""
    if text is None:
        return {}
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    return {t.name: t for t in _tests_in(tree.body, "")}
