"""The ``pytest`` stage: run the tests, report each failure at its crash site.

Zero tests collected or run is an error, never a pass: a green verdict must mean tests ran.
pytest's exit codes 2–5 (interrupted, internal error, usage error, no tests collected) are
errors of the run, not findings — except that an interrupted collection is reported as the
collection errors that caused it. Collection errors, and a session that stopped before every
collected test ran (``-x``, ``--maxfail``, ``--stepwise``), are findings that stop the tool:
they always block and are never baselined.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gatekeeper
from gatekeeper import Finding, Stage, StageContext, StageError, StageSkip

from . import _coverage, _private_plugin
from . import _pytest_select as select

REPORTER_SOURCE = Path(__file__).parent / "_pytest_report" / "gatekeeper_pytest_report.py"
#: Test files and directories: a skip raised there is the tests' own decision.
TEST_DIRS = frozenset({"tests", "test", "testing"})
HINT = (
    "fix the code under test (or the test, if the test is wrong); skipping, xfailing, "
    "deleting or weakening the test is reported as tampering"
)
COLLECT_HINT = "fix the import or syntax error so the tests can be collected"
STOPPED_HINT = (
    "every collected test must run for a verdict: drop -x / --maxfail / --stepwise from the "
    "stage's args, addopts or PYTEST_ADDOPTS, and fix what stopped the session"
)
#: pytest's exit codes that mean the run itself broke (not that tests failed).
BROKEN = {
    2: "was interrupted",
    3: "hit an internal error",
    4: "was used wrongly",
    5: "collected no tests",
}
# Places a traceback names: `File "x.py", line 3` (syntax errors) and `x.py:3: in <module>`.
_PLACE = re.compile(r'File "(?P<a>[^"]+)", line (?P<b>\d+)|^(?P<c>\S[^:\n]*):(?P<d>\d+): in ', re.M)


def _inside(ctx: StageContext, path: str) -> bool:
    p = Path(path)
    if not p.is_absolute():
        p = ctx.root / p
    try:
        p.resolve().relative_to(ctx.root.resolve())
    except ValueError:
        return False
    return True


def _same_file(ctx: StageContext, a: str, b: str) -> bool:
    return ctx.relpath(ctx.root / a) == ctx.relpath(ctx.root / b)


def collect_line(ctx: StageContext, path: str, text: str) -> int:
    """The last line of ``path`` that a collection error's traceback names (0: none)."""
    line = 0
    for match in _PLACE.finditer(text):
        where, number = (match["a"], match["b"]) if match["a"] else (match["c"], match["d"])
        if _same_file(ctx, where, path):
            line = int(number)
    return line


def collect_finding(ctx: StageContext, err: dict[str, Any]) -> Finding:
    """A finding for a test module that could not be collected (import or syntax error)."""
    text = str(err.get("text") or "").strip()
    last = text.splitlines()[-1].removeprefix("E").strip() if text else ""
    path = err.get("path") or err["nodeid"]
    return ctx.finding(
        "collection-error",
        path,
        collect_line(ctx, path, text),
        0,
        f"{err['nodeid']}: {last or 'error during collection'}",
        hint=COLLECT_HINT,
        stops_tool=True,
    )


def crash_message(crash: dict[str, Any], text: str) -> str:
    """The assertion's message: its first line, plus the comparison when a message hid it."""
    lines = [ln.strip() for ln in str(crash.get("message") or "").splitlines() if ln.strip()]
    if not lines:
        tail = text.strip().splitlines()
        return tail[-1].removeprefix("E").strip() if tail else "failed"
    if lines[0].startswith("AssertionError") and len(lines) > 1 and lines[1].startswith("assert"):
        return f"{lines[0]} ({lines[1]})"
    return lines[0]


def failure_finding(ctx: StageContext, fail: dict[str, Any]) -> Finding:
    """A finding for a failing test, at its crash site when that is inside the repository."""
    crash = fail.get("crash") or {}
    where_path, where_line = fail["path"], fail["line"]
    if crash.get("path") and _inside(ctx, crash["path"]):
        where_path, where_line = crash["path"], crash["line"]
    rule = "test-failed" if fail["when"] == "call" else f"test-{fail['when']}-error"
    message = crash_message(crash, str(fail.get("text") or ""))
    return ctx.finding(
        rule,
        where_path,
        where_line,
        0,
        f"{fail['nodeid']}: {message}",
        hint=HINT,
        subject=str(fail["nodeid"]),  # a test failing at the base is the same failure
    )


