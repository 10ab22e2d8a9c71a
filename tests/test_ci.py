"""`gatekeeper ci`: CI detection, the change under review, annotations and the step summary."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from gatekeeper.ci import detect
from gatekeeper.models import Finding, RunResult, StageResult
from gatekeeper.reports.summary import render_summary


def _pr_repo(gate_repo) -> tuple[str, str]:
    """main has an old defect; the feature branch adds a new one. Returns (base, head)."""
    gate_repo.scaffold(commit=False)
    gate_repo.write("sample/legacy.py", "import os\n")
    base = gate_repo.commit("main with an old defect")
    gate_repo.git("checkout", "--quiet", "-b", "feature")
    gate_repo.write("sample/feature.py", "import json\n")
    head = gate_repo.commit("feature with a new defect")
    return base, head


def _github_env(tmp_path: Path, event: dict[str, object], name: str) -> dict[str, str]:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    summary = tmp_path / "summary.md"
    summary.write_text("output of an earlier step\n", encoding="utf-8")
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_BASE_REF": "main" if name == "pull_request" else "",
    }


def test_github_pull_request(gate_repo, tmp_path: Path) -> None:
    base, _ = _pr_repo(gate_repo)
    env = _github_env(tmp_path, {"pull_request": {"base": {"sha": base}}}, "pull_request")
    sarif, junit = tmp_path / "out" / "gate.sarif", tmp_path / "out" / "gate.xml"
    result = gate_repo.gate(
        "ci", "--stage", "ruff", "--sarif", str(sarif), "--junit", str(junit), env=env
    )
    assert result.returncode == 1, result.stderr
    assert "GitHub Actions" in result.stderr and f"pull request base {base[:10]}" in result.stderr
    annotations = [x for x in result.stdout.splitlines() if x.startswith("::")]
    assert annotations == [
        x for x in annotations if x.startswith("::error file=sample/feature.py,line=1,col=8,")
    ]
    assert len(annotations) == 1  # the old defect on main is not part of the change
    assert "sample/feature.py" in result.stdout  # the text report for the log

    _check_summary(Path(env["GITHUB_STEP_SUMMARY"]), base)
    doc = json.loads(sarif.read_text(encoding="utf-8"))
    # ci with a base is a guarded trigger: the tamper guard has a run of its own (clean here).
    (run,) = [r for r in doc["runs"] if r["tool"]["driver"]["name"] == "ruff"]
    assert [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    ] == ["sample/feature.py"]
    assert ET.parse(junit).getroot().get("failures") == "1"


def _check_summary(path: Path, base: str) -> None:
    summary = path.read_text(encoding="utf-8")
    assert summary.startswith("output of an earlier step\n")  # appended, not overwritten
    assert "## gatekeeper: ❌ failed" in summary
    assert "| stage | status | new | existing | baselined | duration |" in summary
    assert "| ruff | ❌ failed | 1 | 0 | 0 |" in summary
    assert "`sample/feature.py:1:8` | `F401` |" in summary
    assert f"changes since the pull request base {base[:10]}" in summary


def test_github_push_checks_the_whole_tree_with_a_baseline(gate_repo, tmp_path: Path) -> None:
    _pr_repo(gate_repo)
    assert gate_repo.gate("baseline", "--stage", "ruff").returncode == 0
    gate_repo.write("sample/late.py", "import sys\n")
    gate_repo.commit("baseline, then a new defect")  # CI checks out a commit
    env = _github_env(tmp_path, {"before": "0" * 40}, "push")
    result = gate_repo.gate("ci", "--stage", "ruff", env=env)
    assert result.returncode == 1
    assert "whole tree" in result.stderr
    annotations = [x for x in result.stdout.splitlines() if x.startswith("::error")]
    assert len(annotations) == 1 and "file=sample/late.py" in annotations[0]
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "| ruff | ❌ failed | 1 | 0 | 2 |" in summary
    assert "1 new finding · 2 baselined" in summary


def test_gitlab_merge_request_without_annotations(gate_repo) -> None:
    base, _ = _pr_repo(gate_repo)
    env = {"GITLAB_CI": "true", "CI": "true", "CI_MERGE_REQUEST_DIFF_BASE_SHA": base}
    result = gate_repo.gate("ci", "--stage", "ruff", "--format", "json", env=env)
    assert result.returncode == 1
    assert "GitLab CI" in result.stderr and "CI_MERGE_REQUEST_DIFF_BASE_SHA" in result.stderr
    (stage,) = [s for s in result.json["stages"] if s["name"] == "ruff"]
    assert [f["path"] for f in stage["findings"]] == ["sample/feature.py"]
    assert all(not s["findings"] for s in result.json["stages"] if s["name"] != "ruff")
    assert result.json["trigger"] == "ci"


def test_detect(gate_repo, tmp_path: Path) -> None:
    base, head = _pr_repo(gate_repo)
    root = gate_repo.path
    assert detect(root, {}).system == "local"
    generic = detect(root, {"CI": "true"})
    assert (generic.system, generic.base) == ("generic", None)
    assert detect(root, {"CI": "true"}, base="main").base == "main"
    by_ref = detect(root, {"GITHUB_ACTIONS": "true", "GITHUB_BASE_REF": "main"})
    assert by_ref.base == base and "GITHUB_BASE_REF=main" in by_ref.why
    event = tmp_path / "e.json"
    event.write_text(json.dumps({"pull_request": {"base": {"sha": "f" * 40}}}))
    missing = detect(root, {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(event)})
    assert missing.base is None and missing.warning and "fetch-depth: 0" in missing.warning
    queue = tmp_path / "q.json"
    queue.write_text(json.dumps({"merge_group": {"base_sha": base, "head_sha": head}}))
    merge = detect(root, {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(queue)})
    assert merge.base == base and "merge queue" in merge.why
    mr = detect(root, {"GITLAB_CI": "true"})
    assert (mr.system, mr.base) == ("gitlab", None)


def test_summary_caps_findings_and_shows_errors() -> None:
    findings = tuple(
        Finding("ruff", "ruff", "E1", "a|b.py", i, 1, f"bad <{i}>", fingerprint=str(i))
        for i in range(1, 14)
    )
    run = RunResult(
        "error",
        "t" * 40,
        3.0,
        (
            StageResult("ruff", "failed", 1.0, findings=findings),
            StageResult("pytest", "error", 2.0, reason="zero tests ran\n```oops```"),
            StageResult("build", "skipped", reason="not installed"),
        ),
    )
    text = render_summary(run, scope="whole tree")
    assert "## gatekeeper: ⚠️ error" in text
    assert "| ruff | ❌ failed | 13 | 0 | 0 | 1.00s |" in text
    assert "| build | ⏭️ skipped (not installed) | – | – | – |" in text
    assert "`a\\|b.py:1:1`" in text and "bad &lt;1&gt;" in text
    assert "…and 3 more" in text
    assert "### ⚠️ pytest could not run" in text and "````text" in text


def test_could_not_run_is_on_the_page_too(gate_repo, tmp_path: Path) -> None:
    gate_repo.scaffold(commit=False)
    with (gate_repo.path / "pyproject.toml").open("a") as f:
        f.write("\n[tool.gatekeeper]\ntimout = 5\n")
    gate_repo.commit("typo in the config")
    env = _github_env(tmp_path, {}, "push")
    result = gate_repo.gate("ci", "--stage", "ruff", env=env)
    assert result.returncode == 2
    assert "timout" in result.stderr
    assert result.stdout.startswith("::error title=gatekeeper could not run::")
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "## gatekeeper: ⚠️ could not run" in summary and "timeout" in summary


def test_action_is_a_composite_that_runs_ci_and_uploads_sarif_optionally() -> None:
    import subprocess

    import yaml

    action = yaml.safe_load((Path(__file__).parent.parent / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["upload-sarif"]["default"] == "true"
    steps = action["runs"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    upload = next(
        s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")
    )
    assert "inputs.upload-sarif == 'true'" in upload["if"] and "always()" in upload["if"]
    scripts = [s["run"] for s in steps if "run" in s]
    assert any("gatekeeper ci --sarif" in script for script in scripts)
    assert all("shell" in s for s in steps if "run" in s)
    for script in scripts:
        checked = subprocess.run(["bash", "-n", "-c", script], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    assert steps[-1]["if"] == "always()"  # the verdict is applied after the upload


def test_unwritable_summary(gate_repo, tmp_path: Path) -> None:
    gate_repo.scaffold()
    runner = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path)}  # a directory
    implicit = gate_repo.gate("ci", "--stage", "ruff", env=runner)
    assert implicit.returncode == 0  # the verdict stands
    assert "warning: no job summary" in implicit.stderr
    asked = gate_repo.gate("ci", "--stage", "ruff", "--summary", str(tmp_path / "no" / "s.md"))
    assert asked.returncode == 2
    assert "cannot append the summary" in asked.stderr


def test_action_gate_and_verdict_steps_run_for_real(gate_repo, tmp_path: Path) -> None:
    import subprocess
    import sys

    import yaml

    action = yaml.safe_load((Path(__file__).parent.parent / "action.yml").read_text())
    steps = {s["name"]: s for s in action["runs"]["steps"]}
    _pr_repo(gate_repo)
    outputs = tmp_path / "github_output"
    env = {
        **gate_repo.env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GK_ARGS": "--stage ruff --no-cache",
        "GK_SARIF": "gatekeeper.sarif",
        "GITHUB_OUTPUT": str(outputs),
    }
    gate = subprocess.run(
        ["bash", "-c", steps["gatekeeper ci"]["run"]],
        cwd=gate_repo.path,
        env=env,
        text=True,
        capture_output=True,
    )
    assert gate.returncode == 0, gate.stderr  # the verdict waits for the upload
    written = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert written["exit-code"] == "1"
    assert Path(written["sarif-file"]).is_file()
    verdict = steps["Verdict"]["run"]
    for code, expected in (("0", 0), ("1", 1), ("2", 2), ("", 2)):
        done = subprocess.run(
            ["bash", "-c", verdict], env={**env, "GK_CODE": code}, text=True, capture_output=True
        )
        assert done.returncode == expected, (code, done.stdout)
