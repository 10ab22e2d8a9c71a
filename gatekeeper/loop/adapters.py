"""Presets for real coding agents as fixers, on top of the fixer contract (DESIGN.md).

Every fixer gets the agent report on stdin and at ``GATEKEEPER_REPORT``; a preset only spells
out the command line that makes a given agent run headless, edit files without asking, and
read its instructions from where the gate puts them. ``--agent claude`` is a preset; any other
``--agent`` value is a command line, split like a shell would (never run through a shell), in
which ``{report}`` and ``{findings}`` are replaced by the paths of the report and findings files.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import GatekeeperError


@dataclass(frozen=True)
class AgentPreset:
    """A named command line for one coding agent.

    :ivar argv: the command; ``{report}`` / ``{findings}`` are replaced by the files' paths.
    :ivar reads: where the agent takes its instructions from: ``stdin`` or ``file``.
    """

    name: str
    argv: tuple[str, ...]
    reads: str
    description: str


PRESETS: dict[str, AgentPreset] = {
    "claude": AgentPreset(
        "claude",
        ("claude", "-p", "--permission-mode", "acceptEdits"),
        "stdin",
        "Claude Code headless (print mode); may edit files without asking",
    ),
    "codex": AgentPreset(
        "codex",
        ("codex", "exec", "--sandbox", "workspace-write", "-"),
        "stdin",
        "Codex non-interactive; `-` reads the prompt from stdin; edits in the workspace only",
    ),
    "aider": AgentPreset(
        "aider",
        ("aider", "--yes-always", "--message-file", "{report}"),
        "file",
        "Aider, one message from the report file, answering yes to its questions",
    ),
}


def _fill(arg: str, report: str, findings: str) -> str:
    # str.replace, not str.format: a literal brace in a user's argument must stay as it is.
    return arg.replace("{report}", report).replace("{findings}", findings)


def expand_agent(spec: str, report: Path | str, findings: Path | str | None = None) -> list[str]:
    """The argv for ``--agent spec``: a preset's command, or ``spec`` split like a shell would.

    ``{report}`` (and ``{findings}``) in the arguments become the given paths.
    A blank or unparseable command is a :class:`GatekeeperError`.
    """
    text = spec.strip()
    preset = PRESETS.get(text)
    if preset is not None:
        argv = list(preset.argv)
    else:
        try:
            argv = shlex.split(text)
        except ValueError as exc:
            raise GatekeeperError(
                f"cannot parse the agent command {spec!r}: {exc}", "check its quotes"
            ) from None
    if not argv:
        raise GatekeeperError(
            "empty agent command", f"pass a command line or a preset: {', '.join(PRESETS)}"
        )
    report_s = str(report)
    findings_s = str(findings) if findings is not None else ""
    return [_fill(a, report_s, findings_s) for a in argv]


def describe_presets() -> list[str]:
    """One line per preset with the exact command it becomes (for help and docs)."""
    return [f"{p.name}: {shlex.join(p.argv)}  ({p.description})" for p in PRESETS.values()]
