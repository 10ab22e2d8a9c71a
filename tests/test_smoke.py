"""End-to-end smoke test: a clean project passes, a type error fails, in a real git repo."""

from __future__ import annotations


def test_clean_project_passes(gate_repo):
    gate_repo.scaffold()
    result = gate_repo.gate("run", "--format", "json", "--skip", "build")
    assert result.returncode == 0, result.stdout + result.stderr
    report = result.json
    assert report["verdict"] == "passed"
    statuses = {s["name"]: s["status"] for s in report["stages"]}
    assert statuses["mypy"] == "passed"
    assert statuses["pytest"] == "passed"


def test_type_error_fails_with_location(gate_repo):
    gate_repo.scaffold()
    gate_repo.write("sample/bad.py", 'def f() -> int:\n    return "x"\n')
    result = gate_repo.gate("run", "--stage", "mypy", "--format", "json")
    assert result.returncode == 1
    (finding,) = result.json["stages"][0]["findings"]
    assert (finding["path"], finding["line"], finding["rule"]) == (
        "sample/bad.py",
        2,
        "return-value",
    )
