"""The tamper guard on real repositories: each kind of suppression creep, against a base."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gatekeeper.testing import GateRepo

BASE_PYPROJECT = """\
[project]
name = "sample"
version = "0.1.0"

[tool.mypy]
strict = true

[tool.ruff.lint]
select = ["E", "F"]

[tool.pytest.ini_options]
addopts = "-q"

[tool.coverage.report]
fail_under = 90

[tool.gatekeeper.stages.radon]
max_block = 10
max_module = "A"
"""

TESTS = """\
from sample import add


def test_add() -> None:
    assert add(1, 2) == 3


def test_more() -> None:
    assert add(2, 2) == 4


class TestGroup:
    def test_in_class(self) -> None:
        assert add(0, 0) == 0
"""


@pytest.fixture
def repo(gate_repo: GateRepo) -> GateRepo:
    gate_repo.scaffold(commit=False)
    gate_repo.write("pyproject.toml", BASE_PYPROJECT)
    gate_repo.write("tests/test_sample.py", TESTS)
    gate_repo.commit("base")
    return gate_repo


def tamper(repo: GateRepo, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    done = repo.gate("run", "--stage", "tamper", "--format", "json", *extra)
    assert done.returncode in (0, 1), done.stderr
    (stage,) = done.json["stages"]
    assert stage["name"] == "tamper"
    return done.returncode, stage["findings"]


def rules(findings: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return sorted((f["rule"], f["path"], f["line"]) for f in findings)


def append(repo: GateRepo, rel: str, text: str) -> None:
    path = repo.path / rel
    path.write_text(path.read_text() + text)


def test_clean_change_passes(repo: GateRepo) -> None:
    append(repo, "sample/__init__.py", "\n\ndef sub(a: int, b: int) -> int:\n    return a - b\n")
    append(repo, "tests/test_sample.py", "\n\ndef test_sub() -> None:\n    assert True\n")
    assert tamper(repo) == (0, [])


def test_new_suppression_comments(repo: GateRepo) -> None:
    append(
        repo,
        "sample/__init__.py",
        "import os  # noqa: F401\n"
        "x: int = 'a'  # type: ignore[assignment]\n"
        "if x:  # pragma: no cover\n"
        "    pass\n"
        "TEXT = '# noqa is only text here'\n",
    )
    code, findings = tamper(repo)
    assert code == 1
    assert rules(findings) == [
        ("tamper-no-cover", "sample/__init__.py", 9),
        ("tamper-noqa", "sample/__init__.py", 7),
        ("tamper-type-ignore", "sample/__init__.py", 8),
    ]
    assert all(f["hint"] for f in findings)


def test_moving_an_old_suppression_is_not_tampering(repo: GateRepo) -> None:
    repo.write("sample/extra.py", "import os  # noqa: F401\n\nVALUE = 1\n")
    repo.commit("an old, reviewed noqa")
    repo.write("sample/extra.py", "VALUE = 1\nimport os  # noqa: F401\n")
    assert tamper(repo) == (0, [])


def test_skips_and_xfails(repo: GateRepo) -> None:
    repo.write(
        "tests/test_sample.py",
        TESTS.replace("def test_add", "@pytest.mark.skip(reason='later')\ndef test_add")
        .replace("def test_more", "@pytest.mark.xfail\ndef test_more")
        .replace("class TestGroup", "@unittest.skip('x')\nclass TestGroup")
        .replace("from sample", "import unittest\n\nimport pytest\n\nfrom sample")
        + "\n\n@pytest.mark.skipif(True, reason='x')\ndef test_new() -> None:\n"
        "    pytest.skip('not today')\n",
    )
    code, findings = tamper(repo)
    assert code == 1
    messages = sorted(f["message"].split(":")[0] for f in findings)
    assert messages == [
        "new `pytest.mark.skip`",
        "new `pytest.mark.skipif`",
        "new `pytest.mark.xfail`",
        "new `unittest.skip`",
        "new a `pytest.skip(` call",
    ]
    assert {f["rule"] for f in findings} == {"tamper-skip"}


def test_deleted_and_emptied_tests(repo: GateRepo) -> None:
    repo.write(
        "tests/test_sample.py",
        "from sample import add\n\n\ndef test_add() -> None:\n    pass\n",
    )
    code, findings = tamper(repo)
    assert code == 1
    assert rules(findings) == [
        ("tamper-test-count", "tests/test_sample.py", 0),
        ("tamper-test-deleted", "tests/test_sample.py", 0),
        ("tamper-test-deleted", "tests/test_sample.py", 0),
        ("tamper-test-emptied", "tests/test_sample.py", 4),
    ]
    text = " ".join(f["message"] for f in findings)
    assert "TestGroup.test_in_class" in text and "test_more" in text
    assert "from 3 to 1" in text


def test_deleting_a_whole_test_file(repo: GateRepo) -> None:
    (repo.path / "tests" / "test_sample.py").unlink()
    code, findings = tamper(repo)
    assert code == 1
    assert [f["rule"] for f in findings].count("tamper-test-deleted") == 3
    assert any("from 3 to 0" in f["message"] for f in findings)


def test_moved_test_is_not_deleted(repo: GateRepo) -> None:
    (repo.path / "tests" / "test_sample.py").rename(repo.path / "tests" / "test_moved.py")
    assert tamper(repo) == (0, [])


LOOSE_PYPROJECT = """\
[project]
name = "sample"
version = "0.1.0"

