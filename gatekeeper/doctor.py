"""Health checks behind ``gatekeeper doctor``: is everything in place for the gate to run?

Each check yields a :class:`Check` with a status (``ok``, ``info``, ``warn``, ``fail``), what
was found, and for anything wrong a fix line. ``fail`` means the gate cannot run as set up
(broken config, a stage that would error, an unreadable baseline); ``warn`` means it runs
but something is probably not what the team wants (a tool missing, the hook not installed).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gatekeeper import git
from gatekeeper.errors import GatekeeperError
from gatekeeper.projects import project_root, projects

Level = Literal["ok", "info", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    level: Level
    detail: str
    fix: str = ""


def run_checks(start: Path | None = None) -> list[Check]:
    """Every check, in the order a person would debug them."""
    try:
        root = project_root(start)
    except GatekeeperError as exc:
        return [Check("repository", "fail", exc.message, exc.hint)]
    checks = [Check("repository", "ok", str(root))]
    subs = projects(root)
    if subs != [""]:
        listed = ", ".join(s or "." for s in subs)
        checks.append(Check("projects", "ok", f"{len(subs)} gated one by one: {listed}"))
    checks += list(_gate_checks(root))
    checks += list(_hook_checks(root))
    checks += list(_baseline_check(root))
    checks += list(_state_checks(root))
    return checks


def _gate_checks(root: Path) -> Iterator[Check]:
    from gatekeeper.gate import GateRequest, plan
    from gatekeeper.plugins import load_plugins

    try:
        the_plan = plan(GateRequest(root=root), load_plugins())
    except GatekeeperError as exc:
        yield Check("config", "fail", exc.message, exc.hint or "fix the configuration")
        return
    source = the_plan.config.source
    where = f"{source} [tool.gatekeeper]" if source == "pyproject.toml" else source
    yield Check("config", "ok", f"{where}" if source else "none found: zero-config defaults")
    from gatekeeper.environment import probe, project_python

    python = project_python(root, the_plan.config.get("python"))
    version = probe(python, ()).python_version
    yield Check("python", "ok", f"Python {version} at {python} ({_python_origin(root, python)})")
    from gatekeeper.commands.stages import project_summary, stage_rows

    rows = stage_rows(root, the_plan.config, the_plan.registered)
    summary = project_summary(root, rows)
    listed = {k: ", ".join(summary[k]) or "none found" for k in summary if k != "root"}
    yield Check(
        "project",
        "ok",
        f"{summary['root']} (packages: {listed['packages']}; "
        f"modules: {listed['modules']}; tests: {listed['tests']})",
    )
    yield Check("type checker", "ok", listed["type_checkers"])
    why = {r["name"]: r["why"] for r in rows}
    for name, reg in the_plan.registered.items():
        label = f"stage {name}"
        if name not in the_plan.order:
            yield Check(label, "info", f"off: {why[name]}")
        elif name in the_plan.contexts:
            ctx = the_plan.contexts[name]
            tool = reg.stage.tool
            version = f"{tool} {the_plan.tools.get(tool, '?')}" if tool else "no tool"
            yield Check(label, "ok", f"{version} · {ctx.python} · on: {why[name]}")
        else:
            yield _decided(label, the_plan.decided[name].status, the_plan.decided[name].reason)


def _decided(label: str, status: str, reason: str | None) -> Check:
    text = reason or status
    if status == "error":
        return Check(label, "fail", text, _fix_from(text) or "see the reason above")
    if "not installed" in text:
        return Check(label, "warn", f"skipped: {text}", _fix_from(text))
    return Check(label, "info", f"skipped: {text}")


def _fix_from(reason: str) -> str:
    # The planner's reasons carry the install command in backticks.
    if "`" in reason:
        return reason.split("`")[1]
    return ""


def _python_origin(root: Path, python: Path) -> str:
    if str(python).startswith(str(root / ".venv")):
        return "the repository's .venv"
    if Path(sys.executable) == python:
        return "gatekeeper's own interpreter"
    if os.environ.get("VIRTUAL_ENV") and str(python).startswith(os.environ["VIRTUAL_ENV"]):
        return "the active virtualenv"
    return "configured"


def hooks_dir(root: Path) -> Path:
    """Where git looks for hooks (honours ``core.hooksPath``)."""
    out = git.git(root, "rev-parse", "--git-path", "hooks").strip()
    path = Path(out)
    return path if path.is_absolute() else root / path


def _hook_checks(root: Path) -> Iterator[Check]:
    yield _pre_push_check(root)
    yield _claude_check(root)


def _uses_pre_commit(root: Path) -> bool:
    config = root / ".pre-commit-config.yaml"
    return config.is_file() and "gatekeeper" in config.read_text("utf-8", errors="replace")


def _pre_push_check(root: Path) -> Check:
    hook = hooks_dir(root) / "pre-push"
    via_pre_commit = _uses_pre_commit(root)
    install = (
        "run `pre-commit install --hook-type pre-push`"
        if via_pre_commit
        else "run `gatekeeper install`"
    )
    if not hook.is_file():
        return Check("pre-push hook", "warn", f"not installed ({hook})", install)
    text = hook.read_text(encoding="utf-8", errors="replace")
    mine = "gatekeeper" in text or (via_pre_commit and "pre-commit" in text)
    if not mine:
        return Check(
            "pre-push hook",
            "warn",
            f"{hook} exists but does not run gatekeeper",
            "run `gatekeeper install --chain` (keeps the existing hook and runs it first)",
        )
    if not os.access(hook, os.X_OK):
        return Check("pre-push hook", "fail", f"{hook} is not executable", f"chmod +x {hook}")
    how = "through pre-commit " if "gatekeeper" not in text else ""
    return Check("pre-push hook", "ok", f"installed {how}({hook})")


def _claude_check(root: Path) -> Check:
    """The Claude Code Stop hook is optional: reported, never a problem when absent."""
    for name in (".claude/settings.json", ".claude/settings.local.json"):
        path = root / name
        if path.is_file() and "gatekeeper hook claude-stop" in path.read_text("utf-8", "replace"):
            return Check("agent Stop hook", "ok", f"Claude Code runs the gate ({name})")
    return Check("agent Stop hook", "info", "not configured (optional, for Claude Code)")


def _baseline_check(root: Path) -> Iterator[Check]:
    from gatekeeper import baseline
    from gatekeeper.config import read_settings

    try:
        setting = read_settings(root)[1].get("baseline")
        found = baseline.load(root, setting if isinstance(setting, str) else None)
    except GatekeeperError as exc:
        yield Check("baseline", "fail", exc.message, exc.hint)
        return
    if found is None:
        yield Check("baseline", "info", "none (every finding fails the gate)")
        return
    yield Check(
        "baseline", "ok", f"{found.total} findings held in {len(found.entries)} fingerprints"
    )


def _state_checks(root: Path) -> Iterator[Check]:
    from gatekeeper.ledger import ledger_path
    from gatekeeper.state import state_dir

    try:
        state = state_dir(root)
        with tempfile.NamedTemporaryFile(dir=state, prefix=".doctor-"):
            pass
    except OSError as exc:
        yield Check(
            "state dir",
            "fail",
            f"cannot write the state directory: {exc}",
            "make .gatekeeper/ writable, or set GATEKEEPER_STATE_DIR to a writable directory",
        )
        return
    yield Check("state dir", "ok", f"{state} (writable)")
    ledger = ledger_path(state)
    if ledger.is_file():
        with ledger.open("rb") as f:
            records = sum(1 for _ in f)
        yield Check("ledger", "ok", f"{ledger} ({records} records)")
    else:
        yield Check("ledger", "info", f"{ledger} (no runs recorded yet)")
    cache = state / "cache"
    entries = sum(1 for p in cache.rglob("*") if p.is_file()) if cache.is_dir() else 0
    yield Check("cache", "ok" if entries else "info", f"{cache} ({entries} files)")