def stopped_finding(ctx: StageContext, data: dict[str, Any]) -> list[Finding]:
    """A finding when the session ended before every collected test reported (else none)."""
    collected, ran = int(data.get("collected") or 0), int(data.get("ran") or 0)
    if data.get("collect_errors") or ran >= collected:
        return []  # collection errors already say why nothing (or not everything) ran
    why = str(data.get("stopped") or "the session ended early")
    return [
        ctx.finding(
            "stopped-early",
            "",
            0,
            0,
            f"pytest stopped before every test ran ({why}): {collected - ran} of "
            f"{collected} collected tests did not run",
            hint=STOPPED_HINT,
            stops_tool=True,
        )
    ]


def is_test_path(path: str) -> bool:
    """A test module, a conftest, or a file under a ``tests``/``test`` directory."""
    parts = Path(path).parts
    name = parts[-1] if parts else ""
    return (
        name == "conftest.py"
        or name.startswith("test_")
        or name.endswith("_test.py")
        or any(p in TEST_DIRS for p in parts[:-1])
    )


def rewritten_finding(ctx: StageContext, item: dict[str, Any]) -> Finding:
    """A test whose failure a hook reported as something else."""
    path = str(item["nodeid"]).split("::", 1)[0]
    return ctx.finding(
        "test-outcome-rewritten",
        path,
        0,
        0,
        f"{item['nodeid']}: raised, but a hook reported it as {item['claimed']}",
        hint="remove the hook that rewrites test outcomes and fix the code under test",
    )


def skip_findings(ctx: StageContext, data: dict[str, Any]) -> list[Finding]:
    """Skips and xfails raised by code under test rather than by the tests themselves.

    Used when the tamper guard runs the base's tests (option ``strict_skips``): the tests are
    as the base wrote them, so a skip that comes from anywhere else in the repository was
    added by the change.
    """
    found = []
    for skip in data.get("skips", []):
        path = str(skip.get("path") or "")
        if not path or not _inside(ctx, path) or is_test_path(ctx.relpath(ctx.root / path)):
            continue
        found.append(
            ctx.finding(
                f"test-{skip['kind']}-by-code",
                ctx.root / path,
                int(skip.get("line") or 0),
                0,
                f"{skip['nodeid']}: {skip['kind']} by code under test: {skip.get('reason', '')}",
                hint="code under test must not skip or xfail the tests; fix the code instead",
            )
        )
    return found


def parse(ctx: StageContext, data: dict[str, Any]) -> list[Finding]:
    """Findings for failed tests (at the crash site inside the repo), collection errors, and
    a session cut short."""
    findings = [collect_finding(ctx, err) for err in data.get("collect_errors", [])]
    findings += [rewritten_finding(ctx, item) for item in data.get("rewritten", [])]
    if ctx.options.get("strict_skips"):
        findings += skip_findings(ctx, data)
    findings += [failure_finding(ctx, fail) for fail in data.get("failures", [])]
    return findings + stopped_finding(ctx, data)


def read_report(path: Path, code: int, output: str, nonce: str = "") -> dict[str, Any]:
    """The reporter plugin's JSON; a missing, malformed or forged report is a StageError.

    Forged means: without this run's ``nonce``, or claiming an exit status other than the
    process's own (a report written by the project, then ``os._exit``).
    """
    if not path.exists():
        raise StageError(f"pytest exited with code {code} without a report", output)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StageError(f"cannot read pytest's report: {exc}", output) from None
    if not isinstance(data, dict) or not isinstance(data.get("outcomes"), dict):
        raise StageError("pytest's report has no outcomes", output)
    if nonce and data.get("nonce") != nonce:
        raise StageError(
            "pytest's report was not written by gatekeeper's reporter (a forged report file)",
            output,
        )
    if data.get("exitstatus") != code:
        raise StageError(
            f"pytest exited with code {code} but its session ended with "
            f"{data.get('exitstatus')} (the process was ended early, e.g. by os._exit)",
            output,
        )
    return data