[tool.mypy]
strict = false
ignore_missing_imports = true

[[tool.mypy.overrides]]
module = "sample.*"
ignore_errors = true

[tool.ruff.lint]
select = ["E"]
ignore = ["E501"]

[tool.ruff.lint.per-file-ignores]
"tests/*" = ["F401"]

[tool.pytest.ini_options]
addopts = "-q -k 'not slow' --deselect tests/test_sample.py::test_add -p no:randomly"

[tool.coverage.report]
fail_under = 50

[tool.gatekeeper.stages.radon]
max_block = 30
max_module = "C"

[tool.gatekeeper.stages.mypy]
enabled = false
"""


def test_loosened_pyproject(repo: GateRepo) -> None:
    repo.write("pyproject.toml", LOOSE_PYPROJECT)
    code, findings = tamper(repo)
    assert code == 1
    assert {f["rule"] for f in findings} == {"tamper-config"}
    text = "\n".join(f"{f['line']}: {f['message']}" for f in findings)
    for expected in (
        "6: mypy strict turned off",
        "7: mypy ignore_missing_imports turned on",
        "mypy ignore_errors turned on [module sample.*]",
        "ruff rules no longer selected: F",
        "ruff ignores more rules: E501",
        "ruff per-file ignores added: tests/*: F401",
        "-k (selects a subset of tests)",
        "--deselect",
        "-p no:randomly (disables a plugin)",
        "coverage fail_under lowered from 90 to 50",
        "radon max_block loosened from 10 to 30",
        "radon max_module loosened from 'A' to 'C'",
        "gatekeeper stage mypy disabled",
    ):
        assert expected in text, (expected, text)
    assert all(f["path"] == "pyproject.toml" and f["line"] > 0 for f in findings), text


def test_loosened_ini_files(repo: GateRepo) -> None:
    repo.write("mypy.ini", "[mypy]\nstrict = True\n")
    repo.write(
        "setup.cfg", "[tool:pytest]\ntestpaths = tests\n\n[coverage:report]\nfail_under = 80\n"
    )
    repo.write(".gatekeeper.yaml", "stages:\n  ruff:\n    enabled: true\n")
    repo.git("rm", "--cached", "--quiet", "pyproject.toml")
    (repo.path / "pyproject.toml").unlink()
    repo.commit("ini configs")
    repo.write("mypy.ini", "[mypy]\nstrict = False\n\n[mypy-sample.*]\nignore_errors = True\n")
    repo.write(
        "setup.cfg", "[tool:pytest]\ntestpaths = docs\n\n[coverage:report]\nfail_under = 10\n"
    )
    repo.write(".gatekeeper.yaml", "stages:\n  ruff:\n    enabled: false\n")
    code, findings = tamper(repo)
    assert code == 1
    got = sorted((f["path"], f["message"]) for f in findings)
    assert got == [
        (".gatekeeper.yaml", "gatekeeper stage ruff disabled"),
        ("mypy.ini", "mypy ignore_errors turned on [module sample.*]"),
        ("mypy.ini", "mypy strict turned off"),
        ("setup.cfg", "coverage fail_under lowered from 80 to 10"),
        ("setup.cfg", "pytest testpaths dropped tests"),
    ]


def test_tightening_is_fine(repo: GateRepo) -> None:
    repo.write(
        "pyproject.toml",
        BASE_PYPROJECT.replace('select = ["E", "F"]', 'select = ["E", "F", "B"]').replace(
            "fail_under = 90", "fail_under = 95"
        ),
    )
    assert tamper(repo) == (0, [])


def test_allow_list_needs_a_reason(repo: GateRepo) -> None:
    append(repo, "sample/__init__.py", "import os  # noqa: F401\n")
    append(
        repo,
        "pyproject.toml",
        '\n[tool.gatekeeper]\ntamper_allow = [{rule = "tamper-noqa", path = "sample/*"}]\n',
    )
    done = repo.gate("run", "--stage", "tamper")
    assert done.returncode == 2
    assert "tamper_allow" in done.stderr and "reason" in done.stderr
    assert "Traceback" not in done.stderr


def test_allow_list_accepts_deliberate_suppressions(repo: GateRepo) -> None:
    text = (
        (repo.path / "pyproject.toml")
        .read_text()
        .replace(
            "[tool.gatekeeper.stages.radon]",
            '[tool.gatekeeper]\ntamper_allow = [{rule = "tamper-noqa", path = "sample/*", '
            'reason = "re-export for the public API"}]\n\n[tool.gatekeeper.stages.radon]',
        )
    )
    repo.write("pyproject.toml", text)
    append(repo, "sample/__init__.py", "import os  # noqa: F401\n")
    append(repo, "tests/test_sample.py", "import os  # noqa: F401\n")
    code, findings = tamper(repo)
    assert code == 1  # the test file is not covered by the entry
    assert rules(findings) == [("tamper-noqa", "tests/test_sample.py", 15)]


def test_compare_with_an_older_commit(repo: GateRepo) -> None:
    base = repo.git("rev-parse", "HEAD").strip()
    append(repo, "sample/__init__.py", "X = 1  # type: ignore\n")
    repo.commit("sneaky")
    assert tamper(repo) == (0, [])  # HEAD already has it
    code, findings = tamper(repo, "--base", base)
    assert code == 1
    assert rules(findings) == [("tamper-type-ignore", "sample/__init__.py", 7)]


def test_no_commits_passes_with_a_note(gate_repo: GateRepo) -> None:
    gate_repo.scaffold(commit=False)
    code, findings = tamper(gate_repo)
    assert code == 0
    assert [(f["rule"], f["severity"]) for f in findings] == [("tamper-no-base", "note")]


def test_off_for_a_person_on_for_loop_and_agent(repo: GateRepo, monkeypatch: Any) -> None:
    done = repo.gate("run", "--format", "json", "--skip", "build", "--skip", "pytest")
    assert "tamper" not in [s["name"] for s in done.json["stages"]]
    for key, value in repo.env.items():
        monkeypatch.setenv(key, value)
    from gatekeeper.gate import GateRequest, run_gate

    append(repo, "sample/__init__.py", "import os  # noqa: F401\n")
    start = repo.git("rev-parse", "HEAD").strip()
    for trigger in ("loop", "agent", "pre-push"):
        request = GateRequest(
            root=repo.path, trigger=trigger, compare_to=start, skip=("build", "pytest", "mypy")
        )
        run = run_gate(request)
        by_name = {s.name: s for s in run.stages}
        assert by_name["tamper"].status == "failed", trigger
    # The tree under check cannot switch its own guard off: the guard still runs and
    # reports the switch itself; only a loud --skip leaves it out.
    disabled = "\n[tool.gatekeeper.stages.tamper]\nenabled = false\n"
    append(repo, "pyproject.toml", disabled)
    for only in ((), ("ruff",)):
        request = GateRequest(
            root=repo.path,
            trigger="loop",
            compare_to=start,
            only=only,
            skip=("build", "pytest", "mypy") if not only else (),
        )
        by_name = {s.name: s for s in run_gate(request).stages}
        assert by_name["tamper"].status == "failed"
        assert "tamper-config" in {f.rule for f in by_name["tamper"].findings}
    run = run_gate(GateRequest(root=repo.path, trigger="loop", skip=("tamper",)))
    assert run.stages and {s.name: s.status for s in run.stages}["tamper"] == "skipped"


def test_agent_cannot_allow_list_itself(repo: GateRepo, monkeypatch: Any) -> None:
    for key, value in repo.env.items():
        monkeypatch.setenv(key, value)
    from gatekeeper.gate import GateRequest, run_gate

    text = (
        (repo.path / "pyproject.toml")
        .read_text()
        .replace(
            "[tool.gatekeeper.stages.radon]",
            '[tool.gatekeeper]\ntamper_allow = [{rule = "*", reason = "trust me"}]\n\n'
            "[tool.gatekeeper.stages.radon]",
        )
    )
    repo.write("pyproject.toml", text)
    append(repo, "sample/__init__.py", "import os  # noqa: F401\n")
    run = run_gate(GateRequest(root=repo.path, trigger="agent", only=("tamper",)))
    (stage,) = run.stages
    assert [f.rule for f in stage.findings] == ["tamper-noqa"]
    run = run_gate(GateRequest(root=repo.path, trigger="person", only=("tamper",)))
    assert run.stages[0].findings == ()


def test_unreadable_config_is_an_error(repo: GateRepo) -> None:
    repo.write("mypy.ini", "[mypy\nstrict = True\n")
    done = repo.gate("run", "--stage", "tamper", "--format", "json")
    assert done.returncode == 2
    assert "mypy.ini" in done.json["stages"][0]["reason"]


def test_source_parsing_ignores_strings(tmp_path: Path) -> None:
    from gatekeeper_plugins import _tamper_source as source

    text = 's = "# noqa"\nt = """\n# type: ignore\n"""\nu = 1  # noqa\n'
    assert [(m.rule, m.line) for m in source.marks(text)] == [("tamper-noqa", 5)]
    broken = "def f(:\n    x = 1  # type: ignore\n"
    assert [(m.rule, m.line) for m in source.marks(broken)] == [("tamper-type-ignore", 2)]


def test_a_change_that_only_deletes_tests_is_checked(repo: GateRepo) -> None:
    base = repo.git("rev-parse", "HEAD").strip()
    repo.git("rm", "--quiet", "tests/test_sample.py")
    repo.commit("only a deletion")
    code, findings = tamper(repo, "--base", base)
    assert code == 1
    assert [f["rule"] for f in findings].count("tamper-test-deleted") == 3
