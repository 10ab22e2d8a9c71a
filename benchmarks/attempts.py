"""Benchmark what an attempt of the fix loop costs, next to a cold gate and the push after it.

    python benchmarks/attempts.py [--runs N] [--project more-itertools] [--project self]

For each project, side by side in one table (medians over ``--runs`` rounds):

- each tool alone, cold, run the way its stage runs it, and the ideal parallel schedule of
  those times on this machine's cores (LPT);
- (a) ``gatekeeper run``, cold (state dir, result cache and tool caches removed);
- (a') ``gatekeeper run --base`` the commit with the defect, on the fixed tree, cold: the full
  gate of the same change the loop confirms (the test-quality stage judges it, so the run
  measures the changed lines' coverage, as the confirmation does);
- (b) a loop attempt after a one-file fix that makes the failing test pass: a defect is
  planted in one source file, ``gatekeeper loop`` runs with a scripted fixer that repairs that
  one file; from the loop's JSON, the attempt's feedback time (the gate's re-check on the fast
  path: what a still-failing attempt costs), the full-suite confirmation before ``clean``, and
  the fixer's own time;
- (c) the push of the loop's final tree: the tree is committed and the pre-push hook's command
  checks the commit (in place, as ``git push`` would run it).

Targets (issue 14 / 18): (b) feedback ≤ 15 % of (a); the confirmation ≤ (a); (c) ≤
0.3 s; (a) ≤ 1.10 × the ideal schedule. ``more-itertools`` 11.2.1 comes from PyPI (its suite
takes ≥ 10 s on 2 cores); ``self`` is this repository's HEAD. The build stage is left out (an
isolated build mostly measures pip). Not part of the test suite: it needs PyPI and minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bench
from bench import Project, clear, lpt, machine, sh, timed, tool_commands

#: project -> (file planted with the defect, good text, bad text)
PLANTS = {
    "more-itertools": (
        "more_itertools/recipes.py",
        "    powers = reversed(range(1, n))",
        "    powers = reversed(range(0, n))",
    ),
    "self": (
        "plugins/radon.py",
        "complexity <= top",
        "complexity < top",
    ),
}
FIXER = """\
import sys
from pathlib import Path

path, bad, good = sys.argv[1:4]
file = Path(path)
file.write_text(file.read_text().replace(bad, good))
"""


@dataclass(frozen=True)
class Attempt:
    feedback: float
    confirmation: float
    fixer: float
    loop: float
    push: float


def setup_self(workdir: Path) -> Project:
    """This checkout's HEAD as a project of its own, with its dev environment."""
    root = workdir / "self" / "src-tree"
    python = root / ".venv" / "bin" / "python"
    rev = sh(["git", "rev-parse", "HEAD"], cwd=bench.HERE.parent).strip()
    marker = root.parent / "rev"
    if not marker.is_file() or marker.read_text() != rev:
        clear(root.parent)
        root.parent.mkdir(parents=True)
        sh(["git", "clone", "-q", str(bench.HERE.parent), str(root)], cwd=workdir)
        sh(["git", "checkout", "-q", "-B", "main", rev], cwd=root)
        # No remote, as for more-itertools: the push below names the loop's start as what the
        # remote has; an `origin/main` left at the cloned commit would contradict it (the loop
        # would rightly seal for a push to that upstream instead).
        sh(["git", "remote", "remove", "origin"], cwd=root)
        sh([sys.executable, "-m", "venv", root / ".venv"], cwd=root)
        sh([python, "-m", "pip", "install", "-q", "-e", ".[dev]"], cwd=root)
        marker.write_text(rev)
    project = Project("self", root, python, ())
    project.files = [f for f in sh(["git", "ls-files"], cwd=root).split() if f.endswith(".py")]
    project.sources = bench._sources(root)
    return project


def setup(name: str, workdir: Path) -> Project:
    if name == "self":
        return setup_self(workdir)
    project = bench.setup(name, workdir)
    # Test selection needs pytest-testmon in the project's interpreter (the `tools` extra).
    if subprocess.run([project.python, "-c", "import testmon"], capture_output=True).returncode:
        sh([project.python, "-m", "pip", "install", "-q", "pytest-testmon"], cwd=project.root)
    return project


