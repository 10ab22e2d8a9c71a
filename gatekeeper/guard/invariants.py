"""The tamper guard's invariants: checks no spelling of a cheat can get around.

1. **The change's code passes the base's rules.** The stages run again on the hybrid tree
   (:mod:`gatekeeper.guard.hybrid`: the change's code, the base's rule files, the change's
   new comments neutralised). A finding there that the change's own run does not have was
   hidden by the change.
2. **The base's tests pass against the change's code.** The same hybrid run carries the base's
   test files, conftest and pytest configuration; a base test that fails, errors, or is
   skipped/xfailed by code under test is a finding naming the test.
3. (The reporter plugin of the ``pytest`` stage makes test results hard to forge.)
4. **Deliberate changes are allowed by a person** (:mod:`gatekeeper.guard.allow`).
5. **Code the change adds is checked** (:mod:`gatekeeper.guard.reach`).

The hybrid run happens only when the change touches a rule or test file or adds a comment
to code: otherwise the hybrid *is* the change and nothing runs twice. Its stage results are
cached by the stage cache like any run, and the whole comparison by hybrid tree.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper import git
from gatekeeper.errors import GatekeeperError
from gatekeeper.guard import allow, hybrid, reach
from gatekeeper.models import Finding, StageResult

if TYPE_CHECKING:
    from gatekeeper.gate import GateRequest, Plan
    from gatekeeper.plugins import PluginSet

MEMO_DIR = "guard"
MEMO_VERSION = 1
_HEX = re.compile(r"0x[0-9a-fA-F]+")
HINTS = {
    "tamper-hidden-finding": (
        "fix the finding in the code; the change's rule or comment that hid it is named in "
        "the message (undo it, or have a person allow it in the base's tamper_allow)"
    ),
    "tamper-base-test": (
        "the base's tests are the specification: make this test pass as the base wrote it, "
        "by fixing the code, and undo the change to the tests or their configuration"
    ),
    "tamper-base-run": (
        "under the base's rules and tests this stage could not run: undo the change that "
        "breaks it (a person can allow a deliberate change in the base's tamper_allow)"
    ),
    "tamper-unchecked-code": reach.HINT,
}
_WHAT = {"removed": "added by the change", "restored": "changed", "added back": "deleted"}


@dataclass(frozen=True)
class Context:
    """What the invariants compare: the plan of the change's run and its results."""

    plan: Plan
    request: GateRequest
    plugins: PluginSet
    stages: tuple[StageResult, ...]


def guard_name(ctx: Context) -> str | None:
    """The change-judging stage (the tamper guard) if it ran and judged, else None."""
    for result in ctx.stages:
        reg = ctx.plan.registered.get(result.name)
        if reg and reg.stage.judges_change and result.status in ("passed", "failed"):
            return result.name
    return None


def change_tree(ctx: Context) -> str:
    """The tree under check: the named commit's, or the working tree's (untracked included)."""
    root = ctx.plan.root
    if ctx.request.head:
        return git.git(root, "rev-parse", f"{ctx.request.head}^{{tree}}").strip()
    return git.tree_hash(root)


def check(ctx: Context) -> tuple[StageResult, ...]:
    """``ctx.stages`` with the guard's result extended by the invariants' findings."""
    name = guard_name(ctx)
    base = ctx.plan.base
    if name is None or not base:
        return ctx.stages
    started = time.monotonic()
    root = ctx.plan.root
    base = _resolve(root, base)
    tree = change_tree(ctx)
    changed = hybrid.diff(root, base, tree)
    mixed = hybrid.build(root, base, tree, changed)
    found: list[Finding] = []
    info: dict[str, Any] = {"hybrid": mixed.commit}
    code = reach.code_paths(changed)
    misses = reach.missing(ctx.plan, code)
    if mixed.commit is not None:
        runs, hybrid_misses, info["cached"] = _hybrid_run(ctx, mixed, code)
        if runs:
            misses = hybrid_misses
        guard = next(r for r in ctx.stages if r.name == name)
        found += compare(ctx, runs, mixed, guard.findings)
        info["stages"] = sorted(runs)
    if not ctx.request.paths:
        found += reach.unchecked(root, base, tree, changed, misses)
    entries = allow.entries(root, base, ctx.request.trigger, ctx.plan.config.settings)
    found = [
        replace(f, stage=name, tool=name, hint=f.hint or HINTS.get(f.rule, ""))
        for f in found
        if not allow.allowed(f, entries)
    ]
    info["duration_s"] = round(time.monotonic() - started, 3)
    return tuple(_merge(r, found, info) if r.name == name else r for r in ctx.stages)


def _resolve(root: Path, rev: str) -> str:
    """The object id ``rev`` names (a commit or a tree); a GatekeeperError when none."""
    out = git.git(root, "rev-parse", "--verify", "--quiet", rev, check=False).strip()
    if not out:
        raise GatekeeperError(f"cannot compare with {rev}: not a commit or tree here")
    return out


def _merge(result: StageResult, found: list[Finding], info: dict[str, Any]) -> StageResult:
    findings = (*result.findings, *found)
    status = "failed" if any(f.blocking for f in findings) else result.status
    return result.with_(
        findings=findings, status=status, extra={**result.extra, "invariants": info}
    )


