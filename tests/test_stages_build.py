"""The ``build`` stage with the real ``build`` package and setuptools (no isolation, no network)."""

from __future__ import annotations


def test_buildable_project_passes_and_leaves_no_artifacts(gate_repo):
    gate_repo.scaffold()
    result = gate_repo.gate("run", "--stage", "build", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    (stage,) = result.json["stages"]
    assert (stage["name"], stage["status"]) == ("build", "passed")
    # The build ran on a copy: no build/, dist/ or egg-info in the working tree (only the
    # gate's own self-ignoring state directory).
    status = gate_repo.git("status", "--porcelain", "--ignored").splitlines()
    assert status == ["!! .gatekeeper/"]


def test_broken_build_is_a_finding_with_the_backends_error(gate_repo):
    gate_repo.scaffold()
    pyproject = gate_repo.path / "pyproject.toml"
    gate_repo.write(
        "pyproject.toml",
        pyproject.read_text().replace('packages = ["sample"]', 'packages = ["sample", "missing"]'),
    )
    result = gate_repo.gate("run", "--stage", "build", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    (stage,) = result.json["stages"]
    (finding,) = stage["findings"]
    assert (finding["stage"], finding["rule"], finding["path"]) == (
        "build",
        "build-failed",
        "pyproject.toml",
    )
    assert "package directory 'missing' does not exist" in finding["message"]
