"""``gatekeeper report``: figures from a real ledger, written by real loops, hooks and runs.

One ledger is built once for the module: five fix loops run at the same time, each in its own
linked worktree of one repository (so they share its ledger) with a scripted fixer — honest,
honest but crashing first, a liar that claims success and changes nothing, a cheater that adds
``# noqa``, one that hangs past its timeout — then two agent sessions through the Stop hook
and two plain runs (the second from the cache). A clone gets a run of its own, for
aggregation. The figures are then checked exactly against what those runs must have produced.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from browser_support import chromium, probe, screenshot
from loop_support import fixer, sample_repo

from gatekeeper.testing import GateRepo, GateResult, isolated_env, make_repo

RUFF = ("--stage", "ruff")
SCHEMA = Path(__file__).parent.parent / "gatekeeper" / "schemas" / "ledger-report-v1.json"
DEFECT = "    spare = 2\n"
#: name -> (fixer command line, extra loop arguments)
LOOPS = {
    "honest": (fixer("honest"), ()),
    "crash": (fixer("honest", "--crash-first"), ()),
    "liar": (fixer("noop"), ()),
    "cheater": (fixer("cheat", "noqa"), ()),
    "hang": (fixer("hang"), ("--timeout", "1", "--max-attempts", "1")),
}


def _worktree(repo: GateRepo, name: str) -> GateRepo:
    path = repo.path.parent / f"wt-{name}"
    repo.git("worktree", "add", "--quiet", "-b", name, str(path))
    return GateRepo(path, repo.env)


def _stop(repo: GateRepo, session: str) -> dict[str, Any]:
    payload = {
        "session_id": session,
        "cwd": str(repo.path),
        "hook_event_name": "Stop",
        "transcript_path": f"/home/dev/.claude/projects/sample/{session}.jsonl",
    }
    done = repo.gate("hook", "claude-stop", *RUFF, input=json.dumps(payload))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _sessions(repo: GateRepo) -> None:
    # The defect is the agent's own (uncommitted), so it is the change's whatever the base.
    calc = repo.path / "sample" / "calc.py"
    clean = calc.read_text(encoding="utf-8").replace(DEFECT, "")
    calc.write_text(clean, encoding="utf-8")
    repo.commit("clean")
    calc.write_text(clean.replace("    return 1\n", DEFECT + "    return 1\n"), encoding="utf-8")
    assert _stop(repo, "session-1").get("decision") == "block"
    calc.write_text(clean, encoding="utf-8")
    assert "decision" not in _stop(repo, "session-1")
    assert "decision" not in _stop(repo, "session-2")


def _loop(wt: GateRepo, name: str, tmp: Path) -> GateResult:
    command, extra = LOOPS[name]
    return wt.gate(
        "loop",
        "--agent",
        command,
        *RUFF,
        *extra,
        "--format",
        "json",
        env={"FIXER_PIDS": str(tmp / f"{name}.pids")},
    )


def _build(base: Path) -> dict[str, Any]:
    repo = make_repo(base / "repo", base / "home")
    sample_repo(repo, ("ruff",))
    trees = {name: _worktree(repo, name) for name in LOOPS}
    clone = base / "clone"
    repo.git("clone", "--quiet", str(repo.path), str(clone))
    other = GateRepo(clone, repo.env)
    with ThreadPoolExecutor(max_workers=len(LOOPS) + 1) as pool:
        loops = {name: pool.submit(_loop, wt, name, base) for name, wt in trees.items()}
        cloned = pool.submit(other.gate, "run", *RUFF)
        results = {name: f.result() for name, f in loops.items()}
    # The clone's defect is at its base (its origin's main): existing, it does not block.
    assert cloned.result().returncode == 0
    for name, result in results.items():
        assert result.returncode in (0, 1), (name, result.stderr)
    _sessions(repo)
    for _ in range(2):
        assert repo.gate("run", *RUFF).returncode == 0
    page = base / "report.html"
    html = repo.gate("report", "--html", str(page), "--format", "json")
    assert html.returncode == 0, html.stderr
    return {"loops": {name: r.json for name, r in results.items()}, "figures": html.json}


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The shared ledger and what was run to fill it.

    Built once per test session: under xdist, the first worker to get here builds it (under a
    lock) in the directory all workers share, and the others read what it left.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    base, summary = root / "report-floor", root / "report-floor.json"
    with (root / "report-floor.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not summary.exists():
            shutil.rmtree(base, ignore_errors=True)  # what a failed build left
            base.mkdir()
            summary.write_text(json.dumps(_build(base)), encoding="utf-8")
    built = json.loads(summary.read_text(encoding="utf-8"))
    env = isolated_env(base / "home")
    return {
        **built,
        "repo": GateRepo(base / "repo", env),
        "clone": GateRepo(base / "clone", env),
        "trees": {name: GateRepo(base / f"wt-{name}", env) for name in LOOPS},
        "page": base / "report.html",
        "work": base,
    }


def _ledger(repo: GateRepo) -> list[dict[str, Any]]:
    lines = (repo.path / ".gatekeeper" / "ledger.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in lines.splitlines()]


def _row(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    (found,) = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    return found


def _yield(units: int, first: int, final: int) -> dict[str, Any]:
    return {
        "units": units,
        "first_pass": first,
        "final": final,
        "first_pass_yield": round(first / units, 4),
        "final_yield": round(final / units, 4),
    }


def test_the_loops_ended_as_their_fixers_dictate(floor):
    reasons = {
        name: (r["stop_reason"], len([a for a in r["attempts"] if a.get("fixer")]))
        for name, r in floor["loops"].items()
    }
    assert reasons == {
        "honest": ("clean", 1),
        "crash": ("clean", 2),
        "liar": ("stuck", 1),
        "cheater": ("tamper", 1),
        "hang": ("budget", 1),
    }


def test_linked_worktrees_share_one_ledger(floor):
    assert not any((wt.path / ".gatekeeper").exists() for wt in floor["trees"].values())
    ends = [r for r in _ledger(floor["repo"]) if r["kind"] == "loop"]
    assert sorted(r["loop_id"] for r in ends) == sorted(
        r["loop_id"] for r in floor["loops"].values()
    )
    # ... and a report run from any of them reads the same figures
    again = floor["trees"]["hang"].gate("report", "--format", "json").json
    assert again["yield"] == floor["figures"]["yield"]


def test_json_yield_is_exact(floor):
    fig = floor["figures"]
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(fig)
    y = fig["yield"]
    assert {k: y["loops"][k] for k in _yield(5, 1, 2)} == _yield(5, 1, 2)
    assert {k: y["sessions"][k] for k in _yield(2, 1, 2)} == _yield(2, 1, 2)
    assert {k: y["overall"][k] for k in _yield(7, 2, 4)} == _yield(7, 2, 4)
    by_agent = {
        (r["kind"], r["agent"]): (r["units"], r["first_pass"], r["final"]) for r in y["by_agent"]
    }
    assert by_agent == {
        ("loop", "honest"): (1, 1, 1),
        ("loop", "honest --crash-first"): (1, 0, 1),
        ("loop", "noop"): (1, 0, 0),
        ("loop", "cheat noqa"): (1, 0, 0),
        ("loop", "hang"): (1, 0, 0),
        ("session", "claude"): (2, 1, 2),
    }
    (today,) = y["by_day"]
    assert (today["units"], today["first_pass"], today["final"]) == (7, 2, 4)


def test_json_attempts_and_stop_reasons_are_exact(floor):
    a = floor["figures"]["attempts"]
    hist = {(r["kind"], r["agent"]): r["histogram"] for r in a["to_clean"] if r["clean"]}
    assert hist == {
        ("loop", "honest"): {"1": 1},
        ("loop", "honest --crash-first"): {"2": 1},
        ("session", "claude"): {"1": 1, "2": 1},
    }
    assert a["overall"] == {"clean": 4, "median": 1.5}
    reasons = {
        r["agent"]: {k: v for k, v in r.items() if k not in ("agent", "units") and v}
        for r in a["stop_reasons"]
    }
    assert reasons == {
        "honest": {"clean": 1},
        "honest --crash-first": {"clean": 1},
        "noop": {"stuck": 1},
        "cheat noqa": {"tamper": 1},
        "hang": {"budget": 1},
    }
    (sessions,) = a["session_outcomes"]
    assert (sessions["agent"], sessions["units"], sessions["clean"]) == ("claude", 2, 2)


def test_json_what_fails_and_where_the_time_goes(floor):
    fig, records = floor["figures"], _ledger(floor["repo"])
    runs = [r for r in records if r["kind"] == "run"]
    failures = fig["failures"]
    ruff_failed = sum(1 for r in runs if r["stages"].get("ruff") == "failed")
    assert failures["stages"][0] == {
        "stage": "ruff",
        "failed": ruff_failed,
        "error": 0,
        "runs": sum(1 for r in runs if r["stages"].get("ruff", "skipped") != "skipped"),
    }
    assert _row(failures["stages"], stage="tamper")["failed"] == 1
    rule = _row(failures["rules"], stage="ruff", rule="F841")
    assert rule["findings"] == 1 and rule["runs"] == ruff_failed
    assert (rule["new"], rule["existing"], rule["unmarked"]) == (1, 0, 0)  # the change's own
    assert failures["existing_recorded"] is True
    assert [(t["rule"], t["findings"], t["units"]) for t in failures["tamper"]] == [
        ("tamper-noqa", 1, 1)
    ]
    time = fig["time"]
    assert _row(time["fixers"], fixer="hang")["timeouts"] == 1
    assert _row(time["fixers"], fixer="honest --crash-first")["nonzero_exits"] == 1
    assert _row(time["fixers"], fixer="honest --crash-first")["attempts"] == 2
    honest = _row(time["fixers"], fixer="honest")
    assert honest["median_s"] > 0 and honest["gate_median_s"] > 0  # the fixer, then the re-check
    ruff = _row(time["stages"], stage="ruff")
    cached = sum(1 for r in runs if "ruff" in r.get("cached", ()))
    assert cached >= 1  # the second plain run replayed ruff from the cache
    assert ruff["cached"] == cached and ruff["runs"] == len(runs) - cached
    assert 0 < ruff["median_s"] <= ruff["p90_s"]
    by_trigger = {r["trigger"]: (r["runs"], r["passed"]) for r in fig["runs"]}
    assert by_trigger["person"] == (2, 2) and by_trigger["agent"] == (3, 2)


def test_latest_table_links_every_unit_to_its_attempts(floor):
    fig = floor["figures"]
    latest = fig["latest"]
    assert [u["kind"] for u in latest].count("loop") == 5
    session = _row(latest, id="session-1")
    assert [(s["result"], s["after"]) for s in session["steps"]] == [
        ("block", "failed"),
        ("stop", "passed"),
    ]
    crash = _row(latest, id=floor["loops"]["crash"]["loop_id"])
    assert [s["result"] for s in crash["steps"]] == ["exit 1", "exit 0"]
    assert crash["steps"][1]["fixed"] == 1
    html = floor["page"].read_text(encoding="utf-8")
    for unit in latest:
        anchor = f"{unit['kind']}-{unit['id']}"
        assert f'href="#{anchor}"' in html and f'<details id="{anchor}">' in html


def test_the_page_holds_the_figures(floor):
    html = floor["page"].read_text(encoding="utf-8")
    assert len(html.encode()) < 2_000_000
    embedded = re.search(
        r'<script type="application/json" id="gatekeeper-figures">(.*?)</script>', html, re.S
    )
    assert embedded and json.loads(embedded.group(1)) == floor["figures"]
    tile = re.search(r'data-figure="first-pass-yield"><div class="value">([^<]*)<', html)
    assert tile and tile.group(1) == "29%"  # 2 of 7
    assert 'data-figure="final-yield"><div class="value">57%<' in html  # 4 of 7
    # self-contained: no script, style or image is fetched from anywhere
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)
    assert "honest --crash-first" in html


def test_text_summary(floor):
    done = floor["repo"].gate("report")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "loops 5: first pass 20% (1), final 40% (2)" in out
    assert "sessions 2: first pass 50% (1), final 100% (2)" in out
    assert "cheat noqa" in out and "tamper 1" in out
    assert "tamper-noqa 1" in out
    assert max(map(len, out.splitlines())) <= 100


def test_ledgers_of_several_clones_aggregate_once_each(floor):
    repo, clone = floor["repo"], floor["clone"]
    one = floor["figures"]
    both = repo.gate(
        "report", "--ledger", str(repo.path), "--ledger", str(clone.path), "--format", "json"
    ).json
    assert [s["records"] for s in both["ledgers"]] == [sum(one["records"].values()), 1]
    runs = {r["trigger"]: r["runs"] for r in both["runs"]}
    assert runs["person"] == 3
    clone_only = repo.gate("report", "--ledger", str(clone.path), "--format", "json").json
    (rule,) = clone_only["failures"]["rules"]
    assert (rule["rule"], rule["new"], rule["existing"]) == ("F841", 0, 1)
    assert clone_only["failures"]["existing_recorded"] is True
    twice = repo.gate(
        "report",
        "--ledger",
        str(repo.path),
        "--ledger",
        str(repo.path / ".gatekeeper" / "ledger.jsonl"),
        "--format",
        "json",
    ).json
    assert twice["yield"] == one["yield"] and twice["ledgers"][1]["records"] == 0


def test_window(floor):
    repo = floor["repo"]
    future = repo.gate("report", "--since", "2999-01-01", "--format", "json").json
    assert future["yield"]["overall"]["units"] == 0 and future["latest"] == []
    today = floor["figures"]["yield"]["by_day"][0]["day"]
    same = repo.gate("report", "--since", today, "--until", today, "--format", "json").json
    assert same["yield"] == floor["figures"]["yield"]
    recent = repo.gate("report", "--since", "1h", "--format", "json").json
    assert recent["yield"]["overall"]["units"] == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "last tuesday"), "--since: cannot read 'last tuesday' as a time"),
        (("--since", "2026-11-02", "--until", "2026-11-01"), "is not after --since"),
        (("--ledger", "/nonexistent/ledger"), "no such file or directory"),
    ],
)
def test_bad_options_are_one_line_errors(floor, args, message):
    done = floor["repo"].gate("report", *args)
    assert done.returncode == 2
    assert message in done.stderr and "hint:" in done.stderr
    assert "Traceback" not in done.stderr


def test_html_without_the_charting_library_is_one_line_with_the_install_command(floor, tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "bokeh.py").write_text("")  # a module, not the package with BokehJS in it
    env = {"PYTHONPATH": str(shadow)}
    repo = floor["repo"]
    done = repo.gate("report", "--html", str(tmp_path / "r.html"), env=env)
    assert done.returncode == 2 and not (tmp_path / "r.html").exists()
    assert "pip install 'gatekeeper-gate[report]'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 2 and "Traceback" not in done.stderr
    assert repo.gate("report", "--format", "json", env=env).json["yield"]["loops"]["units"] == 5


def test_version_does_not_import_the_report():
    code = (
        "import sys; from gatekeeper.cli import main; main(['--version']); "
        "assert not [m for m in sys.modules if m.startswith(('gatekeeper.metrics', 'bokeh'))]"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(
    chromium() is None,
    reason="Chromium is not installed (Debian: apt-get install chromium; .ci/run does it)",
)
def test_the_page_renders_in_chromium(floor):
    result = probe(floor["page"], floor["work"])
    assert result["errors"] == [] and result["console"] == []
    assert result["charts"] == {
        f"chart-{key}": "drawn"
        for key in (
            "yield-time",
            "yield-agent",
            "attempts",
            "stop-reasons",
            "stages",
            "rules",
            "tamper",
            "stage-time",
            "fixer-time",
            "cache",
        )
    }
    target = os.environ.get("GATEKEEPER_REPORT_SCREENSHOT")
    if target:  # how docs/report.png is made
        screenshot(floor["page"], Path(target), floor["work"], size="1400,3000")


def test_worktrees_of_a_bare_repository_share_one_ledger(tmp_path):
    seed = make_repo(tmp_path / "seed", tmp_path / "home")
    seed.write("sample/__init__.py", '"""Sample."""\n')
    seed.commit("seed")
    bare = tmp_path / "repo.git"
    seed.git("clone", "--bare", "--quiet", str(seed.path), str(bare))
    trees = []
    for name in ("a", "b"):
        seed.git("-C", str(bare), "worktree", "add", "--quiet", "-b", name, str(tmp_path / name))
        trees.append(GateRepo(tmp_path / name, seed.env))
    for tree in trees:
        assert tree.gate("run", *RUFF).returncode == 0
    assert not any((tree.path / ".gatekeeper").exists() for tree in trees)
    assert (bare / "gatekeeper" / "ledger.jsonl").is_file()  # in the git directory they share
    runs = trees[0].gate("report", "--format", "json").json["runs"]
    assert [(r["trigger"], r["runs"]) for r in runs] == [("person", 2)]


HOSTILE = "</script><script>window.pwned=1</script>"


def test_odd_records_cost_only_themselves_and_names_stay_text(tmp_path):
    when = "2026-11-01T10:00:00+00:00"
    lines = [
        "not json at all",
        json.dumps({"kind": "loop", "id": "a"}),  # no loop id: unusable
        json.dumps(
            {
                "kind": "attempt",
                "id": "b",
                "ts": when,
                "loop_id": "L1",
                "attempt": 1,
                "fixer": HOSTILE,
                "fixer_exit": True,
                "fixer_duration_s": "slow",
                "verdict_after": "passed",
            }
        ),
        json.dumps(
            {
                "kind": "loop",
                "id": "c",
                "ts": when,
                "loop_id": "L1",
                "stop_reason": "clean",
                "attempts": "one",
                "fixers": [HOSTILE, 7],
            }
        ),
        json.dumps(
            {
                "kind": "run",
                "id": "d",
                "ts": "yesterday",
                "verdict": "failed",
                "stages": ["ruff"],
                "timings": {"ruff": "fast"},
                "cached": "ruff",
                "findings": [
                    {"stage": "ruff"},
                    "x",
                    {"fingerprint": "f", "stage": "ruff", "rule": "<b>E1</b>", "existing": "yes"},
                ],
            }
        ),
        json.dumps(
            {
                "kind": "hook",
                "id": "e",
                "ts": "2026-11-01T11:00:00Z",
                "session_id": "<img src=x onerror=alert(1)>",
                "decision": "stop",
                "why": "clean",
                "verdict": "passed",
            }
        ),
        json.dumps({"kind": "a-kind-from-the-future", "id": "f"}),
        # passed, but with stages skipped on request: the hook never calls that clean
        json.dumps(
            {
                "kind": "hook",
                "id": "i",
                "ts": when,
                "session_id": "S2",
                "decision": "stop",
                "why": "passed without mypy (left out on request)",
                "verdict": "passed",
            }
        ),
        # a loop still running (attempts, no end yet) and one that found nothing to fix
        json.dumps(
            {
                "kind": "attempt",
                "id": "g",
                "ts": when,
                "loop_id": "L2",
                "attempt": 1,
                "fixer": "claude",
                "fixer_exit": 0,
                "verdict_after": "failed",
            }
        ),
        json.dumps(
            {
                "kind": "loop",
                "id": "h",
                "ts": when,
                "loop_id": "L3",
                "stop_reason": "clean",
                "attempts": 0,
                "fixers": ["claude"],
            }
        ),
        '{"kind": "run", "verdict": "pass',  # torn by a writer killed mid-line
    ]
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("\n".join(lines), encoding="utf-8")
    page = tmp_path / "page.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gatekeeper",
            "report",
            "--ledger",
            str(ledger),
            "--html",
            str(page),
            "--format",
            "json",
        ],
        cwd=tmp_path,
        env=isolated_env(tmp_path / "home"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    fig = json.loads(done.stdout)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(fig)
    assert fig["records"] == {
        "a-kind-from-the-future": 1,
        "attempt": 2,
        "hook": 2,
        "loop": 3,
        "run": 1,
        "unusable": 1,
    }
    assert _yield(3, 2, 2).items() <= fig["yield"]["overall"].items()
    assert _row(fig["latest"], id="S2")["outcome"] == "partial"
    assert fig["yield"]["not_counted"] == {"nothing_to_fix": 1, "running": 1}
    assert _row(fig["latest"], id="L2")["outcome"] == "running"
    assert [(r["rule"], r["findings"], r["unmarked"]) for r in fig["failures"]["rules"]] == [
        ("<b>E1</b>", 1, 1)
    ]
    html = page.read_text(encoding="utf-8")
    assert HOSTILE not in html and "<img src=x" not in html and "<b>E1</b>" not in html
    assert "&lt;/script&gt;&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    # outside a repository, without --ledger: one line that says how to name one
    here = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "report"],
        cwd=tmp_path,
        env=isolated_env(tmp_path / "home"),
        capture_output=True,
        text=True,
    )
    assert here.returncode == 2 and "--ledger PATH" in here.stderr
    assert "Traceback" not in here.stderr
