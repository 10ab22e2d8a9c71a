"""Benchmark gatekeeper against its own tools and against pre-commit on a real project.

    python benchmarks/bench.py [--runs N] [--project click] [--project attrs] [--workdir DIR]

For each project it downloads the source distribution from PyPI (``pip download
--no-binary :all:``), makes it a git repository with a virtualenv holding the project and the
tools (ruff, mypy, radon, pytest), and prints a table of medians over ``--runs`` runs:

- each tool alone, run the way its stage runs it, with its cache cleared (cold);
- the ideal parallel schedule of those tool times on this machine's cores (LPT);
- ``pre-commit run --all-files`` with the same tools as local ``language: system`` hooks
  (tool caches cleared before each run, like the cold gate);
- ``gatekeeper run`` cold (state dir with result cache and tool caches removed), warm with
  nothing changed, and with one file changed (whole tree, and ``--base HEAD``);
- ``gatekeeper --version``.

The ``build`` stage is left out everywhere (an isolated build mostly measures pip). This is
not part of the test suite: it needs PyPI and takes minutes.
"""

from __future__ import annotations

import argparse
import heapq
import importlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: set by main(): the interpreter whose environment has the gatekeeper under test
GATE_PYTHON = Path(sys.executable)

#: project -> (distribution, extra packages its tests need, the file the "one file" runs edit,
#: stages left out: radon crashes on attrs' pyproject.toml, whoever runs it)
PROJECTS: dict[str, tuple[str, tuple[str, ...], str, tuple[str, ...]]] = {
    "click": ("click", (), "src/click/_textwrap.py", ()),
    "attrs": (
        "attrs",
        ("hypothesis", "pympler", "cloudpickle"),
        "src/attr/_version_info.py",
        ("radon",),
    ),
    # a suite of ~15 s on 2 cores: the attempt benchmark (benchmarks/attempts.py); radon is
    # left out because the project's own `_islice_helper` is over the default limit (rank D),
    # so no loop could end clean on it
    "more-itertools": ("more-itertools==11.2.1", (), "more_itertools/recipes.py", ("radon",)),
}
TOOLS = ("ruff", "mypy", "radon", "pytest")
STAGES = ("ruff", "ruff-format", "mypy", "radon", "pytest")
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def sh(argv: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env={**os.environ, **GIT_ENV, **(env or {})},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, argv))}\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Project:
    name: str
    root: Path
    python: Path
    skip: tuple[str, ...] = ()
    files: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    @property
    def stages(self) -> list[str]:
        return [s for s in STAGES if s not in self.skip]

    @property
    def env(self) -> dict[str, str]:
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GATEKEEPER_", "VIRTUAL")) and k != "PYTHONDONTWRITEBYTECODE"
        }
        # No PYTHONDONTWRITEBYTECODE (even if this shell sets it): a user's gatekeeper has its
        # bytecode cached (the tools the gate runs keep theirs under PYTHONPYCACHEPREFIX).
        return {**keep, **GIT_ENV, "NO_COLOR": "1"}


def install_gatekeeper(workdir: Path) -> Path:
    """A virtualenv with gatekeeper installed (not editable) from this checkout's HEAD.

    The benchmark measures committed code, the way a user installs it, and is not disturbed
    by edits in the working tree while it runs.
    """
    checkout = HERE.parent
    rev = sh(["git", "rev-parse", "HEAD"], cwd=checkout).strip()
    venv, src = workdir / "gatekeeper-venv", workdir / "gatekeeper-src"
    marker = venv / "installed-rev"
    if marker.is_file() and marker.read_text() == rev:
        return venv / "bin" / "python"
    print(f"gatekeeper {rev[:10]} into {venv}", file=sys.stderr)
    clear(venv, src)
    src.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD"], cwd=checkout, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    sh([sys.executable, "-m", "venv", venv], cwd=workdir)
    sh([venv / "bin" / "python", "-m", "pip", "install", "-q", src, "pre-commit"], cwd=workdir)
    marker.write_text(rev)
    return venv / "bin" / "python"


