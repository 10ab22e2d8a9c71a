"""The ``command`` stages: any command line the user declares; its exit code decides.

Declared in config as ``[tool.gatekeeper.commands.<name>]`` with ``run = "..."`` (split like a
shell would, never run through one) or a list of arguments.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import gatekeeper
from gatekeeper import ConfigError, Finding, Stage, StageContext
from gatekeeper.config import Option, validate_mapping


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _strings(value: Any) -> str | None:
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        return "must be a string or a list of strings"
    return None


KEYS = {
    "run": Option("", (str, list), _strings, help="the command line"),
    "patterns": Option(["*"], (list,), _strings, help="files that make the command relevant"),
    "timeout": Option(600.0, (int, float), _positive, help="seconds before it is killed"),
    "description": Option("", (str,)),
    "cache": Option(
        False,
        help="reuse the result while the matching files are unchanged "
        "(only for commands whose outcome depends on nothing else)",
    ),
}
TAIL_LINES = 25


def argv_of(name: str, value: Any) -> list[str]:
    """The command line of ``commands.<name>.run``, split like a shell would split it."""
    if isinstance(value, list):
        argv = [str(v) for v in value]
    else:
        try:
            argv = shlex.split(str(value))
        except ValueError as exc:
            raise ConfigError(
                f"commands.{name}.run cannot be split: {exc}", "check the quotes"
            ) from None
    if not argv:
        raise ConfigError(f"commands.{name}.run is empty", "give the command line to run")
    return argv


def run(argv: list[str], ctx: StageContext) -> list[Finding]:
    """Run the command; a non-zero exit is one finding with the output's tail."""
    done = ctx.run([*argv, *ctx.args], ok=range(0, 256))
    if done.returncode == 0:
        return []
    tail = "\n".join(done.output.splitlines()[-TAIL_LINES:])
    finding = ctx.finding(
        f"exit-{done.returncode}",
        "",
        0,
        0,
        f"`{shlex.join(argv)}` exited with code {done.returncode}:\n{tail}",
        hint="make the command succeed; run it yourself to see all output",
        tool=argv[0],
    )
    return [finding]


@gatekeeper.hookimpl
def gatekeeper_register_stages(
    register: Callable[[Stage], None], settings: Mapping[str, Any]
) -> None:
    """Contribute one stage per ``[tool.gatekeeper.commands.NAME]`` table."""
    commands = settings.get("commands") or {}
    if not isinstance(commands, Mapping):
        return  # the core's validation reports the wrong type
    for name, raw in commands.items():
        if not isinstance(raw, Mapping):
            raise ConfigError(
                f"commands.{name} must be a table, not {raw!r}", f"set commands.{name}.run"
            )
        spec = validate_mapping(f"commands.{name}", raw, KEYS)
        argv = argv_of(name, spec.get("run", ""))
        register(
            Stage(
                name=name,
                run=partial(run, argv),
                description=spec.get("description") or f"run `{shlex.join(argv)}`",
                file_local=False,
                patterns=tuple(spec.get("patterns", ["*"])),
                config_files=(),
                timeout=float(spec.get("timeout", 600.0)),
                # A command may read anything (network, clock): not reproducible unless told.
                cacheable=bool(spec.get("cache", False)),
            )
        )
