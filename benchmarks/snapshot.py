"""Benchmark what checking the pushed commit in a snapshot costs against checking in place.

    python benchmarks/snapshot.py [--runs N] [--project click] [--workdir DIR] [--current]

The push gate always checks the pushed commit in a fresh snapshot (a temporary ``git worktree``
with its submodules, outside the repository), never in place: a clean ``git status`` still
hides ``--skip-worktree`` files, ``.git/info/exclude``-hidden files and stale bytecode. This
measures what that costs, on click (downloaded from PyPI by ``benchmarks/bench.py``'s set-up),
side by side, in rounds (medians over ``--runs``):

- in place: ``gatekeeper run --all-files --no-cache`` on the clean working tree, which is the
  pushed commit (what the hook did before it always made a snapshot);
- snapshot: ``gatekeeper hook pre-push`` for that commit with ``--all-files --no-cache``, as
  ``git push`` runs it: the snapshot is made, checked and removed.

Both skip ``build`` (an isolated build mostly measures pip), ``tamper`` (it runs only for
the push trigger) and ``pyright`` (its tool is not in the set-up's virtualenv), use the
result cache not at all and the tool caches as they are (warm after the first round).
Target: snapshot / in place ≤ 1.10. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

import bench
from bench import clear, machine, sh, timed

ZERO = "0" * 40


def measure(project: bench.Project, runs: int) -> dict[str, list[float]]:
    """Wall times of each way, interleaved round by round."""
    env = project.env
    gate = [str(bench.GATE_PYTHON), "-m", "gatekeeper"]
    # pyright: click configures it, and its tool (basedpyright) is not in the set-up's venv.
    skips = [a for s in ("build", "tamper", "pyright", *project.skip) for a in ("--skip", s)]
    commit = sh(["git", "rev-parse", "HEAD"], cwd=project.root).strip()
    refs = f"refs/heads/main {commit} refs/heads/main {ZERO}\n"
    in_place = [*gate, "run", "--all-files", "--no-cache", *skips, "--format", "json"]
    snapshot = [*gate, "hook", "pre-push", "origin", "unused", "--all-files", "--no-cache"]
    snapshot += skips
    ways = {"in place (gatekeeper run)": in_place, "snapshot (pre-push hook)": snapshot}
    times: dict[str, list[float]] = {label: [] for label in ways}
    clear(project.root / ".gatekeeper")
    timed(in_place, project.root, env)  # tool caches and bytecode warm, outside the timing
    for i in range(runs):
        print(f"[{project.name}] round {i + 1} of {runs}", file=sys.stderr)
        for label, argv in ways.items():
            wall, _ = timed_with_input(argv, project.root, env, refs)
            times[label].append(wall)
    return times


def timed_with_input(
    argv: list[str], cwd: Path, env: dict[str, str], stdin: str
) -> tuple[float, float]:
    """:func:`bench.timed` with the hook's ref lines on stdin (ignored by ``run``)."""
    import subprocess
    import time

    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, input=stdin, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(
            f"unexpected exit {done.returncode}: {argv[3:6]}\n"
            f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return took, 0.0


def report(project: bench.Project, times: dict[str, list[float]], runs: int) -> str:
    med = {label: statistics.median(walls) for label, walls in times.items()}
    low = {label: min(walls) for label, walls in times.items()}
    out = [
        f"#### {project.name}: the pushed commit in a snapshot vs in place ({runs} runs)",
        "",
        "| what | wall, median | wall, min | wall, max |",
        "|---|---:|---:|---:|",
    ]
    out += [
        f"| {label} | {med[label]:.3f} s | {low[label]:.3f} s | {max(walls):.3f} s |"
        for label, walls in times.items()
    ]
    first, second = list(times)
    ratio, ratio_low = med[second] / med[first], low[second] / low[first]
    verdict = "met" if ratio <= 1.10 else "NOT met"
    out += [
        "",
        f"- snapshot / in place = {ratio:.2f} [{ratio_low:.2f}] (target <= 1.10): {verdict}",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--project", default="click", choices=sorted(bench.PROJECTS))
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/gatekeeper-bench"))
    parser.add_argument(
        "--current",
        action="store_true",
        help="benchmark the gatekeeper of the running interpreter instead of a fresh install "
        "of this checkout's HEAD",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    bench.GATE_PYTHON = (
        Path(sys.executable) if args.current else bench.install_gatekeeper(args.workdir)
    )
    print(f"Machine: {machine()}\n")
    project = bench.setup(args.project, args.workdir)
    print(report(project, measure(project, args.runs), args.runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
