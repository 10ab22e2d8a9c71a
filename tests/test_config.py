"""Configuration: ``[tool.gatekeeper]``, ``.gatekeeper.yaml``, their errors, and zero config.

A broken configuration stops the gate with exit 2 and one line naming the file and the key
(with a did-you-mean where one exists) — never a traceback, never a run on a guess.
"""

from __future__ import annotations

import pytest

from gatekeeper.layout import discover

PROJECT = '[project]\nname = "sample"\nversion = "0.1.0"\n'

CASES = {
    "unknown top-level key": (
        {"pyproject.toml": PROJECT + "[tool.gatekeeper]\ntimout = 5\n"},
        ["pyproject.toml [tool.gatekeeper]: unknown key 'timout'", "did you mean 'timeout'?"],
    ),
    "unknown stage key": (
        {"pyproject.toml": PROJECT + '[tool.gatekeeper.stages.mypy]\npahts = ["src"]\n'},
        ["stages.mypy: unknown key 'pahts'", "did you mean 'paths'?"],
    ),
    "unknown stage": (
        {"pyproject.toml": PROJECT + "[tool.gatekeeper.stages.mpy]\nenabled = true\n"},
        ["pyproject.toml: unknown stage 'mpy' under stages", "did you mean 'mypy'?"],
    ),
    "wrong type": (
        {"pyproject.toml": PROJECT + '[tool.gatekeeper]\ntimeout = "fast"\n'},
        ["[tool.gatekeeper]: timeout must be an integer or a number, not 'fast'"],
    ),
    "wrong type in a stage": (
        {"pyproject.toml": PROJECT + '[tool.gatekeeper.stages.ruff]\nargs = "--fix"\n'},
        ["stages.ruff: args must be a list", "not '--fix'"],
    ),
    "bad rank letter": (
        {"pyproject.toml": PROJECT + '[tool.gatekeeper.stages.radon]\nmax_block = "Z"\n'},
        ["stages.radon: max_block must be a rank letter A-F or an integer (got 'Z')"],
    ),
    "negative jobs": (
        {"pyproject.toml": PROJECT + "[tool.gatekeeper]\njobs = -1\n"},
        ["[tool.gatekeeper]: jobs must be 0 or more (got -1)"],
    ),
    "unknown command key": (
        {"pyproject.toml": PROJECT + '[tool.gatekeeper.commands.docs]\nrn = "mkdocs build"\n'},
        ["[tool.gatekeeper]: commands.docs: unknown key 'rn'", "did you mean 'run'?"],
    ),
    "empty command": (
        {"pyproject.toml": PROJECT + '[tool.gatekeeper.commands.docs]\nrun = ""\n'},
        ["[tool.gatekeeper]: commands.docs.run is empty"],
    ),
    "broken TOML": (
        {"pyproject.toml": PROJECT + "[tool.gatekeeper\ntimeout = 5\n"},
        ["pyproject.toml: not valid TOML", "line 4"],
    ),
    "unknown YAML key": (
        {".gatekeeper.yaml": "stages:\n  ruff:\n    enabeld: false\n"},
        [".gatekeeper.yaml: stages.ruff: unknown key 'enabeld'", "did you mean 'enabled'?"],
    ),
    "broken YAML": (
        {".gatekeeper.yaml": "stages:\n  ruff: [unclosed\n"},
        [".gatekeeper.yaml: not valid YAML at line"],
    ),
    "YAML that is not a mapping": (
        {".gatekeeper.yaml": "- ruff\n- mypy\n"},
        [".gatekeeper.yaml: must be a mapping of settings, not list"],
    ),
    "both files": (
        {
            "pyproject.toml": PROJECT + "[tool.gatekeeper]\ntimeout = 5\n",
            ".gatekeeper.yaml": "timeout: 5\n",
        },
        ["gatekeeper settings in both .gatekeeper.yaml and pyproject.toml", "keep one of them"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_config_errors_are_one_line_with_file_key_and_hint(gate_repo, case):
    files, expected = CASES[case]
    for rel, text in files.items():
        gate_repo.write(rel, text)
    gate_repo.write("sample.py", '"""Sample."""\n')
    gate_repo.commit("config")
    result = gate_repo.gate("run", "--format", "json")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("gatekeeper: error: ")
    assert all(line.startswith("  hint: ") for line in lines[1:]), lines
    for text in expected:
        assert text in result.stderr


def test_stages_command_reports_config_errors_the_same_way(gate_repo):
    gate_repo.write("pyproject.toml", PROJECT + "[tool.gatekeeper]\ntimout = 5\n")
    gate_repo.commit("config")
    result = gate_repo.gate("stages")
    assert result.returncode == 2
    assert "unknown key 'timout'" in result.stderr
    assert "Traceback" not in result.stderr


def test_yaml_config_is_read_and_applied(gate_repo):
    gate_repo.scaffold()
    pyproject = (gate_repo.path / "pyproject.toml").read_text()
    gate_repo.write("pyproject.toml", pyproject.split("[tool.gatekeeper")[0])
    gate_repo.write(".gatekeeper.yaml", "stages:\n  radon:\n    max_average: 0.5\n")
    result = gate_repo.gate("run", "--stage", "radon")
    assert result.returncode == 2, "a float is not a limit"
    assert "max_average must be a string or an integer" in result.stderr
    gate_repo.write(".gatekeeper.yaml", "stages:\n  radon:\n    max_average: 0\n")
    assert "max_average must be greater than 0" in gate_repo.gate("run").stderr
    gate_repo.write(".gatekeeper.yaml", "stages:\n  radon:\n    max_block: 1\n    max_module: 1\n")
    # Tests are not measured by default: the limits bite on the project's own code.
    gate_repo.write(
        "sample/sign.py",
        "def sign(x: int) -> int:\n    if x < 0:\n        return -1\n    return 1\n",
    )
    result = gate_repo.gate("run", "--stage", "radon", "--format", "json")
    assert result.returncode == 1, result.stderr
    (stage,) = result.json["stages"]
    assert {f["rule"] for f in stage["findings"]} == {"max-block", "max-module"}


def test_zero_config_finds_the_package_and_tests_and_says_what_it_skipped(gate_repo):
    gate_repo.write(
        "calc/__init__.py", '"""Calc."""\n\n\ndef double(x: int) -> int:\n    return "no"\n'
    )
    gate_repo.write(
        "tests/test_calc.py",
        "from calc import double\n\n\ndef test_double() -> None:\n    assert double(2)\n",
    )
    gate_repo.commit("no config at all")
    result = gate_repo.gate("run", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    stages = {s["name"]: s for s in result.json["stages"]}
    assert [(f["path"], f["line"]) for f in stages["mypy"]["findings"]] == [("calc/__init__.py", 5)]
    assert stages["pytest"]["status"] == "passed"
    assert stages["build"]["status"] == "skipped"
    assert stages["build"]["reason"] == "no pyproject.toml, setup.py or setup.cfg: nothing to build"
    text = gate_repo.gate("run")
    assert "- build" in text.stdout
    assert "skipped: no pyproject.toml, setup.py or setup.cfg: nothing to build" in text.stdout
    # test-quality too: a plain run has no base to judge a change against, and says so.
    assert "no base to judge the change against: run with --base REF" in text.stdout
    assert "2 skipped" in text.stdout.splitlines()[-1]


def test_layout_discovery_finds_src_and_flat_packages_and_test_directories(tmp_path):
    for rel in ("src/alpha/__init__.py", "beta/__init__.py", "tests/x.py", "docs/__init__.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    for rel in ("tool.py", "setup.py", "test_top.py"):
        (tmp_path / rel).write_text("")
    layout = discover(tmp_path)
    assert layout.packages == ("src/alpha", "beta")
    assert layout.modules == ("tool.py",)
    assert layout.tests == ("tests",)
