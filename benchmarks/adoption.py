"""Adoption on real projects: zero config, no baseline file, hold the line by default.

    python benchmarks/adoption.py [--project NAME ...] [--workdir DIR]

Each project's sdist is set up as :mod:`bench` does it (a git repository and a virtualenv
with the project, its test needs, the tools and ``build``); ``main`` is pushed to a bare
``origin``. Every scenario is a branch off ``main`` with one change, checked by a plain
``gatekeeper run --format json`` (no configuration, no ``.gatekeeper-baseline.json``):

- ``clean``: a new typed function in the project's package and a passing test for it: exit 0
  expected, whatever findings the project already has (they are ``existing``);
- one defect kind each, on top of the clean change: a type error, a lint error, format
  drift, a too complex new function, a failing test, a broken build: exit 1 expected, with a
  new finding of that kind's stage.

It prints a markdown table (for the README and the closing note). ``build`` runs in the
``clean`` and ``broken build`` scenarios only (it pays for an isolated build each time).
Not part of the test suite: it needs PyPI and takes minutes.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench

#: project -> (package directory for the new module (import path), tests directory,
#: test requirements). "" means the repository root.
LAYOUT: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "click": ("src/click", "tests", ()),
    "six": ("", "", ()),
    "toolz": ("toolz", "toolz/tests", ()),
    "packaging": ("src/packaging", "tests", ("pretend", "tomli_w")),
    "attrs": ("src/attr", "tests", ("hypothesis", "pympler", "cloudpickle")),
}
NEW = "hl_feature"


def _import_path(package: str) -> str:
    parts = [p for p in package.split("/") if p and p != "src"]
    return ".".join([*parts, NEW])


def clean_change(project: str) -> dict[str, str]:
    package, tests, _ = LAYOUT[project]
    module = '"""A clean change."""\n\n\ndef triple(x: int) -> int:\n    return 3 * x\n'
    test = (
        f"from {_import_path(package)} import triple\n\n\n"
        "def test_triple() -> None:\n    assert triple(2) == 6\n"
    )
    return {
        "/".join(filter(None, (package, f"{NEW}.py"))): module,
        "/".join(filter(None, (tests, f"test_{NEW}.py"))): test,
    }


def _module(project: str) -> str:
    return "/".join(filter(None, (LAYOUT[project][0], f"{NEW}.py")))


def _append(extra: str) -> Callable[[Path, str], None]:
    def apply(root: Path, project: str) -> None:
        path = root / _module(project)
        path.write_text(path.read_text() + extra)

    return apply


def _lint(root: Path, project: str) -> None:
    path = root / _module(project)
    path.write_text(path.read_text().replace('"""\n', '"""\n\nimport os\n', 1))


def _failing_test(root: Path, project: str) -> None:
    tests = LAYOUT[project][1]
    path = root / "/".join(filter(None, (tests, f"test_{NEW}.py")))
    path.write_text(
        path.read_text() + "\n\ndef test_triple_wrong() -> None:\n    assert 1 + 1 == 3\n"
    )


def _broken_build(root: Path, project: str) -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text() if pyproject.is_file() else ""
    if "build-backend" in text:
        broken = re.sub(r'build-backend\s*=\s*"[^"]*"', 'build-backend = "no_such_backend"', text)
        pyproject.write_text(broken)
    else:
        setup = root / "setup.py"
        setup.write_text(setup.read_text() + '\nraise SystemExit("broken build")\n')


_BRANCHES = "\n".join(f"    if n == {i}:\n        total += {i}" for i in range(25))

#: defect -> (how to inject it, the stage whose new finding must say so)
DEFECTS: dict[str, tuple[Callable[[Path, str], None], str]] = {
    "type error": (_append('\n\ndef wrong() -> int:\n    return "x"\n'), "mypy"),
    "lint error": (_lint, "ruff"),
    "format drift": (_append("\n\ndef drift(x:int)->int:\n    return  x\n"), "ruff-format"),
    "too complex": (
        _append(f"\n\ndef tangled(n: int) -> int:\n    total = 0\n{_BRANCHES}\n    return total\n"),
        "radon",
    ),
    "failing test": (_failing_test, "pytest"),
    "broken build": (_broken_build, "build"),
}


@dataclass(frozen=True)
class Outcome:
    """One scenario's result."""

    code: int
    new: tuple[str, ...]
    existing: int
    base: str
    errors: tuple[str, ...]

    def cell(self, expected_code: int, stage: str | None) -> str:
        found = stage is None or any(n.startswith(f"{stage}[") for n in self.new)
        ok = self.code == expected_code and found
        what = ", ".join(sorted(set(self.new))) if self.new else "no new finding"
        if self.errors:
            what += f"; could not run: {', '.join(self.errors)}"
        return f"{'✓' if ok else '✗'} exit {self.code} ({what})"


