"""What the ``test-quality`` stage costs: a gate run on a change, with and without the stage.

    python benchmarks/test_quality.py [--runs N] [--project click] [--project self]
                                      [--deep] [--workdir DIR] [--current]

For each project (click from its PyPI sdist, set up by ``bench.py``; ``self``: this checkout's
HEAD as a fresh repository with its own ``.venv``) the same small change is made — a new
function in the package and a test of it — and ``gatekeeper run --base HEAD --no-cache`` (the
build stage left out) is timed, round after round:

- **without**: ``--skip test-quality`` and the pytest stage's ``coverage = false``, i.e. the gate
  as it was before the stage existed;
- **with**: the stage on, as ``run --base`` has it by default (coverage measured in the pytest
  stage's own run, then judged).

The table gives medians, minimums and CPU time, and the ratio against the target (at most
15 % more wall time). ``--deep`` adds a deep-mode run on a 50-line change to the package (with
its tests) and prints the stage's ``deep-summary`` note and time against its budget.

Needs PyPI (the sdist, the tools) and takes minutes; it is not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import bench

HERE = Path(__file__).resolve().parent
TARGET = 1.15

#: project -> (package file that gets the new function, import path of it, test file)
CHANGES = {
    "click": ("src/click/_textwrap.py", "click._textwrap", "tests/test_gk_change.py"),
    "self": ("gatekeeper/paths.py", "gatekeeper.paths", "tests/test_gk_change.py"),
}
NEW_FUNCTION = '''

def gk_benchmark_share(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` near-equal shares (benchmark change)."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
'''
NEW_TEST = """\
import pytest

from {module} import gk_benchmark_share


def test_share():
    assert gk_benchmark_share(7, 3) == [3, 2, 2]


def test_share_rejects_no_parts():
    with pytest.raises(ValueError):
        gk_benchmark_share(1, 0)
"""
#: The 50-line change of the deep-mode run: five small functions with branches and arithmetic.
DEEP_MODULE = '''\
"""Benchmark change for deep mode: 50 lines of branchy arithmetic."""


def clamp(value: int, low: int, high: int) -> int:
    if value < low:
        return low
    if value > high:
        return high
    return value


def mean(values: list[float]) -> float:
    if not values:
        raise ValueError("no values")
    return sum(values) / len(values)


def percent(part: int, whole: int) -> float:
    if whole == 0:
        return 0.0
    return 100.0 * part / whole


def grade(score: int) -> str:
    if score >= 90:
        return "A"
    if score >= 75:
        return "B"
    if score >= 60:
        return "C+"
    if score >= 50:
        return "C"
    return "F"


def window(items: list[int], size: int) -> list[list[int]]:
    if size <= 0:
        raise ValueError("size must be positive")
    out = []
    for start in range(0, len(items) - size + 1):
        out.append(items[start : start + size])
    return out


def checksum(data: bytes) -> int:
    total = 0
    data = bytes(data)
    for i, byte in enumerate(data):
        total = (total + byte * (i + 1)) % 65521
    return total ^ 0x5A5A
'''
DEEP_TESTS = """\
from {module} import checksum, clamp, grade, mean, percent, window


def test_clamp():
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0
    assert clamp(11, 0, 10) == 10


def test_mean():
    assert mean([1.0, 3.0]) == 2.0


def test_percent():
    assert percent(1, 4) == 25.0
    assert percent(1, 0) == 0.0


def test_grade():
    assert [grade(s) for s in (95, 80, 60, 10)] == ["A", "B", "C+", "F"]


def test_window():
    assert window([1, 2, 3], 2) == [[1, 2], [2, 3]]


def test_checksum():
    assert checksum(b"ab") != checksum(b"ba")
