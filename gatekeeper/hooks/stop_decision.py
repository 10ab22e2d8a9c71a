"""The Stop hook's decision: run the gate, then block (with a report), or let the agent stop.

Separate from the protocol handling in :mod:`gatekeeper.hooks.claude_stop` so the policy —
budget, stuck detection, the size of the reason — reads on its own.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper import git, ledger, session
from gatekeeper.errors import GatekeeperError
from gatekeeper.models import RunResult
from gatekeeper.state import state_dir

if TYPE_CHECKING:
    from gatekeeper.hooks.claude_stop import HookInput


@dataclass(frozen=True)
class Limits:
    """How long the gate keeps an agent working, and how much it may say each time."""

    max_blocks: int
    stuck_after: int
    reason_chars: int


@dataclass(frozen=True)
class Outcome:
    """One gate run for the hook: the run, or why the gate could not run at all."""

    run: RunResult | None
    problem: str = ""

    @property
    def clean(self) -> bool:
        """Passed with every stage run: a stage the environment left out vouches for nothing."""
        return self.run is not None and self.run.verdict == "passed" and not self.run.left_out

    def identity(self) -> frozenset[str]:
        if self.run is None:
            return frozenset({f"gate-error:{self.problem}"})
        return session.identity(self.run)

    def open_count(self) -> int:
        if self.run is None:
            return 1
        return len(self.identity())


def _limits(root: Path, args: argparse.Namespace) -> Limits:
    """The limits from flags, then config, then defaults (a broken config: the defaults)."""
    from gatekeeper.config import GLOBAL_OPTIONS, read_settings, validate_mapping
    from gatekeeper.hooks.claude_stop import DEFAULT_REASON_CHARS

    keys = ("agent_max_blocks", "agent_stuck_after", "agent_reason_chars")
    values: dict[str, Any] = {k: GLOBAL_OPTIONS[k].default for k in keys}
    values["agent_reason_chars"] = DEFAULT_REASON_CHARS
    try:
        _, settings = read_settings(root)
        mine = {k: settings[k] for k in keys if k in settings}
        values.update(validate_mapping("config", mine, GLOBAL_OPTIONS))
    except GatekeeperError:
        pass  # the gate run reports the broken config to the agent; the defaults apply here
    flags = (args.max_blocks, args.stuck_after, args.max_reason_chars)
    for key, flag in zip(keys, flags, strict=True):
        if flag is not None:
            values[key] = max(int(flag), 1)
    return Limits(
        values["agent_max_blocks"], values["agent_stuck_after"], values["agent_reason_chars"]
    )


def _run(
    root: Path,
    state: Path,
    hook: HookInput,
    base: str | None,
    args: Any,
    still: frozenset[str] = frozenset(),
) -> Outcome:
    from gatekeeper.gate import GateRequest, run_gate

    only = tuple(args.stage)
    if only and "tamper" not in only:
        only = (*only, "tamper")  # narrowing the stages never turns the guard off
    request = GateRequest(
        root=root,
        only=only,
        skip=tuple(args.skip),
        compare_to=base,
        trigger="agent",
        state=state,
        record=False,
        fast_path=True,
        still_failing=still,
    )
    try:
        run = run_gate(request)
    except GatekeeperError as exc:
        hint = f" ({exc.hint})" if exc.hint else ""
        return Outcome(None, f"{exc.message}{hint}")
    ledger.record_run(state, run, session_id=hook.session_id)
    if not args.stage and not args.skip:
        from gatekeeper.push.seal import seal_clean_run

        said = seal_clean_run(root, run, base, base, deep=False)
        if said:
            print(f"claude-stop: {said}", file=sys.stderr)
    return Outcome(run)


def _reason(outcome: Outcome, sess: session.Session, limits: Limits) -> str:
    from gatekeeper.formats import ReportOptions
    from gatekeeper.reports import agent

    n = sess.blocks_so_far + 1
    head = [
        f"gatekeeper blocked this stop ({n} of {limits.max_blocks}): the change is not clean "
        "yet. Fix what is listed below, then end your turn again; the gate re-checks it."
    ]
    if sess.repeats(outcome.identity()):
        head.append(
            "The same findings were reported last time: your last attempt did not fix them. "
            "Try a different approach; do not silence the checks."
        )
    header = "\n".join(head) + "\n\n"
    if outcome.run is None:
        body = f"# gatekeeper: ERROR — the gate could not run\n\n{outcome.problem}\n"
    else:
        room = max(limits.reason_chars - len(header), agent.MIN_CHARS)
        body = agent.render(outcome.run, ReportOptions(max_chars=room))
    reason = header + body
    if len(reason) > limits.reason_chars:
        reason = reason[: limits.reason_chars - 1] + "…"
    return reason


def _final(outcome: Outcome, sess: session.Session, why: str) -> str:
    verdict = outcome.run.verdict.upper() if outcome.run is not None else "ERROR"
    count = outcome.open_count()
    return (
        f"gatekeeper: {verdict} — letting the agent stop ({why}) after "
        f"{sess.blocks_so_far} blocks, with {count} problem(s) still open. The change is NOT "
        "clean: run `gatekeeper verify` to see what is left."
    )


def _late(base: session.Base) -> str:
    """A warning when the session's base was fixed only at its first Stop."""
    if base.event not in ("Stop", "SubagentStop"):
        return ""
    return (
        " (compared with HEAD at the session's first Stop: add `gatekeeper hook claude-stop` "
        "as a SessionStart hook too, so commits made before the first Stop are judged)"
    )