def run_gate(p: bench.Project, with_build: bool) -> Outcome:
    skip = [] if with_build else ["--skip", "build"]
    argv = [str(bench.GATE_PYTHON), "-m", "gatekeeper", "run", "--format", "json", *skip]
    done = subprocess.run(argv, cwd=p.root, env=p.env, capture_output=True, text=True)
    try:
        data = json.loads(done.stdout)
    except ValueError:
        return Outcome(done.returncode, (), 0, "", (done.stderr.strip()[-200:],))
    new = tuple(
        f"{f['stage']}[{f['rule']}]"
        for s in data["stages"]
        for f in s["findings"]
        if not f.get("existing") and not f.get("baselined") and f["severity"] == "error"
    )
    errors = tuple(s["name"] for s in data["stages"] if s["status"] == "error")
    base = data.get("base") or {}
    return Outcome(
        done.returncode, new, int(base.get("existing", 0)), base.get("source", ""), errors
    )


def scenario(p: bench.Project, name: str, defect: Callable[[Path, str], None] | None) -> Outcome:
    env = p.env
    bench.sh(
        ["git", "checkout", "-q", "-f", "-B", f"adopt-{name.replace(' ', '-')}", "main"],
        p.root,
        env,
    )
    for rel, text in clean_change(p.name).items():
        (p.root / rel).write_text(text)
    if defect is not None:
        defect(p.root, p.name)
    bench.sh(["git", "add", "--all"], p.root, env)
    bench.sh(["git", "commit", "-q", "-m", name], p.root, env)
    return run_gate(p, with_build=name in ("clean", "broken build"))


def prepare(name: str, workdir: Path) -> bench.Project:
    _, _, needs = LAYOUT[name]
    if name not in bench.PROJECTS:
        bench.PROJECTS[name] = (name, (), "", ())
    dist, extras, edit, _ = bench.PROJECTS[name]
    # radon is not left out here: the adoption table is about every default stage.
    bench.PROJECTS[name] = (dist, (*extras, *needs, "build"), edit, ())
    p = bench.setup(name, workdir)
    missing = [n for n in (*needs, "build") if not _has(p.python, n)]
    if missing:
        bench.sh([p.python, "-m", "pip", "install", "-q", *missing], p.root)
    origin = p.root.parent / "origin.git"
    if not origin.is_dir():
        bench.sh(["git", "init", "-q", "--bare", origin], p.root.parent)
        bench.sh(["git", "remote", "add", "origin", origin], p.root)
    bench.sh(["git", "checkout", "-q", "-f", "main"], p.root, p.env)
    bench.sh(["git", "push", "-q", "-f", "origin", "main"], p.root, p.env)
    return p


def _has(python: Path, module: str) -> bool:
    probe = subprocess.run([python, "-m", "pip", "show", "-q", module], capture_output=True)
    return probe.returncode == 0


def table(rows: dict[str, dict[str, Outcome]]) -> str:
    kinds = ["clean", *DEFECTS]
    out = [
        "| project | existing at the base | " + " | ".join(kinds) + " |",
        "|---|---:|" + "---|" * len(kinds),
    ]
    for project, outcomes in rows.items():
        cells = [outcomes["clean"].cell(0, None)]
        cells += [outcomes[k].cell(1, DEFECTS[k][1]) for k in DEFECTS]
        out.append(f"| {project} | {outcomes['clean'].existing} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", action="append", choices=sorted(LAYOUT))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gatekeeper-adoption"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench.GATE_PYTHON = bench.install_gatekeeper(args.workdir)
    rows: dict[str, dict[str, Outcome]] = {}
    for name in args.project or list(LAYOUT):
        p = prepare(name, args.workdir)
        outcomes = {"clean": scenario(p, "clean", None)}
        for kind, (inject, _) in DEFECTS.items():
            outcomes[kind] = scenario(p, kind, inject)
            print(f"[{name}] {kind}: {outcomes[kind]}", file=sys.stderr, flush=True)
        rows[name] = outcomes
        print(f"[{name}] clean: {outcomes['clean']}", file=sys.stderr, flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
