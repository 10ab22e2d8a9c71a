"""The three built-in reports on real runs: json (schema), text (colour, grouping) and agent
(folding, the size cap and its exact left-out line), and that reports are deterministic."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from gatekeeper.testing import GateRepo

SCHEMA = json.loads(
    resources.files("gatekeeper").joinpath("schemas/report-v1.json").read_text(encoding="utf-8")
)


def validate(report: dict) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(report)


@pytest.fixture
def repo(gate_repo: GateRepo) -> GateRepo:
    gate_repo.scaffold()
    return gate_repo


def test_json_report_validates_for_passed_failed_error_and_skipped_stages(repo):
    clean = repo.gate("run", "--stage", "ruff", "--stage", "mypy", "--format", "json")
    assert clean.returncode == 0, clean.stderr
    validate(clean.json)
    repo.write("sample/lint.py", '"""Lint."""\n\nimport os\n')
    repo.git("rm", "-q", "tests/test_sample.py")
    mixed = repo.gate(
        "run", *("--stage", "ruff", "--stage", "mypy", "--stage", "pytest", "--stage", "radon"),
        *("--skip", "radon", "--format", "json"),
    )  # fmt: skip
    assert mixed.returncode == 2, mixed.stderr
    validate(mixed.json)
    statuses = {s["name"]: s["status"] for s in mixed.json["stages"]}
    assert statuses == {"ruff": "failed", "mypy": "passed", "pytest": "error", "radon": "skipped"}
    assert mixed.json["verdict"] == "error"


def test_schema_rejects_a_report_that_fails_open(repo):
    report = repo.gate("run", "--stage", "ruff", "--format", "json").json
    report["stages"][0]["status"] = "error"
    report["stages"][0]["reason"] = "crashed"
    with pytest.raises(jsonschema.ValidationError):
        validate(report)  # an error stage under a "passed" verdict
    report["verdict"] = "error"
    validate(report)
    del report["stages"][0]["findings"]
    with pytest.raises(jsonschema.ValidationError):
        validate(report)


def run_on_tty(repo: GateRepo, *args: str, env: dict[str, str]) -> str:
    """Run the gate with stdout on a pseudo-terminal; returns what it printed there."""
    main, replica = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatekeeper", *args],
        cwd=repo.path,
        env={**repo.env, **env},
        stdin=subprocess.DEVNULL,
        stdout=replica,
        stderr=subprocess.DEVNULL,
    )
    os.close(replica)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the other end closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode()


UNDEFINED = '"""Undefined names."""\n\nprint(aa)\nprint(bb)\nprint(cc)\n'


def test_text_report_colour_only_on_a_terminal_and_never_with_no_color(repo):
    repo.write("sample/names.py", UNDEFINED)
    args = ("run", "--stage", "ruff")
    assert "\x1b[" in run_on_tty(repo, *args, env={"NO_COLOR": ""})
    assert "\x1b[" not in run_on_tty(repo, *args, env={"NO_COLOR": "1"})
    piped = repo.gate(*args, env={"NO_COLOR": ""})
    assert piped.returncode == 1
    assert "\x1b[" not in piped.stdout + piped.stderr


def test_text_report_groups_by_file_and_shows_a_hint_once_per_rule(repo):
    repo.write("sample/names.py", UNDEFINED)
    repo.write("sample/more.py", '"""More."""\n\nprint(aa)\n')
    result = repo.gate("run", "--stage", "ruff", "--stage", "radon")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(re.match(r"  ✓ radon +\d+\.\d\ds$", ln) for ln in lines)
    assert any(re.match(r"  ✗ ruff +\d+\.\d\ds  4 findings$", ln) for ln in lines)
    names = lines.index("sample/names.py")
    assert lines.index("sample/more.py") < names  # files sorted
    block = lines[names + 1 : names + 5]
    assert [ln.split()[0] for ln in block if not ln.startswith("           ")] == [
        "3:7",
        "4:7",
        "5:7",
    ]
    assert sum("hint: see https://docs.astral.sh/ruff/rules/undefined-name" in ln
               for ln in lines[names:]) == 1  # fmt: skip
    assert re.match(r"FAILED  1 passed · 4 findings in ruff · \d+\.\d\ds · tree \w{10}$", lines[-1])


def many_findings(repo: GateRepo) -> None:
    """Six identical findings in one file, and 150 distinct ones over 30 files."""
    repo.write("sample/a_same.py", '"""Same."""\n\nx = 1\n' + "assert x is 1\n" * 6)
    for n in range(30):
        imports = "".join(f"import mod{n}_{i}\n" for i in range(5))
        repo.write(f"sample/m{n:02d}.py", f'"""M."""\n\n{imports}')
    repo.commit("many findings")


def test_agent_report_folds_identical_findings_and_caps_with_an_exact_left_out_line(repo):
    many_findings(repo)
    everything = repo.gate("run", "--stage", "ruff", "--format", "json").json
    (stage,) = everything["stages"]
    assert len(stage["findings"]) == 156
    result = repo.gate("run", "--stage", "ruff", "--format", "agent", "--max-report-chars", "3000")
    assert result.returncode == 1
    report = result.stdout
    assert len(report) <= 3000
    assert report.startswith("# gatekeeper: FAILED — 156 findings in 31 files\n")
    assert (
        "- `sample/a_same.py:4:8` ruff `F632` ×6 (lines 4, 5, 6, 7, 8, 9): Use `==` to compare "
        "constant literals — fix: Replace `is` with `==` (`ruff check --fix` applies it) "
        "(autofixable)\n"
    ) in report
    items = re.findall(r"^- `([^`:]+):(\d+):\d+` ruff `(\w+)`( ×(\d+))?", report, re.M)
    shown = [(path, int(line)) for path, line, _rule, _x, _n in items]
    shown_count = sum(int(n) if n else 1 for *_rest, n in items)
    left = [
        f for f in stage["findings"] if (f["path"], f["line"]) not in shown and f["rule"] == "F401"
    ]
    (line,) = [ln for ln in report.splitlines() if ln.startswith("_Left out")]
    left_files = len({f["path"] for f in left})
    assert line == (
        f"_Left out to stay under 3000 characters: {len(left)} findings in {left_files} files "
        f"(ruff F401 ×{len(left)}). Fix the ones above first, or run "
        "`gatekeeper run --format json` for the full list._"
    )
    assert shown_count + len(left) == 156
    # Raising the cap shows everything and drops the left-out line.
    full = repo.gate("run", "--stage", "ruff", "--format", "agent", "--max-report-chars", "100000")
    assert "_Left out" not in full.stdout
    assert full.stdout.count("\n- `") == 151


def test_agent_report_names_stages_that_could_not_run(repo):
    repo.git("rm", "-q", "tests/test_sample.py")
    result = repo.gate("run", "--stage", "pytest", "--format", "agent")
    assert result.returncode == 2
    assert result.stdout.startswith("# gatekeeper: ERROR — 1 stage could not run\n")
    assert "## Stages that could not run\n- **pytest**: pytest collected no tests (exit 5)" in (
        result.stdout
    )


def _stable(text: str) -> str:
    text = re.sub(r"\d+\.\d+s", "#s", text)
    return re.sub(r'"(duration_s|started_at)": [^,\n]+', r'"\1": #', text)


@pytest.mark.parametrize("fmt", ["json", "text", "agent"])
def test_reports_are_deterministic_apart_from_timings(repo, fmt):
    repo.write("sample/names.py", UNDEFINED)
    repo.write("sample/types.py", '"""T."""\n\n\ndef f() -> int:\n    return "x"\n')
    args = ("run", "--no-cache", "--stage", "ruff", "--stage", "mypy", "--stage", "radon")
    args += ("--format", fmt)
    first, second = repo.gate(*args), repo.gate(*args)
    assert first.returncode == second.returncode == 1
    assert _stable(first.stdout) == _stable(second.stdout)