"""


def setup_self(workdir: Path) -> bench.Project:
    """This checkout's HEAD as a git repository with a ``.venv`` holding it and its dev tools."""
    checkout = HERE.parent
    rev = bench.sh(["git", "rev-parse", "HEAD"], cwd=checkout).strip()
    base = workdir / "self"
    root = base / "src-tree"
    python = root / ".venv" / "bin" / "python"
    marker = base / "rev"
    if not marker.is_file() or marker.read_text() != rev:
        bench.clear(base)
        root.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD"],
            cwd=checkout,
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
        with (root / ".gitignore").open("a") as fh:
            fh.write("\n.venv/\n.gatekeeper/\n*.egg-info/\n__pycache__/\n")
        print("[self] virtualenv with gatekeeper[dev]", file=sys.stderr)
        bench.sh([sys.executable, "-m", "venv", root / ".venv"], cwd=root)
        bench.sh([python, "-m", "pip", "install", "-q", "-e", ".[dev]"], cwd=root)
        bench.sh(["git", "init", "-q", "-b", "main"], cwd=root)
        bench.sh(["git", "add", "--all"], cwd=root)
        bench.sh(["git", "commit", "-q", "-m", "HEAD"], cwd=root)
        marker.write_text(rev)
    return bench.Project("self", root, python)


def setup(name: str, workdir: Path) -> bench.Project:
    if name == "self":
        return setup_self(workdir)
    project = bench.setup(name, workdir)
    bench.sh([project.python, "-m", "pip", "install", "-q", "coverage>=7.10"], cwd=project.root)
    return project