def _names(
    ctx: Context, tree: Path, base_config: Any, registered: dict[str, Any], comments_only: bool
) -> list[str]:
    """Stages to run on the hybrid: those the change's run ran, plus those the change's
    config switched off that the base's config runs. When the hybrid differs from the change
    only by neutralised comments, stages that import and run the project (tests, build)
    would see the same program: they are not run again."""
    ran = {r.name for r in ctx.stages if r.status in ("passed", "failed")}
    names = []
    for n, reg in registered.items():
        stage = reg.stage
        if stage.judges_change or (comments_only and stage.needs_project_python):
            continue
        if n in ran or (
            not ctx.request.only
            and n not in ctx.plan.order
            and stage.decision(tree, base_config.stage(n))[0]
        ):
            names.append(n)
    return names


def _memo_key(ctx: Context, mixed: hybrid.Hybrid) -> str:
    from gatekeeper import __version__

    material = {
        "v": MEMO_VERSION,
        "gatekeeper": __version__,
        "tree": mixed.tree,
        "base": _resolve(ctx.plan.root, ctx.request.base) if ctx.request.base else None,
        "compare": _resolve(ctx.plan.root, ctx.plan.base) if ctx.plan.base else None,
        "only": sorted(ctx.request.only),
        "ran": sorted((r.name, r.status) for r in ctx.stages),
        "tools": ctx.plan.tools,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _state(ctx: Context) -> Path:
    from gatekeeper.state import state_dir

    return ctx.request.state or state_dir(ctx.plan.root)


def _hybrid_run(
    ctx: Context, mixed: hybrid.Hybrid, code: list[str]
) -> tuple[dict[str, StageResult], dict[str, list[str]], bool]:
    """The stage results on the hybrid tree, which stages miss which of the ``code`` files
    there (under the base's configuration), and whether this was memoised."""
    memo = _state(ctx) / MEMO_DIR / f"{_memo_key(ctx, mixed)}.json"
    if ctx.request.use_cache and memo.is_file():
        try:
            data = json.loads(memo.read_text(encoding="utf-8"))
            runs = {k: StageResult.from_json(v) for k, v in data["runs"].items()}
            return runs, data["reach"], True
        except (OSError, ValueError, KeyError, TypeError):
            pass
    runs, misses = _run_in_snapshot(ctx, mixed, code)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "runs": {k: v.to_json() for k, v in runs.items()},
            "reach": misses,
        }
        tmp = memo.with_suffix(".tmp")
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        tmp.replace(memo)
    except OSError:
        pass  # the verdict stands; only the memo is missing
    return runs, misses, False


def _run_in_snapshot(
    ctx: Context, mixed: hybrid.Hybrid, code: list[str]
) -> tuple[dict[str, StageResult], dict[str, list[str]]]:
    from gatekeeper.gate import GateRequest, load_config, plan, run_gate
    from gatekeeper.push import snapshot

    assert mixed.commit is not None
    ran = [r for r in ctx.stages if r.status in ("passed", "failed")]
    if ctx.request.only and all(_judges(ctx, r.name) for r in ran):
        return {}, {}  # only the guard was asked for: nothing to compare
    state = _state(ctx)
    # In the user's state directory, outside the repository: tools that look for their
    # config in parent directories (pytest's rootdir, ruff's hierarchy) must not find the
    # working tree's.
    with snapshot.checkout(ctx.plan.root, mixed.commit) as tree:
        try:
            base_config, registered = load_config(tree, ctx.plugins)
        except GatekeeperError as exc:
            failed = StageResult("config", "error", reason=f"the base's config: {exc.message}")
            return {"config": failed}, {}
        names = _names(ctx, tree, base_config, registered, not mixed.restored)
        if not names:
            return {}, {}
        request = GateRequest(
            root=tree,
            only=tuple(names),
            # Stages that judge a change against its base (the guard, test quality) have no
            # base in the hybrid to judge against.
            skip=tuple(
                n for n, r in registered.items() if r.stage.judges_change or r.stage.on_for_change
            ),
            # Names like HEAD mean something else inside the snapshot: pass the object id.
            base=_resolve(ctx.plan.root, ctx.request.base) if ctx.request.base else None,
            head=mixed.commit,
            trigger="person",
            use_cache=ctx.request.use_cache,
            fail_fast=False,
            jobs=ctx.request.jobs,
            state=state,
            record=False,
            # Every finding of the hybrid counts: which of them the change's run also has
            # (existing at the base or not) is decided by the comparison, not by a base run.
            mode="all",
            options={"pytest": {"strict_skips": True}},
        )
        misses = reach.missing(plan(request, ctx.plugins), code)
        result = run_gate(request, ctx.plugins)
        return {r.name: r for r in result.stages if r.name in names}, misses


def _key(f: Finding) -> tuple[str, str, str, str]:
    message = _HEX.sub("0x?", f.message)
    if "::" in message.split(" ", 1)[0]:
        message = message.split(": ", 1)[0]  # a test: its node id names it
    return (f.stage, f.path, f.rule, message)


