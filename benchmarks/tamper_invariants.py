"""What the tamper guard's invariants cost on top of a loop attempt's gate run.

    python benchmarks/tamper_invariants.py [--rounds N]

A small real project (a package, its tests, mypy/ruff/pytest configured) in a temporary git
repository; every round makes a fresh change (so no stage result is reused from an earlier
round) and runs the gate as the fix loop does (trigger ``loop``, compared with the starting
commit), with the guard and with the guard skipped:

- ``code only``: a new function in the package, no rule or test file touched: the hybrid is
  the change itself, so no extra run happens;
- ``test added``: the same plus a new test file: the hybrid (the change's code, the base's
  tests and rules) is checked once, then the same tree again: the memo answers.

Prints a markdown table of medians (seconds). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from gatekeeper.gate import GateRequest, run_gate
from gatekeeper.models import RunResult
from gatekeeper.testing import CLEAN_TEST, GateRepo, make_repo

PYPROJECT = """\
[project]
name = "sample"
version = "0.1.0"

[tool.mypy]
strict = true

[tool.ruff.lint]
select = ["E", "F"]

[tool.gatekeeper.stages.build]
enabled = false
"""
MODULE = '"""Sample."""\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n'


def _setup(top: Path) -> tuple[GateRepo, str]:
    repo = make_repo(top / "repo", top / "home")
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("sample/__init__.py", MODULE)
    for n in range(20):
        repo.write(f"sample/mod{n}.py", f"def f{n}(x: int) -> int:\n    return x + {n}\n")
        repo.write(
            f"tests/test_mod{n}.py",
            f"from sample.mod{n} import f{n}\n\n\n"
            f"def test_f{n}() -> None:\n    assert f{n}(0) == {n}\n",
        )
    repo.write("tests/test_sample.py", CLEAN_TEST)
    os.environ.update(repo.env)
    return repo, repo.commit("base")


def _run(repo: GateRepo, base: str, guarded: bool) -> tuple[float, RunResult]:
    request = GateRequest(
        root=repo.path,
        trigger="loop",
        compare_to=base,
        skip=() if guarded else ("tamper",),
        record=False,
    )
    started = time.perf_counter()
    result = run_gate(request)
    return time.perf_counter() - started, result


def _change(repo: GateRepo, tag: str, with_test: bool) -> None:
    repo.write("sample/extra.py", f"def extra_{tag}(x: int) -> int:\n    return x * 2\n")
    if with_test:
        repo.write(
            "tests/test_extra.py",
            f"from sample.extra import extra_{tag}\n\n\n"
            f"def test_extra() -> None:\n    assert extra_{tag}(2) == 4\n",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="gatekeeper-bench-") as tmp:
        repo, base = _setup(Path(tmp))
        _run(repo, base, True)  # warm the tools' own caches (mypy) once
        for label, with_test in (("code only", False), ("test added", True)):
            plain, guarded, again, extra, own = [], [], [], [], []
            for n in range(args.rounds):
                _change(repo, f"p{label[0]}{n}", with_test)
                plain.append(_run(repo, base, False)[0])
                _change(repo, f"g{label[0]}{n}", with_test)
                seconds, result = _run(repo, base, True)
                guarded.append(seconds)
                info = next(s for s in result.stages if s.name == "tamper").extra
                extra.append(len(info.get("invariants", {}).get("stages") or []))
                own.append(float(info.get("invariants", {}).get("duration_s") or 0.0))
                again.append(_run(repo, base, True)[0])
            rows.append((label, plain, guarded, again, extra, own))
    print(
        "| change | gate without guard | with guard | invariants' own time | "
        "same tree again | stages run on the hybrid |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, plain, guarded, again, extra, own in rows:
        print(
            f"| {label} | {statistics.median(plain):.2f} | {statistics.median(guarded):.2f} | "
            f"{statistics.median(own):.2f} | {statistics.median(again):.2f} | "
            f"{max(extra) or 'none'} |"
        )
    print(f"\nmedians of {args.rounds} rounds, seconds; python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
