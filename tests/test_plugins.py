"""Third-party plugins: a real package, really ``pip install``ed, found through its entry point.

The package is installed with ``--target`` into a temporary directory that only the gate's
processes see (``PYTHONPATH``), so the shared virtualenv is never touched.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gatekeeper import hookspecs
from gatekeeper.testing import GateRepo

PLUGIN_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "gk-demo"
version = "0.1.0"

[project.entry-points.gatekeeper]
demo = "gk_demo_plugin"

[tool.setuptools]
py-modules = ["gk_demo_plugin"]
"""

PLUGIN_MODULE = '''\
"""A stage that finds TODO markers — and, on request, misbehaves."""

import os

import gatekeeper
from gatekeeper import Stage

MODE = os.environ.get("GK_DEMO_MODE", "")


def run(ctx):
    found = []
    for path in ctx.files:
        lines = (ctx.root / path).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if "TODO" in line:
                found.append(ctx.finding("todo", path, number, 0, "TODO left", hint="do it"))
    return found


@gatekeeper.hookimpl
def gatekeeper_register_stages(register):
    if MODE == "duplicate":
        register(Stage(name="ruff", run=run))
    if MODE == "not-a-stage":
        register("todo")
    register(Stage(name="todo", run=run, description="no TODO left behind"))


if MODE == "unknown-hook":

    @gatekeeper.hookimpl
    def gatekeeper_register_stuff(register):
        pass
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo plugin, built and installed by pip into a private directory."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "src").mkdir()
    (root / "src/pyproject.toml").write_text(PLUGIN_PYPROJECT)
    (root / "src/gk_demo_plugin.py").write_text(PLUGIN_MODULE)
    target = root / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(target), str(root / "src")],
        check=True,
    )  # fmt: skip
    assert list(target.glob("gk_demo-0.1.0.dist-info/entry_points.txt"))
    return target


@pytest.fixture
def repo(gate_repo: GateRepo) -> GateRepo:
    gate_repo.scaffold()
    return gate_repo


def test_installed_plugin_stage_runs_and_is_listed_with_its_origin(repo, site):
    env = {"PYTHONPATH": str(site)}
    listed = repo.gate("stages", env=env)
    assert listed.returncode == 0, listed.stderr
    (line,) = [ln for ln in listed.stdout.splitlines() if ln.startswith("todo ")]
    assert "no TODO left behind" in line
    assert "[demo (gk-demo 0.1.0)]" in line
    assert re.search(r"^ruff .*\[gatekeeper_plugins\.ruff\]$", listed.stdout, re.M)

    clean = repo.gate("run", "--stage", "todo", "--format", "json", env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    repo.write("sample/later.py", '"""Later."""\n\n# TODO: write it\n')
    found = repo.gate("run", "--stage", "todo", "--format", "json", env=env)
    assert found.returncode == 1, found.stdout + found.stderr
    (stage,) = found.json["stages"]
    assert [(f["stage"], f["rule"], f["path"], f["line"]) for f in stage["findings"]] == [
        ("todo", "todo", "sample/later.py", 3)
    ]
    # Without the package on the path the stage does not exist.
    assert "unknown stage 'todo'" in repo.gate("run", "--stage", "todo").stderr


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        (
            "duplicate",
            "plugin demo (gk-demo 0.1.0) registered stage 'ruff', which "
            "gatekeeper_plugins.ruff already registered",
        ),
        (
            "not-a-stage",
            "plugin demo (gk-demo 0.1.0) registered 'todo', which is not a gatekeeper.Stage",
        ),
        ("unknown-hook", "gatekeeper_register_stuff"),
    ],
)
def test_a_misbehaving_plugin_is_one_clear_line_naming_it(repo, site, mode, message):
    result = repo.gate("run", env={"PYTHONPATH": str(site), "GK_DEMO_MODE": mode})
    assert result.returncode == 2
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("gatekeeper: error: ")
    assert message in first
    assert "demo" in first
    assert "Traceback" not in result.stderr


def test_every_hookspec_is_documented_in_the_readme():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing a plugin", 1)[1].split("\n## ", 1)[0]
    specs = [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "gatekeeper_spec")
    ]
    assert specs, "no hookspecs found"
    missing = [name for name in specs if name not in section]
    assert not missing, f"hooks missing from the README's plugin section: {missing}"
