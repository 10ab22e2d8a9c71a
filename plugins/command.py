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
from gatekeeper import Finding, GatekeeperError, Stage, StageContext
from gatekeeper.config import Option, validate_mapping

KEYS = {
    "run": Option("", (str, list), help="the command line"),
    "patterns": Option(["*"], (list,), help="files that make the command relevant"),
    "timeout": Option(600.0, (int, float), help="seconds before it is killed"),
    "description": Option("", (str,)),
    "cache": Option(
        False,
        help="reuse the result while the matching files are unchanged "
        "(only for commands whose outcome depends on nothing else)",
    ),
}
TAIL_LINES = 25


def argv_of(name: str, value: Any) -> list[str]:
    if isinstance(value, list):
        argv = [str(v) for v in value]
    else:
        try:
            argv = shlex.split(str(value))
        except ValueError as exc:
            raise GatekeeperError(
                f"commands.{name}.run cannot be split: {exc}", "check the quotes"
            ) from None
    if not argv:
        raise GatekeeperError(f"commands.{name}.run is empty", "give the command line to run")
    return argv


def run(argv: list[str], ctx: StageContext) -> list[Finding]:
    done = ctx.run([*argv, *ctx.args], ok=range(0, 256))
    if done.returncode == 0:
        return []
    tail = "\n".join(done.output.splitlines()[-TAIL_LINES:])
    return [
        ctx.finding(
            f"exit-{done.returncode}",
            "",
            0,
            0,
            f"`{shlex.join(argv)}` exited with code {done.returncode}:\n{tail}",
            hint="make the command succeed; run it yourself to see all output",
            tool=argv[0],
        )
    ]


@gatekeeper.hookimpl
def gatekeeper_register_stages(
    register: Callable[[Stage], None], settings: Mapping[str, Any]
) -> None:
    commands = settings.get("commands") or {}
    if not isinstance(commands, Mapping):
        return  # the core's validation reports the wrong type
    for name, raw in commands.items():
        if not isinstance(raw, Mapping):
            raise GatekeeperError(f"commands.{name} must be a table with `run = ...`")
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