def judge(data: dict[str, Any], findings: list[Finding], code: int, output: str) -> None:
    """Raise a StageError when the run broke, ran no tests, or failed without findings."""
    # Exit 2 with collection errors is pytest refusing to run a broken suite: those errors
    # are the findings. Exit 2 otherwise (pytest.exit, Ctrl-C in a test) is a broken run.
    collect = any(f.rule == "collection-error" for f in findings)
    if code in BROKEN and not (code == 2 and collect):
        raise StageError(f"pytest {BROKEN[code]} (exit {code})", output)
    if not findings:
        require_tests(data)
    if code == 1 and not findings:
        raise StageError("pytest reported failures that could not be parsed", output)


def require_tests(data: dict[str, Any]) -> None:
    """Zero tests collected, or every one skipped, proves nothing: a StageError."""
    outcomes = data["outcomes"]
    collected = data.get("collected", 0)
    ran = sum(v for k, v in outcomes.items() if k != "skipped")
    if ran == 0:
        raise StageError(
            f"no tests ran ({collected} collected, {outcomes.get('skipped', 0)} skipped): "
            "a gate with no tests proves nothing; add tests, or turn the stage off with "
            "`[tool.gatekeeper.stages.pytest] enabled = false` (or `--skip pytest` once)"
        )


def _reporter(tmp: Path) -> tuple[str, dict[str, str], str]:
    """Install the reporter under a name chosen for this run; its name, env and nonce.

    A module of the project cannot shadow a name it cannot know, and the nonce file is gone
    (read by the reporter at import) before any conftest or test runs.
    """
    plugin_dir = tmp / "plugin"
    name = _private_plugin.install(REPORTER_SOURCE, plugin_dir)
    nonce = secrets.token_hex(16)
    nonce_file = tmp / f"nonce-{name}"
    nonce_file.write_text(nonce, encoding="utf-8")
    path = os.pathsep.join(p for p in (str(plugin_dir), os.environ.get("PYTHONPATH")) if p)
    env = {
        "GATEKEEPER_PYTEST_REPORT": str(tmp / "report.json"),
        "GATEKEEPER_PYTEST_NONCE": str(nonce_file),
        "PYTHONPATH": path,
    }
    return name, env, nonce


def _pytest(
    ctx: StageContext, args: list[str], env: dict[str, str] | None = None
) -> tuple[dict[str, Any], int, str]:
    """Run pytest with the reporter plugin: its report, the exit code and the output."""
    with tempfile.TemporaryDirectory(prefix="gatekeeper-pytest-") as tmp:
        name, mine, nonce = _reporter(Path(tmp))
        if env and "PYTHONPATH" in env:
            mine["PYTHONPATH"] = os.pathsep.join((mine["PYTHONPATH"], env["PYTHONPATH"]))
        env = {**(env or {}), **mine}
        argv = ["-p", name, "-p", "no:cacheprovider", "-q", "--color=no"]
        done = ctx.run_tool([*argv, *args], ok=range(-64, 6), env=env)
        if done.returncode < 0:
            # Stopped from outside (Ctrl-C, fail-fast, a hand-back): never retried, never
            # followed by another group of tests.
            raise Stopped(f"pytest was stopped by signal {-done.returncode}", done.output)
        report = Path(env["GATEKEEPER_PYTEST_REPORT"])
        data = read_report(report, done.returncode, done.output, nonce)
        return data, done.returncode, done.output


class Stopped(StageError):
    """pytest was killed by a signal: the run ends there, whatever fallback would follow."""


def _failed_ids(data: dict[str, Any]) -> list[str]:
    ids = [str(e.get("nodeid") or e.get("path") or "") for e in data.get("collect_errors", [])]
    return [i for i in ids + [str(f["nodeid"]) for f in data.get("failures", [])] if i]


def _testmon_env(ctx: StageContext) -> dict[str, str]:
    return {"TESTMON_DATAFILE": str(select.datafile(ctx))}


def run(ctx: StageContext) -> list[Finding]:
    """Run the tests with the reporter plugin and judge the outcome.

    In an attempt's fast path (``ctx.fast_path``) only the tests that failed last time, then
    the tests the change affects, run; see :func:`fast_path`.
    """
    if ctx.fast_path:
        return fast_path(ctx)
    if select.should_build(ctx):
        try:
            # Record which code each test runs, once: coverage tracing slows this one run
            # (3.6x on more-itertools); the fast path's own runs keep the data current after.
            return _full(ctx, ["--testmon-noselect"], _testmon_env(ctx))
        except Stopped:
            raise
        except StageError:
            # Broken by testmon (say, data it cannot read)? Without it the run decides alone.
            select.forget_data(ctx)
    return _full(ctx, [], None)


