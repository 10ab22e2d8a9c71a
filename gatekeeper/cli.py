"""The command line: parse, dispatch to one module per verb, turn errors into one line.

Command modules are imported only when their verb runs, so ``gatekeeper --version`` pays for
nothing else.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

#: verb -> module with ``add_arguments(parser)`` and ``main(args) -> int``; the help text is
#: the module's first docstring line.
COMMANDS: dict[str, str] = {
    "run": "gatekeeper.commands.run",
    "stages": "gatekeeper.commands.stages",
    "hook": "gatekeeper.commands.hook",
    "history": "gatekeeper.commands.history",
    "report": "gatekeeper.commands.report",
    "verify": "gatekeeper.commands.verify",
    "ci": "gatekeeper.commands.ci",
    "baseline": "gatekeeper.commands.baseline",
    "doctor": "gatekeeper.commands.doctor",
    "install": "gatekeeper.commands.install",
    "uninstall": "gatekeeper.commands.uninstall",
    "loop": "gatekeeper.commands.loop",
}


def _version() -> str:
    from gatekeeper import __version__

    return f"gatekeeper {__version__}"


def build_parser(verb: str | None = None) -> argparse.ArgumentParser:
    """The parser for every verb, or only for ``verb`` (which then imports only its module)."""
    parser = argparse.ArgumentParser(
        prog="gatekeeper",
        description="A quality gate for pushes, CI and coding agents.",
    )
    parser.add_argument("-V", "--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, module_name in COMMANDS.items():
        if verb is not None and name != verb:
            continue
        module = importlib.import_module(module_name)
        doc = (module.__doc__ or "").strip().splitlines()
        cmd = sub.add_parser(name, help=doc[0] if doc else "", description=doc[0] if doc else "")
        module.add_arguments(cmd)
        cmd.set_defaults(_module=module, _parser=cmd)
    return parser


def _error(message: str, hint: str = "") -> None:
    print(f"gatekeeper: error: {message}", file=sys.stderr)
    if hint:
        print(f"  hint: {hint}", file=sys.stderr)


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _interrupt_on_termination() -> None:
    """Make SIGTERM/SIGHUP (a cancelled CI job, a closed terminal) unwind like Ctrl-C.

    Tools run in their own sessions, so the default (die at once) would orphan them; as an
    interrupt, the gate kills their process groups and cleans up before it exits.
    """
    import signal

    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) == signal.SIG_DFL:
            signal.signal(sig, _raise_interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gatekeeper`` console script and ``python -m gatekeeper``."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list in (["--version"], ["-V"]):
        print(_version())
        return 0
    from gatekeeper.errors import GatekeeperError
    from gatekeeper.process import kill_all

    _interrupt_on_termination()
    try:
        # Top-level options take no values, so the first other word is the verb: import
        # only its module (all of them for --help or an unknown verb, to list them).
        first = next((a for a in args_list if not a.startswith("-")), None)
        args, unknown = build_parser(first if first in COMMANDS else None).parse_known_args(
            args_list
        )
        if unknown:
            # The verb's own usage, not the top-level one: the option belongs to the verb.
            args._parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        code: int = args._module.main(args)
        return code
    except GatekeeperError as exc:
        _error(exc.message, exc.hint)
        return exc.exit_code
    except KeyboardInterrupt:
        kill_all()
        _error("interrupted", "nothing was changed; run the gate again when ready")
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not our failure, but never a pass either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 2
    except Exception as exc:
        if os.environ.get("GATEKEEPER_DEBUG"):
            traceback.print_exc()
        _error(
            f"internal error: {type(exc).__name__}: {exc}",
            "this is a bug in gatekeeper; rerun with GATEKEEPER_DEBUG=1 for the traceback",
        )
        return 2


def run() -> None:
    sys.exit(main())
