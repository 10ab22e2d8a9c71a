"""Finding fingerprints that survive the edits a change makes around a finding.

A fingerprint is stage + rule + path + normalised message + the *statement* the finding is
on — never its line number. The statement is Python's logical line (a call wrapped over five
lines is one statement) read as tokens: spacing, comments, quote style, magic trailing commas
and parentheses are left out, so moving code, inserting lines above, reformatting it (``ruff
format``, black) or renaming another function in the file keeps the fingerprint. A finding with a
``subject`` (a test's node id, a function's qualified name) is fingerprinted by that subject
instead of its message and line, since the message of such a finding describes its current
state (a complexity score, an assertion's values), which is what a ratchet compares.

Files that are not Python, or that do not tokenize (a syntax error), fall back to the
offending physical line with its spacing normalised.
"""

from __future__ import annotations

import ast
import hashlib
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

from gatekeeper.models import Finding

_NUMBERS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_PYTHON = (".py", ".pyi")
_NOISE = frozenset(
    {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENCODING,
        tokenize.ENDMARKER,
    }
)
_CLOSING = frozenset({"]", "}", ")"})
_PARENS = frozenset({"(", ")"})


def normalise_message(message: str) -> str:
    """Drop what moves when code moves: numbers (line refs, counts) and spacing."""
    return _SPACE.sub(" ", _NUMBERS.sub("#", message)).strip()


def compute(finding: Finding, line_text: str) -> str:
    """The fingerprint of ``finding`` found on a statement whose normalised text is given."""
    if finding.subject:
        parts: tuple[str, ...] = (finding.stage, finding.rule, finding.path, "@" + finding.subject)
    else:
        parts = (
            finding.stage,
            finding.rule,
            finding.path,
            normalise_message(finding.message),
            _SPACE.sub(" ", line_text).strip(),
        )
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]


def _token_text(tok: tokenize.TokenInfo) -> str:
    if tok.type == tokenize.STRING:
        try:  # 'a' and "a", or an implicit concatenation split by a formatter, read the same
            return repr(ast.literal_eval(tok.string))
        except (ValueError, SyntaxError):
            return tok.string
    return tok.string


def _statements(text: str) -> Iterator[tuple[int, int, str]]:
    """``(first line, last line, normalised tokens)`` of each logical line of Python source."""
    tokens: list[tokenize.TokenInfo] = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NEWLINE or tok.type == tokenize.ENDMARKER:
            if tokens:
                yield tokens[0].start[0], tok.start[0], _joined(tokens)
            tokens = []
        elif tok.type not in _NOISE:
            tokens.append(tok)


def _joined(tokens: list[tokenize.TokenInfo]) -> str:
    words = [_token_text(t) for t in tokens]
    following = [*words[1:], ""]
    # A magic trailing comma (added or removed by a formatter) changes nothing, nor do the
    # parentheses a formatter adds when it wraps a statement (``return (\n x\n)``).
    kept = (
        w
        for w, nxt in zip(words, following, strict=True)
        if w not in _PARENS and not (w == "," and nxt in _CLOSING)
    )
    return " ".join(kept)


def statement_lines(path: str, text: str) -> list[str]:
    """For each physical line of a file (index 0 = line 1), the text a fingerprint uses."""
    physical = text.splitlines()
    if not path.endswith(_PYTHON):
        return physical
    out = list(physical)
    try:
        for first, last, words in _statements(text):
            for number in range(first, min(last, len(out)) + 1):
                out[number - 1] = words
    except (tokenize.TokenError, SyntaxError, ValueError):
        return physical  # not valid Python (yet): the physical line still identifies it
    return out


def _line(root: Path, path: str, line: int, cache: dict[str, list[str]]) -> str:
    if line <= 0:
        return ""
    if path not in cache:
        try:
            text = (root / path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        cache[path] = statement_lines(path, text)
    lines = cache[path]
    return lines[line - 1] if 0 < line <= len(lines) else ""


def fingerprint_all(root: Path, findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Fill in the fingerprint of each finding that has none."""
    cache: dict[str, list[str]] = {}
    out = []
    for f in findings:
        if not f.fingerprint:
            line = "" if f.subject else _line(root, f.path, f.line, cache)
            f = replace(f, fingerprint=compute(f, line))
        out.append(f)
    return tuple(out)
