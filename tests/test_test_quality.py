"""The test-quality stage on a corpus of small changes, with real pytest, coverage.py and git.

One repository serves every gate run: ``base`` (existing code and tests, some of them sloppy
already), ``corpus`` (good tests, each kind of slop in several spellings, an untested new
branch, the exclusions) and ``deep`` (a small function whose tests kill one mutant and let
another survive). The AST rules get more spellings through the stage's own functions.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from gatekeeper_plugins import _mutants, _test_slop

from gatekeeper.testing import GateRepo, make_repo

PYPROJECT = """\
[project]
name = "shop"
version = "0.1.0"

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

BASE_CODE = '''\
"""The shop."""


def add(a: int, b: int) -> int:
    return a + b


def debug_dump(value: object) -> str:  # pragma: no cover
    text = repr(value)
    return text
'''

CONFTEST = """\
import pytest


def check_total(value, expected):
    assert value == expected, f"{value} != {expected}"


@pytest.fixture
def collected():
    items = []
    yield items
    assert items, "the test collected nothing"


@pytest.fixture
def quiet():
    return []
"""

BASE_TESTS = """\
from shop import add


def test_add():
    assert add(1, 2) == 3


def test_legacy_slop():
    add(1, 1)
"""

# -- the change ------------------------------------------------------------------------------

PRICING = '''\
"""Prices."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def total(prices: Sequence[int]) -> int:
    return sum(prices)


def discount(price: int, percent: int) -> int:
    if percent > 100:
        raise ValueError("percent over 100")
    return price - price * percent // 100


def shipping(weight: int) -> int:
    if weight > 20:
        extra = weight - 20
        return 15 + extra
    return 5


class Shape:
    def area(self) -> int:
        raise NotImplementedError

    def name(self) -> str:
        ...


def brand_new(value: int) -> int:  # pragma: no cover
    return value * 3
'''

