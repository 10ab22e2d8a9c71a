"""The line probes of the changed files, in a real pytest run of a small project.

A probe site records its lines once and then costs a flag test (a hot loop must not pay a
call per statement); with per-test contexts every test still records every line it runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPORT_DIR = Path(__file__).resolve().parent.parent / "plugins" / "_pytest_report"

MODULE = '''\
"""A module measured by probes."""

from __future__ import annotations


def total(values):
    result = 0
    for value in values:
        if value > 2:
            result += value
        else:
            result -= 1
    return result


def unused():
    return 1
'''

TESTS = """\
from calc import total


def test_first():
    assert total(range(1000)) > 0


def test_second():
    assert total([5]) == 5


def test_third():
    assert total([]) == 0
"""


def _measure(
    tmp_path: Path, contexts: bool, lines: range | list[int] = range(1, 18)
) -> dict[str, dict[str, set[int]]]:
    project = tmp_path / "project"
    project.mkdir()
    (project / "calc.py").write_text(MODULE)
    (project / "test_calc.py").write_text(TESTS)
    data = tmp_path / "data"
    data.mkdir()
    wanted = {os.path.realpath(project / "calc.py"): list(lines)}
    (data / "files.json").write_text(json.dumps(wanted))
    env = {
        **os.environ,
        "GATEKEEPER_COVERAGE_DIR": str(data),
        "GATEKEEPER_COVERAGE_CONTEXTS": "1" if contexts else "0",
        "PYTHONPATH": os.pathsep.join((str(REPORT_DIR / "_site"), str(REPORT_DIR))),
    }
    argv = [sys.executable, "-m", "pytest", "-p", "gatekeeper_pytest_coverage", "-q"]
    argv += ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly"]
    done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    files: dict[str, set[int]] = {}
    per_test: dict[str, set[int]] = {}
    for hits in data.glob("hits-*.json"):
        found = json.loads(hits.read_text())
        for lines in found["files"].values():
            files.setdefault("calc.py", set()).update(lines)
        for test, paths in found["contexts"].items():
            for lines in paths.values():
                per_test.setdefault(test.split("::")[-1], set()).update(lines)
    return {"files": files, "contexts": per_test}


@pytest.mark.parametrize("contexts", [False, True])
def test_probes_record_each_line_run_and_only_those(tmp_path, contexts):
    found = _measure(tmp_path, contexts)
    # Docstring, import and defs at import; the loop's both branches; not unused()'s body.
    assert found["files"]["calc.py"] == {1, 3, 6, 7, 8, 9, 10, 12, 13, 16}


def test_every_test_records_the_lines_it_runs_even_after_another_test_ran_them(tmp_path):
    found = _measure(tmp_path, contexts=True)["contexts"]
    assert found["test_first"] == {7, 8, 9, 10, 12, 13}
    # The same sites again: their flags were cleared when the test changed.
    assert found["test_second"] == {7, 8, 9, 10, 13}
    assert found["test_third"] == {7, 8, 13}


def test_only_the_statements_holding_a_changed_line_are_probed(tmp_path):
    # Line 10 (`result += value`) and the `else:` line 11 (no statement of its own) changed:
    # only line 10's statement records, however often the rest of the module runs.
    assert _measure(tmp_path, contexts=False, lines=[10, 11])["files"]["calc.py"] == {10}


def test_a_changed_header_line_probes_its_compound_statement_not_its_body(tmp_path):
    # Line 9 is the `if`'s header; line 16's `def` runs at import, its body (17) never.
    found = _measure(tmp_path, contexts=True, lines=[9, 16, 17])
    assert found["files"]["calc.py"] == {9, 16}
    assert found["contexts"]["test_second"] == {9}
    assert "test_third" not in found["contexts"]  # an empty loop never reaches the `if`


def _process(project: Path, data: Path, code: str) -> subprocess.CompletedProcess[str]:
    """A Python process the tests might start, with the measuring start-up hook."""
    env = {
        **os.environ,
        "GATEKEEPER_COVERAGE_DIR": str(data),
        "GATEKEEPER_COVERAGE_CONTEXTS": "0",
        "PYTHONPATH": os.pathsep.join((str(REPORT_DIR / "_site"), str(REPORT_DIR))),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done


def _hits(data: Path) -> list[set[int]]:
    found = [json.loads(f.read_text())["files"] for f in sorted(data.glob("hits-*.json"))]
    return [set(lines) for files in found for lines in files.values()]


def test_processes_share_the_compiled_module_only_for_the_same_source(tmp_path):
    project, data = tmp_path / "project", tmp_path / "data"
    project.mkdir()
    data.mkdir()
    (project / "calc.py").write_text(MODULE)
    wanted = {os.path.realpath(project / "calc.py"): list(range(1, 30))}
    (data / "files.json").write_text(json.dumps(wanted))
    _process(project, data, "import calc; calc.total([5])")
    assert (data / "code-0.bin").is_file()
    # The tests rewrite the module (two lines on top): the kept code is not this source's.
    (project / "calc.py").write_text("\n\n" + MODULE)
    _process(project, data, "import calc; calc.total([5])")
    first, second = _hits(data)
    assert {1, 3, 6, 7, 8, 9, 10, 13, 16} == first
    assert {n + 2 for n in first} == second
    # A kept entry of another interpreter (or a damaged one) is compiled afresh, not read.
    (data / "code-0.bin").write_bytes(b"3.99.0 (other)\0" + b"\x00garbage")
    _process(project, data, "import calc; calc.total([5])")
    assert _hits(data)[-1] == second


def test_a_process_that_imports_no_changed_module_leaves_no_data(tmp_path):
    project, data = tmp_path / "project", tmp_path / "data"
    project.mkdir()
    data.mkdir()
    (project / "calc.py").write_text(MODULE)
    (data / "files.json").write_text(json.dumps({os.path.realpath(project / "calc.py"): [7]}))
    _process(project, data, "import json")
    assert not list(data.glob("hits-*.json"))


def test_the_start_up_hook_loads_neither_ast_nor_typing_into_every_process():
    # Every process of the tests imports it: what it adds is paid a thousand times over.
    code = (
        "import sys; before = set(sys.modules); import gatekeeper_probe; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPORT_DIR)}
    done = subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    added = set(done.stdout.split())
    assert "gatekeeper_probe" in added
    assert not added & {"ast", "typing", "importlib.abc", "threading", "contextlib"}


# (module, changed lines, what the driver runs): changed statements whose probes could miss
# what coverage.py sees, or see what it misses.
AGREE = {
    "multi-line __future__ import": (
        "from __future__ import (\n    annotations,\n)\nx = 1\n",
        [2],
        "",
    ),
    "one-line if whose raise continues": (
        'def check(ok):\n    if not ok: raise ValueError(\n        "bad value")\n    return ok\n',
        [3],
        "m.check(True)",
    ),
    "statement after a multi-line one on its line": ("x = (1,\n     2); y = 3\n", [2], ""),
    "decorator argument line": (
        "import functools\n\n\n@functools.lru_cache(\n    maxsize=8)\ndef f():\n    return 1\n",
        [5],
        "",
    ),
    "changed class docstring and unrun method": (
        'class A:\n    """Doc\n    more."""\n\n    def m(self):\n        return 2\n',
        [3, 6],
        "m.A()",
    ),
    "else branch that does not run": (
        "def f(v):\n    if v:\n        return 1\n    else:\n        return 2\n",
        [4, 5],
        "m.f(True)",
    ),
    "handler that does not run, finally that does": (
        "def f():\n    try:\n        x = 1\n    except ValueError:\n        x = 2\n"
        "    finally:\n        y = 3\n    return x + y\n",
        [5, 7],
        "m.f()",
    ),
    "second line of a signature": ("def f(a,\n      b):\n    return a\n", [2], ""),
}


def _coverage_py(project: Path, driver: str) -> tuple[list[int], list[int]]:
    """coverage.py's statements and executed lines of m.py when ``driver`` runs."""
    code = (
        "import json, coverage\n"
        "cov = coverage.Coverage(data_file=None, config_file=False)\n"
        "cov.set_option('report:exclude_lines', [])\n"
        f"cov.start()\nimport m\n{driver}\ncov.stop()\n"
        "path = m.__file__\n"
        "print(json.dumps([cov.analysis2(path)[1], sorted(cov.get_data().lines(path) or [])]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=project, capture_output=True, text=True, check=True
    )
    statements, executed = json.loads(done.stdout)
    return statements, executed