def gate(
    p: bench.Project, *extra: str, config: dict[str, Any] | None = None
) -> tuple[float, float, dict[str, Any]]:
    """One ``gatekeeper run --base HEAD --no-cache``; wall, CPU, and the JSON report."""
    argv = [str(bench.GATE_PYTHON), "-m", "gatekeeper", "run", "--base", "HEAD", "--no-cache"]
    argv += ["--skip", "build", "--format", "json", *extra]
    with _pytest_coverage(p.root, config):
        before = bench.resource.getrusage(bench.resource.RUSAGE_CHILDREN)
        start = bench.time.perf_counter()
        done = subprocess.run(argv, cwd=p.root, env=p.env, capture_output=True, text=True)
        wall = bench.time.perf_counter() - start
        after = bench.resource.getrusage(bench.resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"gate exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, json.loads(done.stdout)


class _pytest_coverage:
    """Set the pytest stage's ``coverage`` option for one run (restores the file after)."""

    def __init__(self, root: Path, config: dict[str, Any] | None) -> None:
        self.path = root / "pyproject.toml"
        self.config = config
        self.original = self.path.read_text()

    def __enter__(self) -> None:
        if self.config is None:
            return
        text = self.original
        table = "[tool.gatekeeper.stages.pytest]\n"
        setting = "".join(f"{k} = {json.dumps(v)}\n" for k, v in self.config.items())
        if table in text:
            text = text.replace(table, table + setting)
        else:
            text += f"\n{table}{setting}"
        self.path.write_text(text)

    def __exit__(self, *exc: object) -> None:
        self.path.write_text(self.original)


def _change(p: bench.Project, path: str, code: str, tests: str, *, append: bool) -> None:
    """Write the change: ``code`` into ``path`` (appended or as a new file) and its test."""
    target = p.root / path
    target.write_text(target.read_text() + code if append else code)
    (p.root / CHANGES[p.name][2]).write_text(tests)
    bench.sh(["git", "add", "--all"], cwd=p.root)  # `run --base` judges what git knows of


def _reset(p: bench.Project) -> None:
    bench.sh(["git", "reset", "-q", "--hard", "HEAD"], cwd=p.root)
    bench.sh(["git", "clean", "-fdq", "-e", ".venv", "-e", ".gatekeeper"], cwd=p.root)


def measure(p: bench.Project, runs: int) -> str:
    _reset(p)
    target, importable, _ = CHANGES[p.name]
    _change(p, target, NEW_FUNCTION, NEW_TEST.format(module=importable), append=True)
    rows: dict[str, tuple[list[float], list[float]]] = {"without": ([], []), "with": ([], [])}
    stage_times: list[float] = []
    try:
        gate(p)  # warm the tool caches and bytecode, outside the timing
        for i in range(runs):
            print(f"[{p.name}] round {i + 1} of {runs}", file=sys.stderr)
            wall, cpu, _ = gate(p, "--skip", "test-quality", config={"coverage": False})
            rows["without"][0].append(wall)
            rows["without"][1].append(cpu)
            wall, cpu, report = gate(p)
            rows["with"][0].append(wall)
            rows["with"][1].append(cpu)
            stage = {s["name"]: s for s in report["stages"]}["test-quality"]
            if stage["status"] not in ("passed", "failed"):
                raise SystemExit(f"test-quality did not run: {stage}")
            stage_times.append(stage["duration_s"])
            print(
                f"[{p.name}] round {i + 1}: without {rows['without'][0][-1]:.2f} s wall "
                f"{rows['without'][1][-1]:.2f} s CPU; with {rows['with'][0][-1]:.2f} s wall "
                f"{rows['with'][1][-1]:.2f} s CPU",
                file=sys.stderr,
                flush=True,
            )
    finally:
        _reset(p)
    med = {k: statistics.median(v[0]) for k, v in rows.items()}
    low = {k: min(v[0]) for k, v in rows.items()}
    cpus = {k: statistics.median(v[1]) for k, v in rows.items()}
    ratio, ratio_low = med["with"] / med["without"], low["with"] / low["without"]
    verdict = "met" if ratio <= TARGET else "MISSED"
    return "\n".join(
        [
            f"### {p.name}: gatekeeper run --base HEAD --no-cache on a small change ({runs} runs)",
            "",
            "| gate run | wall, median | wall, min | CPU, median |",
            "|---|---:|---:|---:|",
            f"| without test-quality (no coverage) | {med['without']:.2f} s "
            f"| {low['without']:.2f} s | {cpus['without']:.2f} s |",
            f"| with test-quality | {med['with']:.2f} s | {low['with']:.2f} s "
            f"| {cpus['with']:.2f} s |",
            "",
            f"- with / without = {ratio:.3f} [{ratio_low:.3f} on the minimums] "
            f"(target <= {TARGET:.2f}): {verdict}",
            f"- the stage itself (judging, after pytest): median "
            f"{statistics.median(stage_times):.2f} s",
            "",
        ]
    )


def deep(p: bench.Project) -> str:
    """Deep mode on a 50-line change: the stage's time and its summary against the budget."""
    _reset(p)
    target = CHANGES[p.name][0]
    module_path = str(Path(target).with_name("gk_deep_change.py"))
    module = module_path.removeprefix("src/").removesuffix(".py").replace("/", ".")
    assert len(DEEP_MODULE.splitlines()) == 50, len(DEEP_MODULE.splitlines())
    _change(p, module_path, DEEP_MODULE, DEEP_TESTS.format(module=module), append=False)
    try:
        _, _, report = gate(p, "--deep")
    finally:
        _reset(p)
    stage = {s["name"]: s for s in report["stages"]}["test-quality"]
    notes = [f["message"] for f in stage["findings"] if f["rule"] == "deep-summary"]
    survived = [f["message"] for f in stage["findings"] if f["rule"] == "survived-mutant"]
    lines = [
        f"### {p.name}: deep mode on a 50-line change",
        "",
        f"- stage status {stage['status']}, {stage['duration_s']:.1f} s in all",
        f"- {notes[0] if notes else 'no deep-summary: ' + str(stage.get('reason'))}",
        *[f"- {m}" for m in survived],
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds (median)")
    parser.add_argument("--project", action="append", choices=[*bench.PROJECTS, "self"])
    parser.add_argument("--deep", action="store_true", help="also time deep mode")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gatekeeper-bench"))
    parser.add_argument(
        "--current",
        action="store_true",
        help="use the running interpreter's gatekeeper instead of a fresh install of HEAD",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench.GATE_PYTHON = (
        Path(sys.executable) if args.current else bench.install_gatekeeper(args.workdir)
    )
    print(f"Machine: {bench.machine()}\n")
    for name in args.project or ["click"]:
        project = setup(name, args.workdir)
        print(measure(project, args.runs), flush=True)
        if args.deep:
            print(deep(project), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
