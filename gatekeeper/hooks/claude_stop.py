"""Claude Code's Stop hook (also Codex's): keep the agent working until the gate is clean.

The host runs this when the agent is about to end its turn, with JSON on stdin
(``session_id``, ``transcript_path``, ``cwd``, ``hook_event_name``, ``stop_hook_active``).
The gate runs in ``cwd`` (trigger ``agent``, tamper guard on, compared with HEAD as it was
when the hook first ran for the session). On failure the hook prints
``{"decision": "block", "reason": "<agent report>"}`` and exits 0, which sends the agent back
to work with the report as its next instruction. A per-session budget kept in the ledger ends
this: once it is spent, or the same findings came back round after round, the agent may stop
and a final verdict is shown to the person (``systemMessage`` and stderr).

The hook never exits with 2 and never prints a traceback: to a Stop hook that means "block"
and could keep an agent looping on the hook's own failure. Input it cannot read lets the
agent stop, with the cause on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Claude Code truncates hook output past 10,000 characters and Codex past ~2,500 tokens
#: (~9,000 characters); the default reason stays well under both.
DEFAULT_REASON_CHARS = 6000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-blocks",
        type=int,
        metavar="N",
        help="times the gate may send the agent back per session (default: 5, "
        "config agent_max_blocks)",
    )
    parser.add_argument(
        "--stuck-after",
        type=int,
        metavar="N",
        help="give up when the same findings came back after N blocks in a row (default: 2)",
    )
    parser.add_argument(
        "--max-reason-chars",
        type=int,
        metavar="N",
        help=f"size cap of the reason given to the agent (default: {DEFAULT_REASON_CHARS})",
    )
    parser.add_argument(
        "--agent",
        metavar="NAME",
        help="who is behind the sessions, as `gatekeeper report` shows it (default: claude or "
        "codex, told from the transcript's path)",
    )
    parser.add_argument("--stage", action="append", default=[], metavar="NAME")
    parser.add_argument("--skip", action="append", default=[], metavar="NAME")


@dataclass(frozen=True)
class HookInput:
    """The fields of the host's JSON the hook uses."""

    session_id: str
    cwd: Path
    stop_hook_active: bool
    event: str
    agent: str | None = None


#: transcript directories of the hosts that speak this protocol -> the agent's name
HOSTS = {".claude": "claude", ".codex": "codex"}


def host_agent(transcript: object) -> str | None:
    """The agent behind a session, told from its transcript's path (None when unknown)."""
    if not isinstance(transcript, str):
        return None
    parts = Path(transcript).parts
    return next((name for folder, name in HOSTS.items() if folder in parts), None)


class BadInput(Exception):
    """The host's JSON is missing or malformed."""


def parse_input(raw: str) -> HookInput:
    """Validate the Stop hook's stdin; :class:`BadInput` says what is wrong."""
    if not raw.strip():
        raise BadInput("no JSON on stdin")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadInput(f"stdin is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise BadInput("stdin must be a JSON object")
    session_id, cwd = data.get("session_id"), data.get("cwd")
    if not isinstance(session_id, str) or not session_id.strip():
        raise BadInput("the JSON has no session_id")
    if not isinstance(cwd, str) or not cwd.strip():
        raise BadInput("the JSON has no cwd")
    event = data.get("hook_event_name", "Stop")
    return HookInput(
        session_id,
        Path(cwd),
        bool(data.get("stop_hook_active")),
        str(event),
        host_agent(data.get("transcript_path")),
    )


def _say(message: str) -> None:
    print(f"gatekeeper: {message}", file=sys.stderr)


def _emit(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


#: Events at which the hook only fixes the session's base (HEAD now), before the agent works.
START_EVENTS = ("SessionStart", "UserPromptSubmit")


def _start(hook: HookInput) -> int:
    """Fix the session's base at its start; never blocks, prints nothing on success."""
    from gatekeeper import git, session
    from gatekeeper.errors import GatekeeperError

    try:
        session.fix_base(git.repo_root(hook.cwd), hook.session_id, hook.event)
    except GatekeeperError as exc:
        _say(f"claude-stop: cannot record the session's base: {exc.message}")
    return 0


def main(args: argparse.Namespace) -> int:
    """Decide whether the agent may stop; always exit 0 (see the module docstring)."""
    try:
        hook = parse_input(sys.stdin.read())
    except (BadInput, UnicodeDecodeError, OSError) as exc:
        _say(f"claude-stop: cannot read the hook input: {exc}; letting the agent stop")
        _say("  hint: this command is meant to be run by Claude Code or Codex as a Stop hook")
        return 0
    from gatekeeper.errors import GatekeeperError

    if hook.event in START_EVENTS:
        return _start(hook)
    if hook.event not in ("Stop", "SubagentStop"):
        _say(f"claude-stop: ignoring the {hook.event!r} event (only Stop is handled)")
        return 0
    from gatekeeper.hooks.stop_decision import decide

    try:
        payload = decide(hook, args)
    except GatekeeperError as exc:
        # No repository, no state: there is nowhere to keep a budget, so never block.
        _say(f"claude-stop: the gate could not run: {exc.message}; letting the agent stop")
        if exc.hint:
            _say(f"  hint: {exc.hint}")
        _emit({"systemMessage": f"gatekeeper could not run: {exc.message}"})
        return 0
    except Exception as exc:
        # A bug here must not become exit 2, which the host reads as "block" (forever).
        _say(f"claude-stop: internal error: {type(exc).__name__}: {exc}; letting the agent stop")
        _say("  hint: this is a bug in gatekeeper; run `gatekeeper verify` to check the change")
        _emit({"systemMessage": "gatekeeper hit an internal error; the change was NOT verified"})
        return 0
    if "decision" not in payload and payload.get("systemMessage"):
        _say(str(payload["systemMessage"]))
    _emit(payload)
    return 0