def setup(name: str, workdir: Path) -> Project:
    """Download the sdist, unpack it as a git repo, and build its virtualenv (once)."""
    dist, extras, _, skip = PROJECTS[name]
    base = workdir / name
    root = base / "src-tree"
    python = root / ".venv" / "bin" / "python"
    if not (root / ".git").is_dir():
        shutil.rmtree(base, ignore_errors=True)
        download = base / "download"
        download.mkdir(parents=True)
        print(f"[{name}] pip download --no-binary :all: --no-deps {dist}", file=sys.stderr)
        sh(
            [
                GATE_PYTHON,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-binary",
                ":all:",
                "--no-deps",
                dist,
                "-d",
                download,
            ],
            cwd=base,
        )
        (archive,) = download.glob("*.tar.gz")
        with tarfile.open(archive) as tar:
            tar.extractall(base / "unpacked", filter="data")
        (top,) = (base / "unpacked").iterdir()
        top.rename(root)
        with (root / ".gitignore").open("a") as fh:
            fh.write(
                "\n.venv/\n.gatekeeper/\n*.egg-info/\n__pycache__/\n.mypy_cache/\n.ruff_cache/\n"
            )
        print(f"[{name}] virtualenv with the project and {', '.join(TOOLS)}", file=sys.stderr)
        sh([sys.executable, "-m", "venv", root / ".venv"], cwd=root)
        sh([python, "-m", "pip", "install", "-q", "-e", ".", *TOOLS, *extras], cwd=root)
        sh(["git", "init", "-q", "-b", "main"], cwd=root)
        sh(["git", "add", "--all"], cwd=root)
        sh(["git", "commit", "-q", "-m", "sdist"], cwd=root)
    _write_precommit(root, skip)
    if sh(["git", "status", "--porcelain"], cwd=root).strip():
        sh(["git", "add", "--all"], cwd=root)
        sh(["git", "commit", "-q", "-m", "benchmark set-up"], cwd=root)
    project = Project(name, root, python, skip)
    listing = sh(["git", "ls-files"], cwd=root).split()
    project.files = [f for f in listing if f.endswith((".py", ".pyi"))]
    project.sources = _sources(root)
    return project


def _sources(root: Path) -> list[str]:
    """What the mypy stage checks: the packages gatekeeper's own discovery finds."""
    sys.path.insert(0, str(HERE.parent))
    layout = importlib.import_module("gatekeeper.layout")
    return list(layout.discover(root).sources) or ["."]


def _write_precommit(root: Path, skip: tuple[str, ...]) -> None:
    py = ".venv/bin/python"
    hooks = [
        ("ruff", f"{py} -m ruff check --output-format json --no-fix --force-exclude", True),
        ("ruff-format", f"{py} -m ruff format --check --diff --force-exclude", True),
        (
            "mypy",
            f"{py} -m mypy -O json --no-pretty --no-error-summary --show-column-numbers "
            f"--cache-dir .mypy_cache SOURCES",
            False,
        ),
        ("radon", f"{py} -m radon cc --json --show-complexity", True),
        ("pytest", f"{py} -m pytest -p no:cacheprovider -q --color=no", False),
    ]
    sources = " ".join(_sources(root))
    lines = ["repos:", "- repo: local", "  hooks:"]
    for hook_id, entry, per_file in hooks:
        if hook_id in skip:
            continue
        lines += [
            f"  - id: {hook_id}",
            f"    name: {hook_id}",
            f"    entry: {entry.replace('SOURCES', sources)}",
            "    language: system",
            "    types_or: [python, pyi]",
            f"    pass_filenames: {'true' if per_file else 'false'}",
        ]
        if not per_file:
            lines.append("    always_run: true")
    (root / ".pre-commit-config.yaml").write_text("\n".join(lines) + "\n")