def _gate(p: Project, *args: str) -> list[str]:
    # Stages left out are off in the project's config (see run_project), not `--skip`ped: the
    # loop, the push and a person's run then agree on the stages, as they do for a user.
    return [str(bench.GATE_PYTHON), "-m", "gatekeeper", *args, "--format", "json"]


def _reset(p: Project, caches: Path) -> None:
    sh(["git", "reset", "-q", "--hard", "bench-base"], cwd=p.root)
    clear(caches, p.root / ".gatekeeper", p.root / ".mypy_cache", p.root / ".ruff_cache")


def _plant(p: Project) -> tuple[str, str, str]:
    """Commit the defect: (path, good text, bad text)."""
    path, good, bad = PLANTS[p.name]
    target = p.root / path
    target.write_text(target.read_text().replace(good, bad))
    sh(["git", "commit", "-q", "-am", "planted defect"], cwd=p.root)
    return path, good, bad


def changed_gate(p: Project, env: dict[str, str]) -> float:
    """(a'): the fix in the working tree, judged cold against the commit with the defect."""
    path, good, bad = _plant(p)
    target = p.root / path
    target.write_text(target.read_text().replace(bad, good))
    return timed(_gate(p, "run", "--base", "HEAD"), p.root, env)[0]


def attempt(p: Project, workdir: Path, env: dict[str, str]) -> Attempt:
    """Plant the defect, run the loop (one fix), then time the push of the final tree."""
    path, good, bad = _plant(p)
    fixer = workdir / "fixer.py"
    fixer.write_text(FIXER)
    agent = shlex.join([sys.executable, str(fixer), path, bad, good])
    argv = [*_gate(p, "loop", "--agent", agent, "--max-attempts", "2")]
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=p.root, env=env, capture_output=True, text=True)
    loop_s = time.perf_counter() - start
    report = json.loads(done.stdout or "{}")
    if report.get("stop_reason") != "clean":
        raise SystemExit(f"[{p.name}] the loop did not end clean:\n{done.stdout[-3000:]}")
    (rec,) = [a for a in report["attempts"] if a.get("fixer")]
    sh(["git", "commit", "-q", "-am", "fixed by the loop"], cwd=p.root)
    head = sh(["git", "rev-parse", "HEAD"], cwd=p.root).strip()
    before = sh(["git", "rev-parse", "HEAD~1"], cwd=p.root).strip()
    line = f"refs/heads/main {head} refs/heads/main {before}\n"
    hook = [str(bench.GATE_PYTHON), "-m", "gatekeeper", "hook", "pre-push", "origin", "url"]
    start = time.perf_counter()
    pushed = subprocess.run(
        [*hook, "--format", "json"], cwd=p.root, env=env, input=line, capture_output=True, text=True
    )
    push_s = time.perf_counter() - start
    if pushed.returncode != 0:
        raise SystemExit(f"[{p.name}] the push was blocked:\n{pushed.stdout}\n{pushed.stderr}")
    return Attempt(
        rec["feedback_s"], rec["confirmation_s"] or 0.0, rec["fixer_duration_s"], loop_s, push_s
    )


Rows = dict[str, list[float]]