def decide(hook: HookInput, args: argparse.Namespace) -> dict[str, Any]:
    """Run the gate for the session and return the JSON to print (block or not)."""
    root = git.repo_root(hook.cwd)
    state = state_dir(root)
    base = session.fix_base(root, hook.session_id, hook.event)
    sess = session.load(state, hook.session_id, base.commit)
    limits = _limits(root, args)
    still = sess.blocks[-1] if sess.blocks else frozenset()
    outcome = _run(root, state, hook, sess.base, args, still)
    extra: dict[str, Any] = {"stop_hook_active": hook.stop_hook_active}
    agent = getattr(args, "agent", None) or hook.agent
    if agent:
        extra["agent"] = agent  # whose claims these are, for `gatekeeper report`
    if outcome.clean:
        session.record(state, sess, "stop", run=outcome.run, fingerprints=(), why="clean", **extra)
        return {"systemMessage": "gatekeeper: PASSED — the change is clean." + _late(base)}
    if outcome.run is not None and outcome.run.verdict == "passed":
        # Nothing the agent can fix: the hook's environment leaves stages out. Let it stop,
        # and never call that clean.
        left = ", ".join(outcome.run.left_out)
        why = f"passed without {left} (left out by GATEKEEPER_SKIP)"
        session.record(state, sess, "stop", run=outcome.run, fingerprints=(), why=why, **extra)
        return {
            "systemMessage": f"gatekeeper: NOT CLEAN — the gate passed without {left} "
            "(left out by GATEKEEPER_SKIP in the hook's environment); run `gatekeeper verify` "
            "for a full verdict."
        }
    identity = outcome.identity()
    why = ""
    if sess.blocks_so_far >= limits.max_blocks:
        why = f"budget of {limits.max_blocks} blocks spent"
    elif sess.repeats(identity) >= limits.stuck_after:
        why = f"stuck: the same findings came back {sess.repeats(identity) + 1} times"
    extra.update(run=outcome.run, fingerprints=identity, problem=outcome.problem)
    if why:
        session.record(state, sess, "stop", why=why, **extra)
        return {"systemMessage": _final(outcome, sess, why)}
    reason = _reason(outcome, sess, limits)
    session.record(state, sess, "block", **extra)
    return {"decision": "block", "reason": reason}
