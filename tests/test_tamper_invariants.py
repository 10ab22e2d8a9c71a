"""The tamper guard by invariant, with the real tools, on one shared repository.

The base has a defect for every cheat: a type error, a lint error, a badly formatted file and
thirteen functions with failing tests. One change silences all of them, each in a spelling the
old list of patterns did not know; the guard must name every one. An honest change from the
same base (code fixed, tests untouched, one test added) stays green with no tamper finding.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.gate import GateRequest, run_gate
from gatekeeper.models import RunResult
from gatekeeper.testing import GateRepo, make_repo

PYPROJECT = """\
[project]
name = "sample"
version = "0.1.0"

[tool.mypy]
strict = true

[tool.ruff.lint]
select = ["E", "F"]

[tool.gatekeeper.stages.build]
enabled = false

[tool.gatekeeper.stages.radon]
enabled = false
"""

VALUES = range(1, 14)
CALC = "".join(f"\n\ndef v{i}() -> int:\n    return 0\n" for i in VALUES)  # after a docstring
TESTS = "from sample import calc\n" + "".join(
    f"\n\ndef test_v{i}() -> None:\n    assert calc.v{i}() == {i}\n" for i in VALUES if i != 3
)
TEST_V3 = "from sample import calc\n\n\ndef test_v3() -> None:\n    assert calc.v3() == 3\n"

BASE = {
    "pyproject.toml": PYPROJECT,
    "sample/__init__.py": '"""Sample."""\n',
    "sample/calc.py": '"""Values."""\n' + CALC,
    "sample/types_a.py": 'def a() -> int:\n    return "a"\n',
    "sample/types_b.py": 'def b() -> int:\n    return "b"\n',
    "sample/types_c.py": "def c(x):\n    return x\n",
    "sample/launder.py": (
        'def one() -> int:\n    return "1"\n\n\ndef two() -> int:\n    return "2"\n'
    ),
    "sample/moved.py": 'def moved() -> int:\n    return "m"\n',
    "sample/sub/__init__.py": "",
    "sample/sub/lint.py": "import os\n",
    "sample/long.py": f'TEXT = "{"x" * 100}"\n',
    "sample/stmt.py": "l = 1\n",
    "sample/fmt.py": "x=1\n",
    "tests/test_calc.py": TESTS,
    "tests/test_v3.py": TEST_V3,
}

#: What each cheat hides, and the finding the guard must name (rule, path or test).
CHEATS: dict[str, str] = {
    "sample/types_a.py": '# mypy: disable-error-code="return-value"\n' + BASE["sample/types_a.py"],
    "sample/types_b.py": "# mypy: ignore_errors\n" + BASE["sample/types_b.py"],
    "sample/launder.py": (
        "from typing import cast, no_type_check\n\n\ndef one() -> int:\n"
        '    return cast(int, "1")\n\n\n@no_type_check\ndef two() -> int:\n    return "2"\n'
    ),
    "sample/sub/ruff.toml": '[lint]\nignore = ["F401"]\n',
    "sample/fmt.py": "# fmt: off\nx=1\n",
    "scripts/tool.py": BASE["sample/moved.py"],
    "tests/test_calc.py": TESTS.replace(
        "def test_v1() -> None:\n",
        "def test_v1() -> None:\n    from pytest import skip\n\n    skip()\n",
    )
    .replace(
        "def test_v2() -> None:\n", 'def test_v2() -> None:\n    raise unittest.SkipTest("later")\n'
    )
    .replace(
        "from sample import calc\n", "import unittest\n\nimport pytest\n\nfrom sample import calc\n"
    )
    .replace("def test_v5()", "def test_v5_renamed() -> None:\n    assert True\n\n\ndef _old_v5()")
    .replace("calc.v6() == 6", "calc.v6() == 6 or True")
    .replace("def test_v7() -> None:\n", "def test_v7() -> None:\n    return\n")
    .replace("calc.v8() == 8", "calc.v8() == 0")
    .replace(
        "def test_v9() -> None:\n",
        "def test_v9(monkeypatch: pytest.MonkeyPatch) -> None:\n"
        '    monkeypatch.setattr(calc, "v9", lambda: 9)\n',
    ),
    "tests/test_v3.py": 'import pytest\n\npytest.importorskip("nope")\n' + TEST_V3,
    "tests/conftest.py": (
        "def pytest_collection_modifyitems(config, items):\n"
        '    items[:] = [i for i in items if "v4" not in i.name]\n'
    ),
    "pytest.ini": '[pytest]\naddopts = -k "not v10" -p cheat_plugin\n',
    "cheat_plugin.py": (
        "from collections.abc import Generator\n\nimport pytest\nfrom pluggy import Result\n\n\n"
        "@pytest.hookimpl(hookwrapper=True, tryfirst=True)\n"
        "def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> "
        "Generator[None, Result[pytest.TestReport], None]:\n"  # line-length 200 (a cheat too)
        "    outcome = yield\n    report = outcome.get_result()\n"
        '    if "v11" in item.name:\n        report.outcome = "passed"\n'
    ),
}
CODE_CHEATS = {  # code under test that switches its own test off
    "def v12() -> int:\n    return 0\n": (
        'def v12() -> int:\n    import pytest\n\n    pytest.skip("not here")\n'
    ),
    "def v13() -> int:\n    return 0\n": (
        'def v13() -> int:\n    import pytest\n\n    pytest.xfail("known")\n'
    ),
}
CONFIG_CHEATS = (  # appended to pyproject.toml
    '\n[[tool.mypy.overrides]]\nmodule = "sample.types_c"\ndisallow_untyped_defs = false\n'
    "\n[tool.ruff]\nline-length = 200\n"
    '\n[tool.gatekeeper]\ntamper_allow = [{rule = "*", reason = "trust me"}]\n'
    '\n[tool.gatekeeper.stages.ruff]\nargs = ["--ignore", "E741"]\n'
)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GateRepo]:
    top = tmp_path_factory.mktemp("invariants")
    made = make_repo(top / "repo", top / "home")
    for rel, text in BASE.items():
        made.write(rel, text)
    made.commit("base: defects everywhere")
    saved = dict(os.environ)
    os.environ.update(made.env)  # the gate runs in-process: git isolated like the CLI
    try:
        yield made
    finally:
        os.environ.clear()
        os.environ.update(saved)


def reset(repo: GateRepo) -> str:
    repo.git("reset", "--quiet", "--hard", "HEAD")
    repo.git("clean", "-fdq")
    return repo.git("rev-parse", "HEAD").strip()


def gate(repo: GateRepo, base: str, trigger: str = "loop") -> RunResult:
    # test-quality judges coverage of the change, another question than the guard's.
    request = GateRequest(
        root=repo.path, trigger=trigger, compare_to=base, record=False, skip=("test-quality",)
    )
    return run_gate(request)


def by_stage(result: RunResult) -> dict[str, Any]:
    return {s.name: s for s in result.stages}


@pytest.fixture(scope="module")
def cheated(repo: GateRepo) -> RunResult:
    base = reset(repo)
    for rel, text in CHEATS.items():
        repo.write(rel, text)
    calc = (repo.path / "sample/calc.py").read_text()
    for old, new in CODE_CHEATS.items():
        calc = calc.replace(old, new)
    repo.write("sample/calc.py", calc)
    (repo.path / "sample/moved.py").unlink()
    (repo.path / "pyproject.toml").write_text(PYPROJECT + CONFIG_CHEATS)
    return gate(repo, base)


def tamper_findings(result: RunResult) -> list[Any]:
    return list(by_stage(result)["tamper"].findings)


def test_every_cheat_silences_its_own_check(cheated: RunResult) -> None:
    stages = by_stage(cheated)
    # The cheats work on the change's own run: only the guard (and the reporter) object.
    assert stages["mypy"].status == "passed", stages["mypy"].findings
    assert stages["ruff"].status == "passed", stages["ruff"].findings
    assert stages["ruff-format"].status == "passed"
    assert cheated.verdict == "failed"


def test_invariant_1_names_each_hidden_finding_and_what_hid_it(cheated: RunResult) -> None:
    hidden = {
        (f.path, f.message.split("[", 1)[1].split("]", 1)[0]): f.message
        for f in tamper_findings(cheated)
        if f.rule == "tamper-hidden-finding"
    }
    assert set(hidden) >= {
        ("sample/types_a.py", "return-value"),
        ("sample/types_b.py", "return-value"),
        ("sample/types_c.py", "no-untyped-def"),
        ("sample/sub/lint.py", "F401"),
        ("sample/long.py", "E501"),
        ("sample/stmt.py", "E741"),
        ("sample/fmt.py", "format"),
    }, sorted(hidden)
    assert "mypy: disable-error-code" in hidden["sample/types_a.py", "return-value"]
    assert "sample/sub/ruff.toml (added by the change)" in hidden["sample/sub/lint.py", "F401"]
    assert "pyproject.toml (changed)" in hidden["sample/long.py", "E501"]


def test_invariant_2_runs_the_base_tests_as_written(cheated: RunResult) -> None:
    failing = {
        f.message.split("base test ", 1)[1].split(": ", 1)[0].split("::", 1)[1]
        for f in tamper_findings(cheated)
        if f.rule == "tamper-base-test"
    }
    expected = {f"test_v{i}" for i in range(1, 11)}
    assert failing >= expected, sorted(expected - failing)
    # Code that switches its own tests off: on a guarded run the pytest stage itself says so.
    by_code = {
        (f.rule, f.path, f.message.split(": ", 1)[0].split("::", 1)[1])
        for f in by_stage(cheated)["pytest"].findings
        if f.rule.endswith("-by-code")
    }
    assert by_code == {
        ("test-skipped-by-code", "sample/calc.py", "test_v12"),
        ("test-xfailed-by-code", "sample/calc.py", "test_v13"),
    }


def test_invariant_3_a_rewritten_outcome_is_counted_as_the_failure(cheated: RunResult) -> None:
    pytest_stage = by_stage(cheated)["pytest"]
    rules = {(f.rule, f.message.split(": ", 1)[0]) for f in pytest_stage.findings}
    assert ("test-outcome-rewritten", "tests/test_calc.py::test_v11") in rules


def test_invariant_4_the_change_cannot_allow_itself(cheated: RunResult) -> None:
    # The change's tamper_allow = [{rule = "*"}] did not hide anything above; the type
    # laundering the invariants cannot see is reported by its spelling.
    rules = {(f.rule, f.path) for f in tamper_findings(cheated)}
    assert ("tamper-type-laundering", "sample/launder.py") in rules


def test_invariant_5_code_moved_out_of_reach(cheated: RunResult) -> None:
    (moved,) = [f for f in tamper_findings(cheated) if f.rule == "tamper-unchecked-code"]
    assert moved.path == "scripts/tool.py" and moved.line == 1
    assert "not checked by mypy" in moved.message


def test_honest_fix_stays_green_and_runs_once_more_only_when_tests_change(repo: GateRepo) -> None:
    base = reset(repo)
    fixed = {
        "sample/calc.py": '"""Values."""\n'
        + "".join(f"\n\ndef v{i}() -> int:\n    return {i}\n" for i in VALUES),
        "sample/types_a.py": "def a() -> int:\n    return 1\n",
        "sample/types_b.py": "def b() -> int:\n    return 2\n",
        "sample/types_c.py": "def c(x: int) -> int:\n    return x\n",
        "sample/launder.py": (
            "def one() -> int:\n    return 1\n\n\ndef two() -> int:\n    return 2\n"
        ),
        "sample/moved.py": "def moved() -> int:\n    return 3\n",
        "sample/sub/lint.py": "",
        "sample/long.py": 'TEXT = "x"\n',
        "sample/stmt.py": "length = 1\n",
        "sample/fmt.py": "x = 1\n",
    }
    for rel, text in fixed.items():
        repo.write(rel, text)
    result = gate(repo, base)
    assert result.verdict == "passed", [(f.stage, f.rule, f.location) for f in result.findings]
    tamper = by_stage(result)["tamper"]
    assert tamper.findings == () and tamper.extra["invariants"]["hybrid"] is None
    # A new test: the hybrid (base's tests only) runs once, and is then cached by tree.
    repo.write(
        "tests/test_new.py",
        "from sample import calc\n\n\ndef test_new() -> None:\n    assert calc.v1() == 1\n",
    )
    first = by_stage(gate(repo, base))["tamper"]
    again = by_stage(gate(repo, base))["tamper"]
    assert first.status == again.status == "passed" and first.findings == ()
    assert first.extra["invariants"]["hybrid"] and again.extra["invariants"]["cached"] is True


def test_a_forged_report_and_a_shadowing_module_are_caught(repo: GateRepo) -> None:
    base = reset(repo)
    forge = (
        "import json, os\n\n\ndef pytest_sessionfinish(session, exitstatus):\n"
        '    data = {"collected": 1, "outcomes": {"passed": 1}, "failures": [],\n'
        '            "collect_errors": [], "exitstatus": 0}\n'
        '    with open(os.environ["GATEKEEPER_PYTEST_REPORT"], "w") as fh:\n'
        "        json.dump(data, fh)\n    os._exit(0)\n"
    )
    repo.write("tests/conftest.py", forge)
    only = GateRequest(root=repo.path, only=("pytest",), record=False)
    (stage,) = run_gate(only).stages
    assert stage.status == "error" and "forged" in (stage.reason or "")
    (repo.path / "tests/conftest.py").unlink()
    repo.write("gatekeeper_pytest_report.py", forge)  # the reporter's old, public name
    (stage,) = run_gate(only).stages
    assert stage.status == "failed" and len(stage.findings) == 13
    assert base  # the guard compares with it on guarded triggers


def test_no_base_is_said_loudly(repo: GateRepo, tmp_path: Path) -> None:
    reset(repo)
    head = repo.git("rev-parse", "HEAD").strip()
    result = run_gate(
        GateRequest(root=repo.path, head=head, trigger="pre-push", only=("tamper",), record=False)
    )
    (note,) = by_stage(result)["tamper"].findings
    assert "NOTHING COULD BE COMPARED" in note.message


def test_the_prompt_says_which_invariant_broke(cheated: RunResult) -> None:
    from gatekeeper.loop import prompt

    text = prompt.build(cheated, [], [], attempt=1, max_attempts=3, cap=6000)
    assert len(text) <= 6000
    assert "Invariant 2: the base's tests are the specification" in text
    assert "Invariant 1: your code must pass the base's rules" in text
    assert "Invariant 5:" in text


def test_code_that_skips_its_tests_is_caught_without_any_test_change(repo: GateRepo) -> None:
    base = reset(repo)
    calc = (repo.path / "sample/calc.py").read_text()
    repo.write(
        "sample/calc.py",
        calc.replace(
            "def v1() -> int:\n    return 0\n",
            "def v1() -> int:\n    from pytest import skip as later\n\n    later()\n",
        ),
    )
    request = GateRequest(
        root=repo.path, trigger="agent", compare_to=base, only=("pytest",), record=False
    )
    stages = by_stage(run_gate(request))
    assert stages["tamper"].extra["invariants"]["hybrid"] is None  # no test or rule changed
    skipped = [f for f in stages["pytest"].findings if f.rule == "test-skipped-by-code"]
    assert [(f.path, f.line) for f in skipped] == [("sample/calc.py", 7)]