def run_project(p: Project, runs: int, workdir: Path) -> Rows:
    config = p.root / "pyproject.toml"
    text = config.read_text()
    if "[tool.gatekeeper]" not in text:
        # A loaded shared machine must not turn a slow suite into a timed-out stage.
        text += "\n[tool.gatekeeper]\ntimeout = 3600\n"
    for stage in ("build", *p.skip):
        # Left out of every gate run here, the push's included (an isolated build mostly
        # measures pip, and the project's venv need not have `build`; see bench.PROJECTS).
        if f"[tool.gatekeeper.stages.{stage}]" not in text:
            text += f"\n[tool.gatekeeper.stages.{stage}]\nenabled = false\n"
    if text != config.read_text():
        config.write_text(text)
        sh(["git", "commit", "-q", "-am", "benchmark: gate settings"], cwd=p.root)
    env = p.env
    caches = p.root.parent / "tool-caches"
    tool_env = {**env, "RUFF_CACHE_DIR": str(caches / "ruff"), "PYTHONDONTWRITEBYTECODE": "1"}
    sh(["git", "tag", "-f", "bench-base", "HEAD"], cwd=p.root)
    rows: Rows = {}
    tools = {n: a for n, a in tool_commands(p, caches).items() if n not in p.skip}
    if p.name == "self":  # run the way this repository configures its stages
        tools["pytest"] += ["-n", "auto"]
        tools["mypy"][tools["mypy"].index("--") : tools["mypy"].index("--")] = ["--strict"]
    timed([str(bench.GATE_PYTHON), "-m", "gatekeeper", "--help"], p.root, env)
    try:
        for i in range(runs):
            print(f"[{p.name}] round {i + 1} of {runs}", file=sys.stderr)
            for name, argv in tools.items():
                _reset(p, caches)
                rows.setdefault(f"{name} alone (cold)", []).append(timed(argv, p.root, tool_env)[0])
            _reset(p, caches)
            rows.setdefault("(a) gatekeeper run, cold", []).append(
                timed(_gate(p, "run"), p.root, env)[0]
            )
            _reset(p, caches)
            rows.setdefault("(a') gatekeeper run --base (the same change), cold", []).append(
                changed_gate(p, env)
            )
            _reset(p, caches)
            got = attempt(p, workdir, env)
            for label, value in (
                ("(b) loop attempt: feedback (gate re-check on the fast path)", got.feedback),
                ("(b) loop attempt: full-suite confirmation before clean", got.confirmation),
                ("(b) loop attempt: the fixer itself", got.fixer),
                ("whole loop (start run, attempt, confirmation)", got.loop),
                ("(c) push of the loop's final tree", got.push),
            ):
                rows.setdefault(label, []).append(value)
    finally:
        sh(["git", "reset", "-q", "--hard", "bench-base"], cwd=p.root)
    return rows


def report(p: Project, rows: Rows, runs: int) -> str:
    med = {k: statistics.median(v) for k, v in rows.items()}
    names = [k for k in rows if k.endswith("alone (cold)")]
    cores = os.cpu_count() or 1
    ideal = lpt([med[n] for n in names], cores)
    cold = med["(a) gatekeeper run, cold"]
    changed = med["(a') gatekeeper run --base (the same change), cold"]
    feedback = med["(b) loop attempt: feedback (gate re-check on the fast path)"]
    confirm = med["(b) loop attempt: full-suite confirmation before clean"]
    push = med["(c) push of the loop's final tree"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    out = [
        f"### {p.name} ({len(p.files)} Python files; {runs} runs; load average at the end {load})",
        "",
        "| what | wall, median | min | max |",
        "|---|---:|---:|---:|",
    ]
    for label, values in rows.items():
        out.append(f"| {label} | {med[label]:.3f} s | {min(values):.3f} s | {max(values):.3f} s |")
        if label == names[-1]:
            out.append(f"| ideal parallel schedule (LPT, {cores} cores) | {ideal:.3f} s | | |")

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    out += [
        "",
        f"- (b) feedback / (a) cold gate = {feedback / cold:.2f} (target <= 0.15): "
        f"{verdict(feedback <= 0.15 * cold)}",
        f"- confirmation / (a) cold gate = {confirm / cold:.2f} (target <= 1): "
        f"{verdict(confirm <= cold)}; / (a') the same change's cold gate = "
        f"{confirm / changed:.2f}",
        f"- (c) push after the loop = {push:.3f} s (target <= 0.3 s): {verdict(push <= 0.3)}",
        f"- (a) cold gate / ideal schedule = {cold / ideal:.2f} (target <= 1.10): "
        f"{verdict(cold <= 1.10 * ideal)}",
        "",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds per project (median)")
    parser.add_argument(
        "--project",
        action="append",
        choices=sorted(PLANTS),
        help="project(s) (default: more-itertools and self)",
    )
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gatekeeper-bench"))
    parser.add_argument(
        "--current",
        action="store_true",
        help="use the gatekeeper of the running interpreter instead of a fresh install of HEAD",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench.GATE_PYTHON = (
        Path(sys.executable) if args.current else bench.install_gatekeeper(args.workdir)
    )
    print(f"Machine: {machine()}\n")
    for name in args.project or ["more-itertools", "self"]:
        project = setup(name, args.workdir)
        print(report(project, run_project(project, args.runs, args.workdir), args.runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
