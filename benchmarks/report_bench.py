"""Benchmark ``gatekeeper report``: page size and build time for a large ledger.

    python benchmarks/report_bench.py [--records 10000] [--runs 5] [--keep DIR]

Writes a synthetic ledger of ``--records`` records shaped like the ones the gate writes (fix
loops of several fixer ladders with their attempts and runs, Stop-hook sessions, pushes, CI
and people's runs; findings of every stage with new and existing ones, tamper findings,
cached stages), then times ``gatekeeper report --html`` (the whole command, interpreter start
included), ``--format json`` and the terminal summary, each ``--runs`` times, and prints
medians side by side with the page size. Targets: the page under 2 MB and built in under 2 s
for 10,000 records.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

LADDERS = (
    ["claude"],
    ["aider --model cheap --yes-always --message-file {report}", "claude"],
    ["codex"],
    ["python fixers/honest.py"],
)
STAGES = ("ruff", "ruff-format", "mypy", "radon", "pytest", "build", "tamper")
RULES = {
    "ruff": ("F841", "E501", "B006", "UP035", "SIM108"),
    "ruff-format": ("format",),
    "mypy": ("return-value", "arg-type", "attr-defined", "union-attr"),
    "radon": ("too-complex",),
    "pytest": ("test-failed", "collection-error"),
    "build": ("build-failed",),
    "tamper": ("tamper-noqa", "tamper-type-ignore", "tamper-skip", "tamper-test-deleted"),
}
REASONS = ("clean",) * 6 + ("budget", "stuck", "stuck", "tamper", "error")
AGENTS = ("claude", "codex")


class Writer:
    """Timestamps that advance, ids that are unique, records as the gate writes them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = datetime(2026, 10, 1, tzinfo=timezone.utc)
        self.n = 0

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        self.now += timedelta(seconds=self.rng.uniform(5, 400))
        self.n += 1
        return {
            "ts": self.now.isoformat(timespec="microseconds"),
            "pid": 1000 + self.n % 50,
            "id": f"{self.n:032x}",
            "kind": kind,
            **fields,
        }

    def run(self, trigger: str, failing: bool, **extra: Any) -> dict[str, Any]:
        rng = self.rng
        stages, timings, cached, findings = {}, {}, [], []
        for stage in STAGES:
            status = "failed" if failing and rng.random() < 0.35 else "passed"
            if rng.random() < 0.02:
                status = "error"
            stages[stage] = status
            if rng.random() < 0.3 and status != "error":
                cached.append(stage)
            timings[stage] = round(rng.lognormvariate(0, 1) * (8 if stage == "pytest" else 1), 3)
            for _ in range(rng.randint(1, 4) if status == "failed" else 0):
                rule = rng.choice(RULES[stage])
                findings.append(
                    {
                        "fingerprint": f"{stage}-{rule}-{rng.randint(0, 40)}",
                        "stage": stage,
                        "rule": rule,
                        "path": "pkg/mod.py",
                        "line": rng.randint(1, 300),
                        "message": "synthetic finding",
                        "existing": rng.random() < 0.3,
                    }
                )
        verdict = (
            "error"
            if "error" in stages.values()
            else "failed"
            if "failed" in stages.values()
            else "passed"
        )
        return self.record(
            "run",
            trigger=trigger,
            root="/repo",
            tree=f"{rng.getrandbits(64):016x}",
            commit=None,
            verdict=verdict,
            started_at=self.now.isoformat(),
            duration_s=round(sum(timings.values()), 3),
            stages=stages,
            timings=timings,
            cached=cached,
            errors=[s for s, v in stages.items() if v == "error"],
            fingerprints=sorted({f["fingerprint"] for f in findings}),
            findings=findings,
            **extra,
        )

    def loop(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        ladder = rng.choice(LADDERS)
        loop_id = f"{rng.getrandbits(48):012x}"
        reason = rng.choice(REASONS)
        used = rng.randint(1, 5)
        yield self.run("loop", True, loop_id=loop_id, attempt=0, phase="start")
        for n in range(1, used + 1):
            yield self.run(
                "loop",
                n < used or reason != "clean",
                loop_id=loop_id,
                attempt=n,
                phase="after-fixer",
            )
            yield self.record(
                "attempt",
                loop_id=loop_id,
                attempt=n,
                fixer=ladder[min(n - 1, len(ladder) - 1)],
                fixer_exit=0,
                fixer_timed_out=rng.random() < 0.05,
                fixer_duration_s=round(rng.lognormvariate(3, 0.8), 3),
                verdict_after="passed" if n == used and reason == "clean" else "failed",
                fixed=rng.randint(0, 3),
                new=rng.randint(0, 1),
                persisting=rng.randint(0, 3),
                stuck=None,
                escalated_to=None,
                autofix=None,
            )
        yield self.record(
            "loop",
            loop_id=loop_id,
            stop_reason=reason,
            attempts=used,
            fixers=ladder,
            verdict="passed" if reason == "clean" else "failed",
            duration_s=round(rng.uniform(30, 1800), 3),
        )

    def session(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        session_id = f"{rng.getrandbits(128):032x}"
        agent = rng.choice(AGENTS)
        blocks = rng.choice((0, 0, 1, 1, 2, 3, 5))
        for n in range(blocks + 1):
            last = n == blocks
            clean = last and rng.random() < 0.8
            yield self.run("agent", not clean, session_id=session_id)
            yield self.record(
                "hook",
                session_id=session_id,
                agent=agent,
                base="abc",
                decision="stop" if last else "block",
                blocks_so_far=n,
                verdict="passed" if clean else "failed",
                tree="t",
                fingerprints=[] if clean else ["x"],
                why="clean" if clean else ("budget of 5 blocks spent" if last else None),
            )


def ledger_lines(count: int, seed: int = 16) -> list[str]:
    """``count`` records as ledger lines, oldest first."""
    w = Writer(seed)
    lines: list[str] = []
    while len(lines) < count:
        pick = w.rng.random()
        if pick < 0.45:
            batch = list(w.loop())
        elif pick < 0.75:
            batch = list(w.session())
        else:
            batch = [w.run(w.rng.choice(("pre-push", "ci", "person")), w.rng.random() < 0.3)]
        lines += [json.dumps(r, separators=(",", ":")) for r in batch]
    return lines[:count]


def timed(args: list[str], runs: int) -> tuple[float, float, float, float]:
    """Wall time median, min, max and the median CPU time (user + system) of ``args``."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), min(times), max(times), statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="write the ledger and page here")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="report-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ledger = work / "ledger.jsonl"
    ledger.write_text("\n".join(ledger_lines(args.records)) + "\n", encoding="utf-8")
    page = work / "report.html"
    gate = [sys.executable, "-m", "gatekeeper", "report", "--ledger", str(ledger)]
    rows = [
        ("report --html", timed([*gate, "--html", str(page)], args.runs)),
        ("report --format json", timed([*gate, "--format", "json"], args.runs)),
        ("report (terminal summary)", timed(gate, args.runs)),
        (
            "gatekeeper --version",
            timed([sys.executable, "-m", "gatekeeper", "--version"], args.runs),
        ),
    ]
    size = page.stat().st_size
    print(
        f"#### gatekeeper report, {args.records:,} ledger records "
        f"({ledger.stat().st_size / 1e6:.1f} MB ledger; {args.runs} runs; "
        f"{platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})\n"
    )
    print("| what | wall, median | wall, min | wall, max | CPU, median |")
    print("|---|---:|---:|---:|---:|")
    for name, (mid, low, high, cpu) in rows:
        print(f"| {name} | {mid:.3f} s | {low:.3f} s | {high:.3f} s | {cpu:.3f} s |")
    build, low, cpu = rows[0][1][0], rows[0][1][1], rows[0][1][3]
    print(f"\npage size: {size / 1e6:.2f} MB (target < 2 MB): {'met' if size < 2e6 else 'NOT met'}")
    print(
        f"page build, median: {build:.3f} s [min {low:.3f} s, CPU {cpu:.3f} s] (target < 2 s): "
        f"{'met' if build < 2 else 'NOT met'} [{'met' if low < 2 else 'NOT met'}]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
