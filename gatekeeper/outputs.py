"""``--output``: write several reports of one run, e.g. text to the console and SARIF to a file.

``--output FORMAT=FILE`` writes that format to FILE (repeatable); a bare ``--output FILE``
sends the ``--format`` report to FILE instead of stdout. Formats are checked before the gate
runs, so a typo costs nothing; files are written whole (temp file + rename), so a reader
never sees half a report.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from gatekeeper.errors import GatekeeperError
from gatekeeper.formats import ReportFormat, ReportOptions
from gatekeeper.models import RunResult
from gatekeeper.plugins import PluginSet
from gatekeeper.reporting import emit, render, resolve_format

_FORMAT_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class Output:
    """One report to write: a format and a file; ``main`` marks the ``--format`` report."""

    fmt: ReportFormat
    path: Path
    main: bool = False


def parse_outputs(plugins: PluginSet, main_format: str, values: Sequence[str]) -> list[Output]:
    """The ``--output`` values as outputs; an unknown format is a :class:`GatekeeperError`."""
    outputs = []
    for value in values:
        name, sep, target = value.partition("=")
        if sep and _FORMAT_NAME.match(name) and target:
            outputs.append(Output(resolve_format(plugins, name), Path(target)))
        elif sep and not target:
            raise GatekeeperError(
                f"--output {value!r} names no file",
                "write --output FORMAT=FILE, e.g. --output sarif=gate.sarif",
            )
        else:
            outputs.append(Output(resolve_format(plugins, main_format), Path(value), main=True))
    paths = [o.path.resolve() for o in outputs]
    if len(set(paths)) != len(paths):
        raise GatekeeperError("two --output options name the same file", "give each its own file")
    return outputs


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole, or not at all."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise GatekeeperError(f"cannot write {path}: {exc}", "check the path") from None
    try:
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from other users
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise GatekeeperError(f"cannot write {path}: {exc}", "check the path") from None


def write_reports(
    run: RunResult,
    fmt: ReportFormat,
    options: ReportOptions,
    outputs: Iterable[Output],
    *,
    stage_lines: bool = True,
    stream: TextIO | None = None,
) -> None:
    """Write every ``--output`` file, then the ``--format`` report to stdout unless a bare
    ``--output FILE`` took it."""
    to_stdout = True
    plain = replace(options, color=False)  # files never get ANSI colour
    for out in outputs:
        write_atomic(out.path, render(run, out.fmt, plain))
        to_stdout = to_stdout and not out.main
    if to_stdout:
        emit(run, fmt, options, stage_lines=stage_lines, stream=stream or sys.stdout)