def _full(ctx: StageContext, extra: list[str], env: dict[str, str] | None) -> list[Finding]:
    # Coverage of the changed files for the test-quality stage, from this same run.
    measuring = _coverage.prepare(ctx)
    if measuring:
        env = {**(env or {}), **measuring.env()}
        extra = [*measuring.plugin_args(), *extra]
    data, code, output = _pytest(ctx, [*extra, *ctx.args, *ctx.paths], env)
    if measuring:
        _coverage.publish(ctx, measuring)
    tell_counts(ctx, data)
    findings = parse(ctx, data)
    judge(data, findings, code, output)
    select.remember(ctx, _failed_ids(data), None)
    return findings


def fast_path(ctx: StageContext) -> list[Finding]:
    """What can fail first: last run's failures, then the tests affected since the last run.

    The first group that still fails is handed back at once. A group that cannot run (a test
    id gone, testmon broken) is passed over. An empty result only means *these* passed: the
    core runs the whole suite before any verdict (see :mod:`gatekeeper.fastpath`). With
    nothing to select by (a first run) it declines (:class:`StageSkip`): the suite runs now.
    """
    first = select.last_failed(ctx)
    usable = select.testmon_usable(ctx)
    testmon = usable and select.data_ready(ctx)
    if not first and not testmon:
        raise StageSkip("nothing to select tests by yet")
    if first:
        found = _group(ctx, list(first), None, ok=(0, 1))
        if found is not None:
            select.remember(ctx, _failed_ids(found[1]), first)
            if found[0]:
                return found[0]
    if not testmon:
        return [_no_selection(ctx, usable)]
    deselect = [f"--deselect={i}" for i in first]
    args = ["--testmon-forceselect", *deselect, *ctx.args, *ctx.paths]
    found = _group(ctx, args, _testmon_env(ctx), ok=(0, 1, 5))
    if found is None:
        select.forget_data(ctx)
        return []
    if found[0]:
        select.remember(ctx, _failed_ids(found[1]), [])
    return found[0]


def _no_selection(ctx: StageContext, installed: bool) -> Finding:
    """A note: only the last failures went first, because pytest-testmon cannot select."""
    why = (
        "pytest-testmon has no data yet"
        if installed
        else f"pytest-testmon is not installed in {ctx.python} (or pytest does not load it)"
    )
    return ctx.finding(
        "no-test-selection",
        "",
        0,
        0,
        f"only the tests that failed last time ran first ({why}); the full suite decides",
        severity="note",
        hint=f"`{ctx.python} -m pip install pytest-testmon` runs the affected tests first",
    )


def _group(
    ctx: StageContext, args: list[str], env: dict[str, str] | None, ok: tuple[int, ...]
) -> tuple[list[Finding], dict[str, Any]] | None:
    """Findings of one group of tests; None when the group could not run as asked."""
    if env is None:
        args = [*ctx.args, *args]  # test ids given: the configured paths would add the rest
    try:
        data, code, _output = _pytest(ctx, args, env)
    except Stopped:
        raise
    except StageError:
        return None
    findings = parse(ctx, data)
    if code not in ok or (code == 1 and not findings):
        return None
    return findings, data


def tell_counts(ctx: StageContext, data: dict[str, Any]) -> None:
    """pytest's counts for the report (collected, passed, failed, skipped, deselected …) and
    the number of test files collected as the files the stage checked."""
    outcomes = data["outcomes"]
    counts = {"collected": int(data.get("collected", 0)), "deselected": 0}
    counts["deselected"] = int(data.get("deselected", 0))
    counts.update({k: int(v) for k, v in outcomes.items() if isinstance(v, int)})
    ctx.tell("tests", counts)
    if isinstance(data.get("test_files"), int):
        ctx.tell("files_checked", data["test_files"])


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``pytest`` stage."""
    register(
        Stage(
            name="pytest",
            run=run,
            description="run the test suite with pytest (zero tests is an error)",
            tool="pytest",
            needs_project_python=True,
            file_local=False,
            config_files=(
                "pyproject.toml",
                "pytest.ini",
                ".pytest.ini",
                "pytest.toml",
                "setup.cfg",
                "tox.ini",
                "conftest.py",
            ),
            # coverage: measure the changed project files (read by the test-quality stage).
            options={"strict_skips": False, "coverage": True},
            cacheable=True,
            fast_path=True,
        )
    )
