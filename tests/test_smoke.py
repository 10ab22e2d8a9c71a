"""End-to-end smoke test: a clean project passes, a type error fails, in a real git repo."""

from __future__ import annotations


def test_clean_project_passes(gate_repo):
    gate_repo.scaffold()
    result = gate_repo.gate("run", "--format", "json", "--skip", "build")
    assert result.returncode == 0, result.stdout + result.stderr
    report = result.json
    assert report["verdict"] == "passed"
    statuses = {s["name"]: s["status"] for s in report["stages"]}
    for name in ("ruff", "ruff-format", "mypy", "radon", "pytest"):
        assert statuses[name] == "passed", name
    assert statuses["build"] == "skipped"
    assert {"ruff", "mypy", "radon", "pytest"} <= set(report["tools"])


def test_type_error_fails_with_location(gate_repo):
    gate_repo.scaffold()
    gate_repo.write("sample/bad.py", 'def f() -> int:\n    return "x"\n')
    result = gate_repo.gate("run", "--stage", "mypy", "--format", "json")
    assert result.returncode == 1
    (stage,) = result.json["stages"]
    assert (stage["status"], stage["tool_version"] is not None) == ("failed", True)
    (finding,) = stage["findings"]
    assert (finding["stage"], finding["path"], finding["line"], finding["rule"]) == (
        "mypy",
        "sample/bad.py",
        2,
        "return-value",
    )
