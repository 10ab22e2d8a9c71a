"""The three built-in reports on real runs: json (schema), text (colour, grouping) and agent
(folding, the size cap and its exact left-out line), and that reports are deterministic."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
from importlib import resources
from typing import Any

import jsonschema
import pytest

from gatekeeper.models import StageResult
from gatekeeper.progress import Progress
from gatekeeper.testing import GateRepo

SCHEMA = json.loads(
    resources.files("gatekeeper").joinpath("schemas/report-v1.json").read_text(encoding="utf-8")
)


def validate(report: dict[str, Any]) -> None:
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
    """Run the gate with stdout and stderr on a pseudo-terminal; returns what it printed."""
    main, replica = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gatekeeper", *args],
        cwd=repo.path,
        env={**repo.env, **env},
        stdin=subprocess.DEVNULL,
        stdout=replica,
        stderr=replica,
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
    shown = run_on_tty(repo, *args, env={"NO_COLOR": ""})
    assert "\x1b[31m✗\x1b[0m ruff" in shown
    # The live display drew the stage line on stderr; the report does not repeat it.
    assert shown.count("✗\x1b[0m ruff") == 1
    plain = run_on_tty(repo, *args, env={"NO_COLOR": "1"})
    assert "\x1b[3" not in plain
    assert "✗ ruff" in plain
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
    summary = r"FAILED  1 passed · 4 findings in ruff · \d+\.\d\ds · tree \w{10}"
    assert re.match(summary + r"( \(HEAD \w{10}\))?$", lines[-1])


def many_findings(repo: GateRepo) -> None:
    """Six identical findings in one file, and 150 distinct ones over 30 files."""
    repo.write("sample/a_same.py", '"""Same."""\n\nx = 1\n' + "assert x is 1\n" * 6)
    for n in range(30):
        imports = "".join(f"import mod{n}_{i}\n" for i in range(5))
        repo.write(f"sample/m{n:02d}.py", f'"""M."""\n\n{imports}')
    repo.commit("many findings")


def shown_items(report: str) -> set[tuple[str, int]]:
    """Every finding location the agent report's items stand for (folded lines included)."""
    shown = set()
    pattern = r"^- `([^`:]+):(\d+):\d+` ruff `\w+`(?: ×\d+ \(lines ([\d, ]+)\))?"
    for path, line, folded in re.findall(pattern, report, re.M):
        shown |= {(path, int(n)) for n in (folded.split(", ") if folded else [line])}
    return shown


def left_out_line(report: str) -> str:
    (line,) = [ln for ln in report.splitlines() if ln.startswith("_Left out")]
    return line


def test_agent_report_folds_identical_findings_and_caps_with_an_exact_left_out_line(repo):
    many_findings(repo)
    (stage,) = repo.gate("run", "--stage", "ruff", "--format", "json").json["stages"]
    assert len(stage["findings"]) == 156
    result = repo.gate("run", "--stage", "ruff", "--format", "agent", "--max-report-chars", "3000")
    assert (result.returncode, len(result.stdout) <= 3000) == (1, True)
    report = result.stdout
    assert report.startswith("# gatekeeper: FAILED — 156 findings in 31 files\n")
    assert (
        "- `sample/a_same.py:4:8` ruff `F632` ×6 (lines 4, 5, 6, 7, 8, 9): Use `==` to compare "
        "constant literals — fix: Replace `is` with `==` (`ruff check --fix` applies it) "
        "(autofixable)\n"
    ) in report
    shown = shown_items(report)
    left = [f for f in stage["findings"] if (f["path"], f["line"]) not in shown]
    assert len(shown) + len(left) == 156
    assert left_out_line(report) == (
        f"_Left out to stay under 3000 characters: {len(left)} findings in "
        f"{len({f['path'] for f in left})} files (ruff F401 ×{len(left)}). Fix the ones above "
        "first, or run `gatekeeper run --format json` for the full list._"
    )
    # Raising the cap shows everything and drops the left-out line.
    full = repo.gate("run", "--stage", "ruff", "--format", "agent", "--max-report-chars", "100000")
    assert "_Left out" not in full.stdout
    assert len(shown_items(full.stdout)) == 156


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


def test_reports_are_deterministic_apart_from_timings(repo):
    repo.write("sample/names.py", UNDEFINED)
    repo.write("sample/complex.py", '"""C."""\n\n\ndef f(x):\n' + "    if x:\n        x += 1\n" * 8)
    args = ("run", "--no-cache", "--stage", "ruff", "--stage", "radon", "--format")
    for fmt in ("json", "text", "agent"):
        first, second = repo.gate(*args, fmt), repo.gate(*args, fmt)
        assert first.returncode == second.returncode == 1
        assert _stable(first.stdout) == _stable(second.stdout)


def test_progress_lists_finished_stages_above_a_line_of_running_ones():
    stream = io.StringIO()
    progress = Progress(stream=stream, color=False)
    progress("mypy", None)
    progress("ruff", None)
    progress("ruff", StageResult("ruff", "passed", 0.25))
    progress.close()
    out = stream.getvalue()
    assert "  … running: mypy 0s" in out
    assert "  ✓ ruff             0.25s\n" in out
    assert out.endswith("\r\x1b[K")