def hidden(
    change: Iterable[StageResult], runs: dict[str, StageResult]
) -> list[tuple[Finding | None, StageResult]]:
    """Blocking findings (and stage errors, as ``None``) of the hybrid run that the change's
    run does not have: each once, however often its message repeats."""
    mine: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    status: dict[str, str] = {}
    for result in change:
        status[result.name] = result.status
        for f in result.findings:
            if _counts(f):  # present in the change's run (existing at the base or new)
                mine[_key(f)].append(f.line)
    out: list[tuple[Finding | None, StageResult]] = []
    for name, result in runs.items():
        if result.status == "error" and status.get(name) != "error":
            out.append((None, result))
            continue
        for f in sorted((f for f in result.findings if _counts(f)), key=_by_line(mine)):
            lines = mine.get(_key(f))
            if lines:
                lines.remove(f.line if f.line in lines else lines[0])
                continue
            out.append((f, result))
    return out


def _counts(f: Finding) -> bool:
    """An error the baseline does not hold (whether or not it is existing at the base)."""
    return f.stops_tool or (f.severity == "error" and not f.baselined)


def _by_line(mine: dict[tuple[str, str, str, str], list[int]]) -> Any:
    # Findings at a line the change's run also has are matched first.
    return lambda f: (f.line not in mine.get(_key(f), ()), f.path, f.line)


def compare(
    ctx: Context,
    runs: dict[str, StageResult],
    mixed: hybrid.Hybrid,
    explanations: Sequence[Finding],
) -> list[Finding]:
    """Tamper findings for what the hybrid run found and the change's run did not."""
    out = []
    for f, result in hidden(ctx.stages, runs):
        if f is None:
            out.append(_run_error(result, mixed))
        elif _is_test_stage(ctx, result.name):
            out.append(_base_test(f, mixed, explanations))
        else:
            out.append(_hidden_finding(f, mixed, explanations))
    return out


def _judges(ctx: Context, name: str) -> bool:
    reg = ctx.plan.registered.get(name)
    return bool(reg and reg.stage.judges_change)


def _is_test_stage(ctx: Context, name: str) -> bool:
    reg = ctx.plan.registered.get(name)
    return bool(reg and reg.stage.needs_project_python and reg.stage.name == "pytest")


def _changes(mixed: hybrid.Hybrid, paths: Sequence[str]) -> str:
    shown = [f"{p} ({_WHAT[mixed.restored[p]]})" for p in paths[:4]]
    more = f" and {len(paths) - 4} more" if len(paths) > 4 else ""
    return ", ".join(shown) + more


def explain(f: Finding, mixed: hybrid.Hybrid, explanations: Sequence[Finding]) -> str:
    """Why the change's run did not report ``f``: the comment or the rule files that hid it."""
    added = mixed.comments.get(f.path, {})
    parts = []
    if f.line in added:
        parts.append(f"the change added `{added[f.line].strip()[:80]}` on this line")
    elif added:
        shown = ", ".join(f"`{c.strip()[:60]}` (line {n})" for n, c in sorted(added.items())[:2])
        parts.append(f"the change added {shown} in this file")
    if mixed.rule_files:
        parts.append(f"rule files {_changes(mixed, mixed.rule_files)}")
    if f.stage == "pytest" and mixed.test_files:
        parts.append(f"test files {_changes(mixed, mixed.test_files)}")
    lines = [e.message for e in explanations if e.path in mixed.restored][:2]
    if lines:
        parts.append("; ".join(lines))
    if mixed.comments and not parts:
        parts.append(f"comments the change added in {', '.join(sorted(mixed.comments)[:3])}")
    return "; ".join(parts) or "the change's rules"


def _hidden_finding(f: Finding, mixed: hybrid.Hybrid, notes: Sequence[Finding]) -> Finding:
    message = (
        f"invariant 1 (the base's rules): {f.stage} reports {f.location} [{f.rule}] "
        f"{f.message} under the base's rules; hidden by: {explain(f, mixed, notes)}"
    )
    return replace(f, rule="tamper-hidden-finding", message=message, hint="", fingerprint="")


def _base_test(f: Finding, mixed: hybrid.Hybrid, notes: Sequence[Finding]) -> Finding:
    message = (
        "invariant 2 (the base's tests are the specification): base test "
        f"{f.message} [{f.rule}] against the change's code; the change touched: "
        f"{explain(f, mixed, notes)}"
    )
    return replace(f, rule="tamper-base-test", message=message, hint="", fingerprint="")


def _run_error(result: StageResult, mixed: hybrid.Hybrid) -> Finding:
    touched = _changes(mixed, sorted(mixed.restored)) or "comments in code"
    return Finding(
        stage=result.name,
        tool=result.name,
        rule="tamper-base-run",
        path=(mixed.rule_files or mixed.test_files or sorted(mixed.comments) or [""])[0],
        line=0,
        column=0,
        message=(
            f"invariant 1/2: with the base's rules and tests, {result.name} could not run: "
            f"{result.reason or 'error'}; the change touched {touched}"
        ),
    )


__all__ = ["Context", "check", "compare", "explain", "hidden"]