def tool_commands(p: Project, caches: Path) -> dict[str, list[str]]:
    py = str(p.python)
    return {
        "ruff": [
            py,
            "-m",
            "ruff",
            "check",
            "--output-format",
            "json",
            "--no-fix",
            "--force-exclude",
            "--",
            *p.files,
        ],
        "ruff-format": [
            py,
            "-m",
            "ruff",
            "format",
            "--check",
            "--diff",
            "--force-exclude",
            "--",
            *p.files,
        ],
        "mypy": [
            py,
            "-m",
            "mypy",
            "-O",
            "json",
            "--no-pretty",
            "--no-error-summary",
            "--show-column-numbers",
            "--cache-dir",
            str(caches / "mypy"),
            "--",
            *p.sources,
        ],
        "radon": [py, "-m", "radon", "cc", "--json", "--show-complexity", "--", *p.files],
        "pytest": [py, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--color=no"],
    }


def timed(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the process and all it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _check(argv, done)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return took, cpu


def _check(argv: Sequence[str], done: subprocess.CompletedProcess[str]) -> None:
    """Findings are fine (exit 1); a run that did not do the work must not be timed.

    The gate may exit 2 because one tool crashes on the project (radon on attrs' pyproject),
    which the tools alone and pre-commit count as exit 1: it still did the work if the
    tests ran.
    """
    ok = done.returncode in (0, 1)
    if not ok and done.returncode == 2 and "--format" in argv:
        try:
            stages = {s["name"]: s["status"] for s in json.loads(done.stdout)["stages"]}
        except (ValueError, KeyError, TypeError):
            stages = {}
        ok = stages.get("pytest") in ("passed", "failed")
    if not ok:
        raise SystemExit(
            f"unexpected exit {done.returncode}: {' '.join(argv[:6])}\n{done.stdout[-2000:]}\n"
            f"{done.stderr[-2000:]}"
        )


def lpt(durations: Sequence[float], cores: int) -> float:
    """Makespan of the longest-processing-time-first schedule on ``cores`` machines."""
    loads = [0.0] * max(cores, 1)
    heapq.heapify(loads)
    for d in sorted(durations, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + d)
    return max(loads)


def clear(*paths: Path) -> None:
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


@dataclass(frozen=True)
class Measure:
    label: str
    argv: list[str]
    env: dict[str, str]
    before: Callable[[int], None]


def _nothing(_: int) -> None:
    pass


Rows = dict[str, tuple[list[float], list[float]]]  # label -> (wall times, CPU times)


def bench(p: Project, runs: int) -> Rows:
    """Every measurement once per round, round after round.

    Interleaving the rounds spreads any change in the machine's load over all the rows
    instead of biasing the ones measured while it lasted.
    """
    env = p.env
    caches = p.root.parent / "tool-caches"
    state = p.root / ".gatekeeper"
    tool_env = {**env, "RUFF_CACHE_DIR": str(caches / "ruff"), "PYTHONDONTWRITEBYTECODE": "1"}
    pc_env = {**tool_env, "PRE_COMMIT_HOME": str(p.root.parent / "pre-commit-home")}
    edited = p.root / PROJECTS[p.name][2]
    original = edited.read_text()

    def cold(_: int) -> None:
        edited.write_text(original)
        clear(caches, state, p.root / ".mypy_cache", p.root / ".ruff_cache")

    def touch(i: int) -> None:
        edited.write_text(original + f"\n# benchmark edit {i} {time.time_ns()}\n")

    skips = [a for s in ("build", *p.skip) for a in ("--skip", s)]
    gate = [str(GATE_PYTHON), "-m", "gatekeeper", "run", *skips, "--format", "json"]
    pre_commit = [str(GATE_PYTHON.parent / "pre-commit"), "run", "--all-files"]
    plan = [
        Measure(f"{name} alone (cold)", argv, tool_env, cold)
        for name, argv in tool_commands(p, caches).items()
        if name not in p.skip
    ]
    plan += [
        Measure("pre-commit run --all-files", pre_commit, pc_env, cold),
        Measure("gatekeeper run, cold", gate, env, cold),
        Measure("gatekeeper run, nothing changed", gate, env, _nothing),
        Measure("gatekeeper run, one file changed", gate, env, touch),
        Measure(
            "gatekeeper run --base HEAD, one file changed", [*gate, "--base", "HEAD"], env, touch
        ),
        Measure(
            "gatekeeper --version",
            [str(GATE_PYTHON.parent / "gatekeeper"), "--version"],
            env,
            _nothing,
        ),
    ]
    timed([str(GATE_PYTHON), "-m", "gatekeeper", "--help"], p.root, env)  # bytecode, once
    timed(pre_commit, p.root, pc_env)  # initialise pre-commit's store outside the timing
    times: Rows = {m.label: ([], []) for m in plan}
    try:
        for i in range(runs):
            print(f"[{p.name}] round {i + 1} of {runs}", file=sys.stderr)
            for m in plan:
                m.before(i)
                wall, cpu = timed(m.argv, p.root, m.env)
                times[m.label][0].append(wall)
                times[m.label][1].append(cpu)
    finally:
        edited.write_text(original)
    return times


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{mem}, "
        f"Python {platform.python_version()}"
    )


def report(p: Project, rows: Rows, runs: int) -> str:
    med = {label: statistics.median(walls) for label, (walls, _) in rows.items()}
    low = {label: min(walls) for label, (walls, _) in rows.items()}
    cpu = {label: statistics.median(cpus) for label, (_, cpus) in rows.items()}
    cores = os.cpu_count() or 1
    names = [f"{s} alone (cold)" for s in p.stages]
    ideal, ideal_low = lpt([med[n] for n in names], cores), lpt([low[n] for n in names], cores)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    without = f"without {', '.join(p.skip)}; " if p.skip else ""
    out = [
        f"### {p.name} ({len(p.files)} Python files; {runs} runs; {without}"
        f"load average at the end {load})",
        "",
        "| what | wall, median | wall, min | wall, max | CPU, median |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, (walls, _) in rows.items():
        out.append(
            f"| {label} | {med[label]:.3f} s | {low[label]:.3f} s | {max(walls):.3f} s "
            f"| {cpu[label]:.2f} s |"
        )
        if label == names[-1]:
            serial = sum(med[n] for n in names)
            out.append(
                f"| sum of the tools (serial) | {serial:.3f} s | {sum(low[n] for n in names):.3f} s"
                f" | | {sum(cpu[n] for n in names):.2f} s |"
            )
            out.append(
                f"| ideal parallel schedule (LPT, {cores} cores) | {ideal:.3f} s "
                f"| {ideal_low:.3f} s | | |"
            )
    out += targets(med, low, cpu, names, (ideal, ideal_low))
    return "\n".join(out)


def targets(
    med: dict[str, float],
    low: dict[str, float],
    cpu: dict[str, float],
    names: list[str],
    ideals: tuple[float, float],
) -> list[str]:
    """The DESIGN.md targets, each judged on the medians (and on the minimums in brackets)."""
    ideal, ideal_low = ideals
    cold, pc = "gatekeeper run, cold", "pre-commit run --all-files"
    warm, version = "gatekeeper run, nothing changed", "gatekeeper --version"
    overhead = cpu[cold] - sum(cpu[n] for n in names)

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    return [
        "",
        "Targets (median; min in brackets):",
        f"- cold gate / ideal schedule = {med[cold] / ideal:.2f} [{low[cold] / ideal_low:.2f}] "
        f"(target <= 1.10): {verdict(med[cold] <= 1.10 * ideal)} "
        f"[{verdict(low[cold] <= 1.10 * ideal_low)}]",
        f"- cold gate / pre-commit = {med[cold] / med[pc]:.2f} [{low[cold] / low[pc]:.2f}] "
        f"(target: clearly below 1): {verdict(med[cold] < 0.9 * med[pc])}",
        f"- nothing changed: {med[warm]:.3f} s [{low[warm]:.3f} s] (target <= 0.3 s): "
        f"{verdict(med[warm] <= 0.3)} [{verdict(low[warm] <= 0.3)}]",
        f"- --version: {med[version] * 1000:.0f} ms [{low[version] * 1000:.0f} ms] "
        f"(target <= 150 ms): {verdict(med[version] <= 0.150)}",
        f"- gate overhead in CPU time (cold gate minus the tools alone): {overhead:+.2f} s",
        "",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument(
        "--project",
        action="append",
        choices=sorted(PROJECTS),
        help="project(s) to benchmark (default: click)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("/tmp/gatekeeper-bench"),
        help="where projects are downloaded and set up (reused)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw times here")
    parser.add_argument(
        "--current",
        action="store_true",
        help="benchmark the gatekeeper of the running interpreter instead of a fresh install "
        "of this checkout's HEAD",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    global GATE_PYTHON
    GATE_PYTHON = Path(sys.executable) if args.current else install_gatekeeper(args.workdir)
    print(f"Machine: {machine()}\n")
    raw = {}
    for name in args.project or ["click"]:
        project = setup(name, args.workdir)
        rows = bench(project, args.runs)
        raw[name] = rows
        print(report(project, rows, args.runs), flush=True)
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
