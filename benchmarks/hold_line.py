"""What judging the change costs: hold the line against a plain whole-tree run, on real projects.

    python benchmarks/hold_line.py [--runs N] [--project NAME ...] [--workdir DIR]

Each project is set up as :mod:`bench` does it (sdist from PyPI, a git repository, a
virtualenv with the project and the tools), with zero config and no baseline file; ``main``
is pushed to a bare ``origin`` so the base of a branch is its merge-base with ``origin/main``.
Two branches carry a small clean change each (a new typed function and its test). Per round:

- (a) **first run on a new base**: the state directory removed (no stage results, no tool
  caches, no stored base): ``gatekeeper run`` on branch A pays for the base and the change;
- (b) **second change on the same base**: branch B, stage results removed, the stored base
  and the tool caches kept (as after any earlier run from that base);
- (c) **plain ``--all`` run**, the whole tree with no base: once under (a)'s conditions
  (``c cold``: state removed) and once under (b)'s (``c warm``: stage results removed).

Targets (issue 13): (b) within 10% of (c warm); (a) at most 2 x (c cold). Medians are
printed side by side. The ``build`` stage is left out as in :mod:`bench`. Not part of the
test suite: it needs PyPI and takes minutes.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench

CHANGES = {
    "a": ("hl_change_a", 2),
    "b": ("hl_change_b", 3),
}


def _change(layout: tuple[str, str, str], name: str, factor: int) -> dict[str, str]:
    package_dir, package, tests = layout
    module = f'"""A clean change."""\n\n\ndef {name}(x: int) -> int:\n    return {factor} * x\n'
    test = (
        f"from {package}.{name} import {name}\n\n\n"
        f"def test_{name}() -> None:\n    assert {name}(2) == {2 * factor}\n"
    )
    return {f"{package_dir}/{name}.py": module, f"{tests}/test_{name}.py": test}


def prepare(p: bench.Project, layout: tuple[str, str, str]) -> None:
    """``origin`` with ``main``; branches ``hl-a`` and ``hl-b`` each with one clean change."""
    root, env = p.root, p.env
    origin = root.parent / "origin.git"
    if not origin.is_dir():
        bench.sh(["git", "init", "-q", "--bare", origin], cwd=root.parent, env=env)
        bench.sh(["git", "remote", "add", "origin", origin], cwd=root, env=env)
    bench.sh(["git", "checkout", "-q", "main"], cwd=root, env=env)
    bench.sh(["git", "push", "-q", "-f", "origin", "main"], cwd=root, env=env)
    for key, (name, factor) in CHANGES.items():
        bench.sh(["git", "checkout", "-q", "-B", f"hl-{key}", "main"], cwd=root, env=env)
        for rel, text in _change(layout, name, factor).items():
            (root / rel).write_text(text)
        bench.sh(["git", "add", "--all"], cwd=root, env=env)
        bench.sh(["git", "commit", "-q", "-m", f"clean change {key}"], cwd=root, env=env)


def gate(p: bench.Project, branch: str, *extra: str) -> float:
    """One ``gatekeeper run`` on ``branch``; seconds. Exit 0 expected (a clean change)."""
    bench.sh(["git", "checkout", "-q", branch], cwd=p.root, env=p.env)
    skip = [a for s in ("build", *p.skip) for a in ("--skip", s)]
    argv = [str(bench.GATE_PYTHON), "-m", "gatekeeper", "run", *skip, *extra]
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=p.root, env=p.env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if extra == () and done.returncode != 0:
        raise SystemExit(f"a clean change did not pass on {branch}:\n{done.stdout}{done.stderr}")
    if done.returncode == 2:
        raise SystemExit(f"gate error on {branch}:\n{done.stdout}{done.stderr}")
    return took


def one_round(p: bench.Project) -> dict[str, float]:
    state = p.root / ".gatekeeper"
    results = state / "cache"
    out = {}
    shutil.rmtree(state, ignore_errors=True)
    out["c cold"] = gate(p, "hl-b", "--all")
    shutil.rmtree(state, ignore_errors=True)
    out["a"] = gate(p, "hl-a")
    shutil.rmtree(results, ignore_errors=True)
    out["b"] = gate(p, "hl-b")
    shutil.rmtree(results, ignore_errors=True)
    out["c warm"] = gate(p, "hl-b", "--all")
    return out


#: project -> (directory of the new module, its import package, tests directory)
PACKAGES = {
    "click": ("src/click", "click", "tests"),
    "attrs": ("src/attr", "attr", "tests"),
    "toolz": ("toolz", "toolz", "toolz/tests"),
}
#: projects :mod:`bench` does not know: (distribution, test needs, file, stages left out)
EXTRA_PROJECTS = {"toolz": ("toolz", (), "", ())}


def report(name: str, rounds: list[dict[str, float]]) -> str:
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    b_ok = med["b"] <= 1.10 * med["c warm"]
    a_ok = med["a"] <= 2.0 * med["c cold"]
    lines = [
        f"#### {name} ({len(rounds)} rounds, medians, seconds)",
        "",
        "| (a) first run on a new base | (b) second change, same base | (c) --all, warm "
        "| (c) --all, cold |",
        "|---:|---:|---:|---:|",
        f"| {med['a']:.2f} | {med['b']:.2f} | {med['c warm']:.2f} | {med['c cold']:.2f} |",
        "",
        f"- (b) / (c warm) = {med['b'] / med['c warm']:.2f} (target <= 1.10): "
        f"{'met' if b_ok else 'NOT met'}",
        f"- (a) / (c cold) = {med['a'] / med['c cold']:.2f} (target <= 2.00): "
        f"{'met' if a_ok else 'NOT met'}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--project", action="append", choices=sorted(PACKAGES))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gatekeeper-bench-hold-line"))
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench.GATE_PYTHON = bench.install_gatekeeper(args.workdir)
    print(bench.machine())
    for name in args.project or ["click", "toolz"]:
        bench.PROJECTS.setdefault(name, EXTRA_PROJECTS.get(name, (name, (), "", ())))
        p = bench.setup(name, args.workdir)
        prepare(p, PACKAGES[name])
        rounds = []
        for i in range(args.runs):
            rounds.append(one_round(p))
            print(f"[{name}] round {i + 1}: {rounds[-1]}", file=sys.stderr, flush=True)
        print(report(name, rounds), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