CLI = '''\
"""Command line: reached by the tests only through a subprocess."""

import sys

from shop.pricing import total


def main(argv: list[str]) -> int:
    print(total([int(a) for a in argv]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''

GOOD_TESTS = """\
import subprocess
import sys
import unittest
from unittest.mock import Mock

import pytest

from conftest import check_total
from shop.pricing import discount, shipping, total


def _expect_shipping(weight, cost):
    assert shipping(weight) == cost


def test_total():
    assert total([1, 2]) == 3


def test_discount_raises():
    with pytest.raises(ValueError):
        discount(10, 101)


def test_discount_through_conftest_helper():
    check_total(discount(100, 10), 90)


def test_discount_through_fixture(collected):
    collected.append(discount(10, 0))


def test_mock_checked():
    notify = Mock()
    notify(total([2]))
    notify.assert_called_once_with(2)


def test_local_helper():
    _expect_shipping(1, 5)


def test_fail_on_a_branch():
    if discount(3, 50) != 2:
        pytest.fail("half of 3 is 2, rounded down")


def test_approx():
    assert discount(3, 50) == pytest.approx(2)


class TestUnit(unittest.TestCase):
    def test_shipping(self):
        self.assertEqual(shipping(2), 5)


def test_cli_in_a_subprocess():
    argv = [sys.executable, "-m", "shop.cli", "2", "3"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert done.stdout == "5\\n"
"""

SLOP_TESTS = """\
import unittest
from unittest.mock import Mock

from shop.pricing import discount, shipping, total


def _run(value):
    return total([value])


def test_calls_only():
    total([1])


def test_unasserted_comparison():
    total([1, 2]) == 3


def test_helper_that_checks_nothing(quiet):
    _run(4)


def test_prints(capsys):
    print(discount(10, 5))


def test_true():
    assert True


def test_tuple():
    assert (total([1]) == 2, "message")


def test_same_both_sides():
    value = shipping(3)
    assert value == value


def test_or_true():
    assert total([1]) == 7 or True


def test_mock_called():
    callback = Mock()
    callback(total([1]))
    assert callback.called


def test_isinstance_literal():
    assert isinstance("text", str)


class TestSlop(unittest.TestCase):
    def test_quiet(self):
        shipping(1)

    def test_assert_true(self):
        self.assertTrue(True)
"""

MODIFIED_BASE_TESTS = """\
from shop import add


def test_add():
    add(1, 2)


def test_legacy_slop():
    add(1, 1)
"""

CLAMP = """\
def clamp(value: int, high: int) -> int:
    if value > high:
        return high
    return value
"""

CLAMP_TESTS = """\
from shop.limits import clamp


def test_clamp():
    assert clamp(9, 5) == 5
    assert clamp(1, 5) == 1
"""


def _line(text: str, needle: str) -> int:
    """The 1-based line of the first line of ``text`` containing ``needle``."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    top = tmp_path_factory.mktemp("quality")
    repo = make_repo(top / "repo", top / "home")
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("shop/__init__.py", BASE_CODE)
    repo.write("tests/conftest.py", CONFTEST)
    repo.write("tests/test_base.py", BASE_TESTS)
    base = repo.commit("base")
    repo.write("shop/pricing.py", PRICING)
    repo.write("shop/cli.py", CLI)
    (repo.path / "shop/__init__.py").write_text(
        BASE_CODE.replace("    text = repr(value)", "    text = repr(value) + '!'")
    )
    repo.write("tests/test_good.py", GOOD_TESTS)
    repo.write("tests/test_slop.py", SLOP_TESTS)
    repo.write("tests/test_base.py", MODIFIED_BASE_TESTS)
    middle = repo.commit("corpus")
    repo.write("shop/limits.py", CLAMP)
    repo.write("tests/test_limits.py", CLAMP_TESTS)
    repo.commit("clamp")
    return {"repo": repo, "base": base, "middle": middle}


def _stage(done: Any, name: str = "test-quality") -> dict[str, Any]:
    stages = {s["name"]: s for s in done.json["stages"]}
    return dict(stages[name])


def _places(stage: dict[str, Any]) -> list[tuple[str, str, int]]:
    return sorted((f["rule"], f["path"], f["line"]) for f in stage["findings"])


OTHERS = ("--skip", "mypy", "--skip", "ruff", "--skip", "ruff-format", "--skip", "radon")


def test_the_corpus_gives_each_finding_at_its_line_and_nothing_for_good_tests(corpus):
    repo: GateRepo = corpus["repo"]
    # No --stage: `run --base REF` turns the stage on by itself.
    done = repo.gate("run", "--base", corpus["base"], *OTHERS, "--skip", "build", "-f", "json")
    assert done.returncode == 1, done.stderr
    stage = _stage(done)
    assert stage["status"] == "failed"
    slop = "tests/test_slop.py"
    expected = [
        ("uncovered-change", "shop/pricing.py", _line(PRICING, "extra = weight - 20")),
        ("uncovered-change", "shop/pricing.py", _line(PRICING, "return value * 3")),
        ("no-assert", "tests/test_base.py", _line(MODIFIED_BASE_TESTS, "def test_add")),
        *[
            ("no-assert", slop, _line(SLOP_TESTS, f"def {name}("))
            for name in (
                "test_calls_only",
                "test_unasserted_comparison",
                "test_helper_that_checks_nothing",
                "test_prints",
                "test_quiet",
            )
        ],
        *[
            ("tautology", slop, _line(SLOP_TESTS, text))
            for text in (
                "assert True",
                'assert (total([1]) == 2, "message")',
                "assert value == value",
                "or True",
                "assert callback.called",
                'assert isinstance("text", str)',
                "self.assertTrue(True)",
            )
        ],
    ]
    assert _places(stage) == sorted(expected)
    by_place = {(f["rule"], f["line"]): f for f in stage["findings"]}
    branch = by_place[("uncovered-change", _line(PRICING, "extra = weight - 20"))]
    assert "lines 23-24" in branch["message"] and branch["hint"]
    assert all(f["hint"] for f in stage["findings"])
    assert "test_calls_only can pass without checking anything" in str(stage["findings"])
    # Excluded: TYPE_CHECKING, `...`, NotImplementedError, the base's pragma; judged on the
    # change only: the unchanged sloppy test of the base is not reported.
    assert all(f["path"] != "shop/__init__.py" for f in stage["findings"])
    assert _stage(done, "pytest")["status"] == "passed"


def test_a_run_without_a_base_leaves_the_stage_out_and_says_so(corpus):
    repo: GateRepo = corpus["repo"]
    done = repo.gate("run", *OTHERS, "--skip", "build", "--skip", "pytest", "-f", "json")
    stage = _stage(done)
    assert (stage["status"], stage["reason"]) == (
        "skipped",
        "no base to judge the change against: run with --base REF",
    )


def test_pre_push_and_verify_judge_the_change_by_default(corpus):
    repo: GateRepo = corpus["repo"]
    head = repo.git("rev-parse", "HEAD").strip()
    refs = f"refs/heads/main {head} refs/heads/main {corpus['base']}\n"
    skips = (*OTHERS, "--skip", "build", "--skip", "tamper")
    pushed = repo.gate("hook", "pre-push", "origin", "unused", *skips, input=refs)
    assert pushed.returncode == 1, pushed.stdout + pushed.stderr
    assert "test-quality[uncovered-change]" in pushed.stdout
    assert "test-quality[no-assert]" in pushed.stdout
    # verify (an agent's claim): the uncommitted work against HEAD.
    repo.write("tests/test_wip.py", "from shop import add\n\n\ndef test_wip():\n    add(2, 2)\n")
    try:
        claimed = repo.gate("verify", *skips, "--format", "json")
    finally:
        (repo.path / "tests/test_wip.py").unlink()
    assert claimed.returncode == 1, claimed.stdout + claimed.stderr
    assert _places(_stage(claimed)) == [("no-assert", "tests/test_wip.py", 4)]


def test_ci_threshold_lets_a_partly_covered_change_through_also_under_xdist(corpus):
    repo: GateRepo = corpus["repo"]
    # The corpus covers about 90% of its changed statements, some only in a subprocess. At
    # 80% only the AST rules remain (ci turns the stage on), if xdist workers were measured.
    repo.write(
        "pyproject.toml",
        PYPROJECT
        + "\n[tool.gatekeeper.stages.test-quality]\nmin_coverage = 80\n"
        + '\n[tool.gatekeeper.stages.pytest]\nargs = ["-n", "2"]\n',
    )
    try:
        done = repo.gate(
            "ci", "--base", corpus["base"], *OTHERS, "--skip", "build", "--format", "json"
        )
    finally:
        repo.git("checkout", "pyproject.toml")
    assert done.returncode == 1, done.stderr
    rules = {f["rule"] for f in _stage(done)["findings"]}
    assert rules == {"no-assert", "tautology"}


def test_a_judgement_is_replayed_only_for_its_tree_and_base(corpus):
    repo: GateRepo = corpus["repo"]
    args = ("run", "--stage", "test-quality", "-f", "json")
    first = repo.gate(*args, "--base", corpus["middle"])
    assert first.returncode == 0, first.stdout + first.stderr
    again = repo.gate(*args, "--base", corpus["middle"])
    assert (again.returncode, _stage(again)["cached"]) == (0, True)
    # The same tree judged against an older base: more of it is the change, and uncovered.
    older = repo.gate(*args, "--base", corpus["base"])
    assert older.returncode == 1, older.stdout  # (cached only if judged so before)
    assert "uncovered-change" in {f["rule"] for f in _stage(older)["findings"]}


def test_deep_mode_reports_the_surviving_mutant_and_not_the_killed_ones(corpus):
    repo: GateRepo = corpus["repo"]
    # The stage alone: it runs the tests under coverage itself (no pytest stage to hand over).
    args = ("run", "--base", corpus["middle"], "--stage", "test-quality", "-f", "json")
    shallow = repo.gate(*args)
    assert shallow.returncode == 0, shallow.stdout + shallow.stderr
    # A stored judgement without mutants is never replayed for a deep run.
    done = repo.gate(*args, "--deep")
    assert done.returncode == 1, done.stdout + done.stderr
    stage = _stage(done)
    assert stage["cached"] is False
    assert {f["rule"] for f in stage["findings"]} == {"survived-mutant", "deep-summary"}, stage
    survived = [f for f in stage["findings"] if f["rule"] == "survived-mutant"]
    assert [(f["path"], f["line"], f["message"]) for f in survived] == [
        (
            "shop/limits.py",
            2,
            "no test fails when `value > high` becomes `value >= high` at shop/limits.py:2",
        )
    ]
    (summary,) = [f for f in stage["findings"] if f["rule"] == "deep-summary"]
    assert summary["severity"] == "note"
    assert "4 mutants" in summary["message"] and "3 killed, 1 survived" in summary["message"]
    assert "budget 120s" in summary["message"]


def test_coverage_missing_in_the_project_is_an_error_with_the_install_command(corpus, tmp_path):
    repo: GateRepo = corpus["repo"]
    bare = tmp_path / "bare"
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(bare)], check=True)
    done = repo.gate(
        "run",
        "--base",
        corpus["base"],
        "--stage",
        "test-quality",
        "-f",
        "json",
        env={"VIRTUAL_ENV": str(bare)},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    stage = _stage(done)
    assert stage["status"] == "error"
    assert "coverage is not installed" in stage["reason"]
    assert "-m pip install coverage" in stage["reason"]


# -- the AST rules, more spellings, through the stage's functions ----------------------------


def _judge(source: str, conftest: str = "") -> list[tuple[str, int]]:
    text = textwrap.dedent(source)
    tree = ast.parse(text)
    helpers = _test_slop.helpers_for(tree, [ast.parse(textwrap.dedent(conftest))])
    lines = range(1, len(text.splitlines()) + 1)
    return [(s.rule, s.line) for s in _test_slop.judge(tree, lines, helpers, is_test_module=True)]


@pytest.mark.parametrize(
    "source",
    [
        "def test_x(m):\n    m.run()\n    m.assert_awaited_once()\n",
        "def test_x():\n    import numpy\n    numpy.testing.assert_allclose(1, 1)\n",
        "def test_x():\n    from pytest import raises\n    with raises(KeyError):\n        {}[1]\n",
        "def test_x():\n    try:\n        f()\n    except E:\n        pytest.fail('no')\n",
        "def test_x():\n    if f():\n        raise AssertionError('no')\n",
        "def test_x(checked):\n    pass\n",
        "@pytest.mark.usefixtures('checked')\ndef test_x():\n    f()\n",
        "class TestX:\n    def _check(self, v):\n        assert v\n"
        "    def test_x(self):\n        self._check(f())\n",
        "def test_x():\n    assert_frame_equal(f(), g())\n",
        "def test_x(wrapped):\n    f()\n",
    ],
)
def test_what_counts_as_a_check(source):
    conftest = """
        import pytest

        @pytest.fixture
        def checked():
            yield
            assert True is not False

        @pytest.fixture(name="wrapped")
        def _wrapped(checked):
            return 1
    """
    assert [r for r in _judge(source, conftest) if r[0] == "no-assert"] == []


@pytest.mark.parametrize(
    "source",
    [
        "def test_x():\n    pytest.fail('unconditional is no check of the code')\n",
        "def _helper():\n    return 1\n\ndef test_x():\n    _helper()\n",
        "def test_x(unknown_fixture):\n    unknown_fixture.go()\n",
        "async def test_x():\n    await f()\n",
    ],
)
def test_what_does_not_count_as_a_check(source):
    rules = _judge(source)
    assert [r[0] for r in rules] == ["no-assert"]


@pytest.mark.parametrize(
    ("source", "tautology"),
    [
        ("def test_x():\n    assert 'non-empty'\n", True),
        ("def test_x():\n    assert [f()]\n", True),
        ("def test_x():\n    assert f'{x}!'\n", True),
        ("def test_x():\n    assert not None\n", True),
        ("def test_x():\n    assert a.b is a.b\n", True),
        ("def test_x(self):\n    self.assertEqual(x, x)\n", True),
        ("def test_x(self):\n    self.assertIsInstance(1, int)\n", True),
        ("def test_x():\n    m = Mock()\n    m()\n    assert m.call_count\n", True),
        # Not tautologies: a call may differ each time, the mock is not the one just called.
        ("def test_x():\n    assert f() == f()\n", False),
        ("def test_x():\n    m()\n    assert other.called\n", False),
        ("def test_x():\n    assert f() or x\n", False),
        ("def test_x():\n    assert isinstance(f(), int)\n", False),
        ("def test_x():\n    assert ''\n", False),
    ],
)
def test_tautology_spellings(source, tautology):
    found = [r for r in _judge(source) if r[0] == "tautology"]
    assert bool(found) is tautology
    if tautology:
        assert found[0][1] == len(source.rstrip("\n").splitlines())


def test_only_changed_tests_and_assertions_are_judged():
    text = "def test_old():\n    f()\n\ndef test_new():\n    assert True\n"
    tree = ast.parse(text)
    helpers = _test_slop.helpers_for(tree, [])
    found = _test_slop.judge(tree, {5}, helpers, is_test_module=True)
    assert [(s.rule, s.line) for s in found] == [("tautology", 5)]


# -- the mutator -----------------------------------------------------------------------------


def test_mutants_cover_the_standard_kinds_and_each_one_compiles():
    source = textwrap.dedent(
        '''\
        from __future__ import annotations


        def f(a: int | None, b: int) -> int | None:
            """Doc: a + b."""
            if a is None and b:
                return None
            total = a + b * 2
            return total if total > 0 else -total
        '''
    )
    found = _mutants.mutants(source, range(1, 10), per_line=10)
    seen = {(m.line, m.kind, m.before, m.after) for m in found}
    assert (6, "condition", "a is None and b", "not (a is None and b)") in seen
    assert (6, "comparison", "a is None", "a is not None") in seen
    assert (6, "operator", "a is None and b", "a is None or b") in seen
    assert (8, "operator", "a + b * 2", "a - b * 2") in seen
    assert (8, "operator", "b * 2", "b / 2") in seen
    assert (8, "constant", "2", "3") in seen
    assert (9, "return", "total if total > 0 else -total", "None") in seen
    assert (9, "comparison", "total > 0", "total >= 0") in seen
    # Annotations (`int | None`) and docstrings are never mutated.
    assert all(m.line not in (4, 5) for m in found)
    for m in found:
        compile(m.source, "m.py", "exec")
        assert m.source != source
        assert m.source.splitlines()[: m.line - 1] == source.splitlines()[: m.line - 1]
    assert len(_mutants.mutants(source, [8], per_line=2)) == 2


def test_mutant_sources_keep_everything_but_the_mutated_expression():
    source = "x = 'a'  # comment\ny = 'é' + x  # keep\n"
    (mutant,) = _mutants.mutants(source, [2], per_line=1)
    assert mutant.source == "x = 'a'  # comment\ny = ('é' - x)  # keep\n"
    assert mutant.description == "`'é' + x` becomes `'é' - x`"


SHADOW_COVERAGE = """\
import json
import os


def pytest_unconfigure(config):
    folder = os.environ["GATEKEEPER_COVERAGE_DIR"]
    with open(os.path.join(folder, "files.json")) as fh:
        files = list(json.load(fh))
    with open(os.path.join(folder, "hits-forged.json"), "w") as fh:
        json.dump({"files": {f: list(range(1, 400)) for f in files}, "contexts": {}}, fh)
"""

SHADOW_MUTANT = """\
import os

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    with open(os.environ["GATEKEEPER_MUTANT_SOURCE"] + ".loaded", "w") as fh:
        fh.write("forged")
    session.exitstatus = 1
"""


def test_modules_named_like_the_gate_s_plugins_are_not_loaded_instead(corpus):
    repo: GateRepo = corpus["repo"]
    # `python -m pytest` puts the repository's top first on sys.path: a change that adds a
    # module named like a plugin the gate loads with -p would report what it likes.
    shadows = {
        "gatekeeper_pytest_coverage.py": SHADOW_COVERAGE,
        "gatekeeper_pytest_mutant.py": SHADOW_MUTANT,
        "gatekeeper_import_hook.py": "raise SystemExit('shadowed')\n",
    }
    for name, text in shadows.items():
        repo.write(name, text)
    try:
        args = ("run", "--stage", "test-quality", "-f", "json")
        covered = repo.gate(*args, "--base", corpus["base"])
        mutated = repo.gate(*args, "--base", corpus["middle"], "--deep")
    finally:
        for name in shadows:
            (repo.path / name).unlink()
    assert covered.returncode == 1, covered.stdout + covered.stderr
    assert ("uncovered-change", "shop/pricing.py", _line(PRICING, "return value * 3")) in (
        _places(_stage(covered))
    )
    assert mutated.returncode == 1, mutated.stdout + mutated.stderr
    assert "survived-mutant" in {f["rule"] for f in _stage(mutated)["findings"]}
