"""Parser tests on canned tool output: each built-in stage's parser and its exit-code rules.

The samples are trimmed copies of what the real tools print (ruff 0.17, mypy 2.x, radon 6,
pytest 9); the end-to-end tests in ``test_stages_tools.py`` run the tools themselves.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
from gatekeeper_plugins import mypy as mypy_stage
from gatekeeper_plugins import pytest as pytest_stage
from gatekeeper_plugins import radon as radon_stage
from gatekeeper_plugins import ruff as ruff_stage
from gatekeeper_plugins import ruff_format as format_stage

from gatekeeper import Layout, Stage, StageContext, StageError


def context(root: Path, name: str, tool: str, **options: object) -> StageContext:
    stage = Stage(name=name, run=lambda ctx: [], tool=tool)
    return StageContext(
        stage=stage,
        root=root,
        files=(),
        whole_tree=True,
        options=options,
        python=Path(sys.executable),
        project_python=Path(sys.executable),
        layout=Layout((), (), ()),
        deadline=time.monotonic() + 60,
        cache_dir=root / ".cache",
    )


def test_a_finding_about_the_whole_project_has_no_path(tmp_path):
    ctx = context(tmp_path, "x", "x")
    assert ctx.finding("r", "", 0, 0, "m").path == ""
    assert ctx.finding("r", tmp_path, 0, 0, "m").path == ""
    assert ctx.finding("r", tmp_path / "a b" / "ü.py", 1, 0, "m").path == "a b/ü.py"
    assert ctx.finding("r", "./pkg/m.py", 1, 0, "m").path == "pkg/m.py"


# --- ruff ----------------------------------------------------------------------------------

RUFF_SAMPLE = """[
  {"code": "F401", "filename": "%(root)s/pkg/mod.py", "location": {"row": 1, "column": 8},
   "message": "`os` imported but unused", "url": "https://docs.astral.sh/ruff/rules/unused-import",
   "fix": {"applicability": "safe", "message": "Remove unused import: `os`", "edits": []}},
  {"code": "E731", "filename": "%(root)s/pkg/mod.py", "location": {"row": 3, "column": 1},
   "message": "Do not assign a `lambda` expression, use a `def`", "url": null,
   "fix": {"applicability": "unsafe", "message": "Rewrite `f` as a `def`", "edits": []}},
  {"code": "B006", "filename": "pkg/other.py", "location": {"row": 9, "column": 12},
   "message": "Do not use mutable data structures for argument defaults",
   "url": "https://docs.astral.sh/ruff/rules/b006", "fix": null},
  {"code": null, "filename": "%(root)s/pkg/broken.py", "location": {"row": 1, "column": 7},
   "message": "Expected a parameter or the end of the parameter list", "url": null,
   "fix": null}
]"""


def test_ruff_parse_codes_locations_and_fix_applicability(tmp_path):
    ctx = context(tmp_path, "ruff", "ruff")
    findings = ruff_stage.parse(ctx, RUFF_SAMPLE % {"root": tmp_path})
    got = [(f.rule, f.path, f.line, f.column, f.fixable) for f in findings]
    assert got == [
        ("F401", "pkg/mod.py", 1, 8, True),
        ("E731", "pkg/mod.py", 3, 1, False),
        ("B006", "pkg/other.py", 9, 12, False),
        ("invalid-syntax", "pkg/broken.py", 1, 7, False),
    ]
    assert "`ruff check --fix` applies it" in findings[0].hint
    assert "unsafe" in findings[1].hint
    assert findings[2].hint == "see https://docs.astral.sh/ruff/rules/b006"
    assert "syntax error" in findings[3].hint


@pytest.mark.parametrize("output", ["", "warning: something\n", '{"not": "a list"}', "[1, 2]"])
def test_ruff_output_that_is_not_a_diagnostic_list_is_an_error(tmp_path, output):
    with pytest.raises(StageError):
        ruff_stage.parse(context(tmp_path, "ruff", "ruff"), output)


# --- ruff format ---------------------------------------------------------------------------

FORMAT_DIFF = """\
--- pkg/a.py
+++ pkg/a.py
@@ -1,3 +1,2 @@
-x  =  1
+x = 1
@@ -10,2 +9,2 @@
-y=2
+y = 2
--- pkg/dir with space/b.py
+++ pkg/dir with space/b.py
@@ -4 +4 @@
-z=[1,
+z = [1]
"""


def test_ruff_format_diff_gives_one_finding_per_file_at_its_first_hunk(tmp_path):
    findings = format_stage.parse(context(tmp_path, "ruff-format", "ruff"), FORMAT_DIFF)
    got = [(f.path, f.line, f.message, f.fixable) for f in findings]
    assert got == [
        ("pkg/a.py", 1, "file is not formatted (2 hunks would change)", True),
        ("pkg/dir with space/b.py", 4, "file is not formatted (1 hunk would change)", True),
    ]
    assert findings[1].hint == "run `ruff format pkg/dir with space/b.py`"


def test_ruff_format_parse_failures_are_findings_other_errors_are_not(tmp_path):
    ctx = context(tmp_path, "ruff-format", "ruff")
    stderr = (
        "error: Failed to parse pkg/bad.py:1:7: Expected a parameter\n"
        "error: Something else went wrong\n"
        "1 file already formatted\n"
    )
    broken, other = format_stage.parse_errors(ctx, stderr)
    assert [(f.rule, f.path, f.line, f.column) for f in broken] == [
        ("syntax-error", "pkg/bad.py", 1, 7)
    ]
    assert other == ["error: Something else went wrong"]


# --- mypy ----------------------------------------------------------------------------------


def _mypy_line(**fields: object) -> str:
    base = {"file": "pkg/m.py", "line": 3, "column": 4, "message": "msg", "hint": None}
    return json.dumps({**base, **fields})


def test_mypy_notes_fold_into_the_error_before_them(tmp_path):
    output = "\n".join(
        [
            _mypy_line(code="arg-type", severity="error", message="Argument 1 has bad type"),
            _mypy_line(severity="note", code=None, message="Consider using Sequence"),
            _mypy_line(file="pkg/other.py", severity="note", code=None, message="Defined here"),
            _mypy_line(line=9, column=0, code="return-value", severity="error", message="ret"),
            _mypy_line(line=20, severity="note", code=None, message='Revealed type is "int"'),
        ]
    )
    findings = mypy_stage.parse(context(tmp_path, "mypy", "mypy"), output)
    got = [(f.rule, f.line, f.column, f.severity) for f in findings]
    assert got == [
        ("arg-type", 3, 5, "error"),
        ("return-value", 9, 1, "error"),
        ("misc", 20, 5, "note"),
    ]
    assert findings[0].hint == "Consider using Sequence; Defined here"
    assert "declared type" in findings[1].hint  # the built-in hint for the code
    # A note on a line of its own (reveal_type) is a finding of its own, not a blocking one.
    alone = mypy_stage.parse(context(tmp_path, "mypy", "mypy"), _mypy_line(severity="note"))
    assert [(f.rule, f.severity) for f in alone] == [("misc", "note")]


@pytest.mark.parametrize(
    "output",
    [
        '{"no": "file"}',
        "[]",
        "{not json",
        "pkg/a.py:3: error: an error the JSON formatter did not format",
        "Traceback (most recent call last):",
        "Segmentation fault",
    ],
)
def test_mypy_output_that_is_not_json_records_is_an_error(tmp_path, output):
    with pytest.raises(StageError):
        mypy_stage.parse(context(tmp_path, "mypy", "mypy"), output)


def test_every_plain_line_mypy_prints_on_its_own_is_understood(tmp_path):
    output = "\n".join(
        [
            "setup.cfg: note: unused section(s): [mypy-tests.*]",
            _mypy_line(code="arg-type", severity="error", message="Argument 1 has bad type"),
            "Warning: --strict-concatenate is deprecated; use --extra-checks instead",
            "Warning: disabling incremental mode may severely reduce performance",
            "If this is intentional, delete '.mypy_cache' to suppress this warning",
            "Found 1 error in 1 file (checked 3 source files)",
            "Success: no issues found in 3 source files",
        ]
    )
    findings = mypy_stage.parse(context(tmp_path, "mypy", "mypy"), output)
    assert [(f.path, f.rule, f.severity) for f in findings] == [
        ("setup.cfg", "config", "note"),
        ("pkg/m.py", "arg-type", "error"),
        ("", "warning", "note"),
        ("", "warning", "note"),
    ]
    assert findings[0].message == "unused section(s): [mypy-tests.*]"
    assert "deprecated" not in findings[1].hint  # mypy's own notes never fold into an error


# --- radon ---------------------------------------------------------------------------------

RADON_SAMPLE = {
    "pkg/a.py": [
        {"type": "class", "name": "K", "lineno": 1, "col_offset": 0, "complexity": 20,
         "methods": []},
        {"type": "method", "name": "m", "classname": "K", "lineno": 2, "col_offset": 4,
         "complexity": 12, "closures": []},
        {"type": "function", "name": "f", "lineno": 20, "col_offset": 0, "complexity": 4,
         "closures": [{"type": "function", "name": "inner", "lineno": 21, "col_offset": 4,
                       "complexity": 2, "closures": []}]},
    ],
    "pkg/b.py": [
        {"type": "function", "name": "g", "lineno": 1, "col_offset": 0, "complexity": 1,
         "closures": []},
    ],
    "pkg/c.py": {"error": "invalid syntax (<unknown>, line 1)"},
}  # fmt: skip


def test_radon_limits_as_rank_letters(tmp_path):
    ctx = context(tmp_path, "radon", "radon", max_block="B", max_module="A", max_average="A")
    findings = radon_stage.parse(ctx, json.dumps(RADON_SAMPLE))
    got = [(f.rule, f.path, f.line) for f in findings]
    # K.m (12) is over B (10); a.py's average (12+4+2)/3 = 6 is over A (5); the project
    # average (12+4+2+1)/4 = 4.75 is within A; c.py cannot be parsed.
    assert got == [("max-block", "pkg/a.py", 2), ("max-module", "pkg/a.py", 1),
                   ("parse-error", "pkg/c.py", 0)]  # fmt: skip
    assert "method 'K.m' has cyclomatic complexity 12 (rank C)" in findings[0].message
    assert "above the limit 10 (B)" in findings[0].message


def test_radon_limits_as_numbers_and_the_project_average(tmp_path):
    ctx = context(tmp_path, "radon", "radon", max_block=12, max_module=6, max_average=4)
    findings = radon_stage.parse(ctx, json.dumps(RADON_SAMPLE))
    got = [(f.rule, f.path) for f in findings]
    assert got == [("parse-error", "pkg/c.py"), ("max-average", "")]
    assert "average complexity 4.8 over 4 blocks (rank A) is above the limit 4" in (
        findings[1].message
    )


@pytest.mark.parametrize("output", ["", "not json", "[1]"])
def test_radon_output_that_is_not_a_json_mapping_is_an_error(tmp_path, output):
    ctx = context(tmp_path, "radon", "radon", max_block="C", max_module="B", max_average="A")
    with pytest.raises(StageError):
        radon_stage.parse(ctx, output)


def test_radon_rank_and_limit_helpers():
    assert [radon_stage.rank_of(c) for c in (1, 5, 5.1, 10, 11, 20, 21, 41)] == list("AABBCCDF")
    assert radon_stage.limit_of("c") == 20
    assert radon_stage.limit_of(7) == 7


# --- pytest --------------------------------------------------------------------------------


def test_pytest_failures_at_the_assertion_with_its_message(tmp_path):
    report = {
        "collected": 3,
        "ran": 3,
        "outcomes": {"passed": 1, "failed": 2, "skipped": 0, "error": 0},
        "collect_errors": [],
        "failures": [
            {"nodeid": "tests/test_a.py::test_plain", "when": "call", "path": "tests/test_a.py",
             "line": 5, "text": "...",
             "crash": {"path": str(tmp_path / "tests/test_a.py"), "line": 6,
                       "message": "assert 3 == 4\n +  where 3 = add(1, 2)"}},
            {"nodeid": "tests/test_a.py::test_msg", "when": "setup", "path": "tests/test_a.py",
             "line": 9, "text": "...",
             "crash": {"path": "/usr/lib/python3/site-packages/lib.py", "line": 99,
                       "message": "AssertionError: sums differ\nassert 3 == 4"}},
        ],
    }  # fmt: skip
    findings = pytest_stage.parse(context(tmp_path, "pytest", "pytest"), report)
    got = [(f.rule, f.path, f.line, f.message) for f in findings]
    assert got == [
        ("test-failed", "tests/test_a.py", 6, "tests/test_a.py::test_plain: assert 3 == 4"),
        # The crash is outside the repository: the finding stays at the test.
        ("test-setup-error", "tests/test_a.py", 9,
         "tests/test_a.py::test_msg: AssertionError: sums differ (assert 3 == 4)"),
    ]  # fmt: skip


def test_pytest_collection_errors_find_their_line_in_the_traceback(tmp_path):
    ctx = context(tmp_path, "pytest", "pytest")
    syntax = (
        "/usr/lib/python3.11/ast.py:50: in parse\n    return compile(source)\n"
        f'E     File "{tmp_path}/tests/test_c.py", line 4\nE       def test_x(:\n'
        "E   SyntaxError: invalid syntax"
    )
    missing = (
        "Traceback:\n/usr/lib/python3.11/importlib/__init__.py:126: in import_module\n"
        "tests/test_b.py:2: in <module>\n    import nothere\n"
        "E   ModuleNotFoundError: No module named 'nothere'"
    )
    report = {
        "collected": 0,
        "outcomes": {},
        "failures": [],
        "collect_errors": [
            {"nodeid": "tests/test_b.py", "path": str(tmp_path / "tests/test_b.py"),
             "text": missing},
            {"nodeid": "tests/test_c.py", "path": str(tmp_path / "tests/test_c.py"),
             "text": syntax},
        ],
    }  # fmt: skip
    findings = pytest_stage.parse(ctx, report)
    got = [(f.rule, f.path, f.line, f.message) for f in findings]
    assert got == [
        ("collection-error", "tests/test_b.py", 2,
         "tests/test_b.py: ModuleNotFoundError: No module named 'nothere'"),
        ("collection-error", "tests/test_c.py", 4, "tests/test_c.py: SyntaxError: invalid syntax"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "collected", "outcomes", "expected"),
    [
        (5, 0, {"passed": 0}, "collected no tests"),
        (4, 0, {"passed": 0}, "was used wrongly"),
        (3, 2, {"passed": 2}, "internal error"),
        (2, 2, {"passed": 0}, "was interrupted"),
        (0, 3, {"passed": 0, "skipped": 3}, r"no tests ran \(3 collected, 3 skipped\)"),
        (1, 1, {"failed": 1}, "could not be parsed"),
    ],
)
def test_pytest_exit_codes_2_to_5_and_zero_tests_are_errors(code, collected, outcomes, expected):
    data = {"collected": collected, "outcomes": outcomes}
    with pytest.raises(StageError, match=expected):
        pytest_stage.judge(data, [], code, "output")


def test_pytest_interrupted_after_a_failure_is_an_error_not_that_failure(tmp_path):
    """``pytest.exit()`` (or Ctrl-C) in a test after another failed: exit 2 with a failure.

    Only collection errors explain an exit 2; anything else interrupted the run, and the
    failure seen so far must not stand for the tests that never ran.
    """
    ctx = context(tmp_path, "pytest", "pytest")
    failed = pytest_stage.failure_finding(
        ctx, {"nodeid": "t.py::test_a", "when": "call", "path": "t.py", "line": 1, "text": "x"}
    )
    data = {"collected": 3, "ran": 2, "outcomes": {"failed": 1, "passed": 1}}
    with pytest.raises(StageError, match="was interrupted"):
        pytest_stage.judge(data, [failed], 2, "output")


def test_pytest_missing_or_broken_report_is_an_error(tmp_path):
    with pytest.raises(StageError, match="without a report"):
        pytest_stage.read_report(tmp_path / "absent.json", 3, "INTERNALERROR")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(StageError, match="cannot read"):
        pytest_stage.read_report(tmp_path / "bad.json", 0, "")