@pytest.mark.parametrize("case", sorted(AGREE))
def test_probes_and_coverage_py_agree_on_what_of_the_change_ran(tmp_path, case):
    from gatekeeper_plugins import _uncovered

    text, changed, driver = AGREE[case]
    project, data = tmp_path / "project", tmp_path / "data"
    project.mkdir()
    data.mkdir()
    (project / "m.py").write_text(text)
    (data / "files.json").write_text(json.dumps({os.path.realpath(project / "m.py"): changed}))
    _process(project, data, f"import m\n{driver}")
    probed = set().union(*_hits(data))
    statements, executed = _coverage_py(project, driver)
    by_probes = _uncovered.judge(text, changed, statements, probed)
    by_coverage = _uncovered.judge(text, changed, statements, executed)
    assert by_probes.changed  # the case is about a counted statement
    assert by_probes.missed == by_coverage.missed


def test_a_changed_instrumenter_is_not_imported_through_its_own_hook(tmp_path):
    # This repository gating itself: the instrumenter is one of the changed files.
    project, data = tmp_path / "project", tmp_path / "data"
    project.mkdir()
    data.mkdir()
    (project / "calc.py").write_text(MODULE)
    wanted = {
        os.path.realpath(project / "calc.py"): [7],
        os.path.realpath(REPORT_DIR / "gatekeeper_instrument.py"): [1],
    }
    (data / "files.json").write_text(json.dumps(wanted))
    forget = "import sys; sys.path[:] = [p for p in sys.path if 'pytest_report' not in p]"
    _process(project, data, f"{forget}; import calc; calc.total([5])")
    assert _hits(data) == [{7}]


def test_code_compiled_at_one_optimisation_level_is_not_used_at_another(tmp_path):
    project, data = tmp_path / "project", tmp_path / "data"
    project.mkdir()
    data.mkdir()
    (project / "m.py").write_text("def f():\n    assert False, 'boom'\n    return 'skipped'\n")
    (data / "files.json").write_text(json.dumps({os.path.realpath(project / "m.py"): [2]}))
    env = {
        **os.environ,
        "GATEKEEPER_COVERAGE_DIR": str(data),
        "PYTHONPATH": os.pathsep.join((str(REPORT_DIR / "_site"), str(REPORT_DIR))),
    }
    run = [sys.executable, "-c", "import m; print(m.f())"]
    optimised = subprocess.run(
        [run[0], "-O", *run[1:]], cwd=project, env=env, text=True, capture_output=True
    )
    plain = subprocess.run(run, cwd=project, env=env, capture_output=True, text=True)
    assert optimised.stdout.strip() == "skipped"
    assert plain.returncode == 1 and "AssertionError: boom" in plain.stderr
