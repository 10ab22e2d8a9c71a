"""`gatekeeper doctor`: what it finds, and a fix line plus a non-zero exit for what is broken."""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _checks(result: Any) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def test_healthy_repository(gate_repo) -> None:
    gate_repo.scaffold()
    result = gate_repo.gate("doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ready: the gate can run" in result.stdout
    assert "pyproject.toml [tool.gatekeeper]" in result.stdout
    checks = _checks(gate_repo.gate("doctor", "--format", "json"))
    ruff = checks["stage ruff"]
    assert ruff["level"] == "ok" and ruff["detail"].startswith("ruff ")
    assert sys.executable in ruff["detail"]  # the interpreter the tool runs under
    assert checks["python"]["detail"].startswith("Python 3.")
    assert checks["pre-push hook"]["level"] == "warn"
    assert checks["pre-push hook"]["fix"] == "run `gatekeeper install`"
    assert checks["state dir"]["level"] == "ok" and ".gatekeeper" in checks["state dir"]["detail"]
    assert checks["ledger"]["detail"].split()[0].endswith("ledger.jsonl")
    assert checks["cache"]["detail"].split()[0].endswith("cache")
    assert checks["baseline"]["level"] == "info"


def test_broken_config_and_baseline_fail_with_fixes(gate_repo) -> None:
    gate_repo.scaffold(commit=False)
    with (gate_repo.path / "pyproject.toml").open("a") as f:
        f.write("\n[tool.gatekeeper]\njbos = 2\n")
    gate_repo.write(".gatekeeper-baseline.json", "{not json")
    result = gate_repo.gate("doctor")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    config = next(i for i, line in enumerate(lines) if "config" in line and "jbos" in line)
    assert lines[config].lstrip().startswith("✗")
    assert "fix: did you mean 'jobs'?" in lines[config + 1]
    baseline = next(i for i, line in enumerate(lines) if "baseline" in line and "✗" in line)
    assert "fix:" in lines[baseline + 1] and "gatekeeper baseline" in lines[baseline + 1]
    assert "2 problems to fix" in result.stdout


def test_hook_detection_honours_core_hooks_path(gate_repo) -> None:
    gate_repo.scaffold()
    hooks = gate_repo.path / "custom-hooks"
    hooks.mkdir()
    gate_repo.git("config", "core.hooksPath", "custom-hooks")
    hook = hooks / "pre-push"
    hook.write_text('#!/bin/sh\nexec gatekeeper hook pre-push "$@"\n')
    not_executable = _checks(gate_repo.gate("doctor", "--format", "json"))["pre-push hook"]
    assert not_executable["level"] == "fail" and not_executable["fix"].startswith("chmod +x")
    os.chmod(hook, 0o755)
    result = gate_repo.gate("doctor", "--format", "json")
    installed = _checks(result)["pre-push hook"]
    assert installed["level"] == "ok" and "custom-hooks/pre-push" in installed["detail"]
    assert result.returncode == 0


def test_missing_tool_and_disabled_stage(gate_repo) -> None:
    gate_repo.scaffold(commit=False)
    with (gate_repo.path / "pyproject.toml").open("a") as f:
        f.write("\n[tool.gatekeeper.stages.radon]\nenabled = false\n")
    gate_repo.commit("radon off")
    checks = _checks(gate_repo.gate("doctor", "--format", "json"))
    assert checks["stage radon"]["level"] == "info" and "off" in checks["stage radon"]["detail"]
    assert checks["config"]["detail"] == "pyproject.toml [tool.gatekeeper]"
    bad = gate_repo.gate("doctor", env={"GIT_DIR": str(gate_repo.path / "nope")})
    assert bad.returncode == 1 and "fix:" in bad.stdout
