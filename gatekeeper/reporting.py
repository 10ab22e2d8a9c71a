"""Pick a report format and write the report."""

from __future__ import annotations

import difflib
import sys
from typing import TYPE_CHECKING, TextIO

from gatekeeper.errors import GatekeeperError
from gatekeeper.formats import ReportFormat, ReportOptions
from gatekeeper.models import RunResult

if TYPE_CHECKING:
    from gatekeeper.plugins import PluginSet


def resolve_format(plugins: PluginSet, name: str) -> ReportFormat:
    formats = plugins.formats()
    if name not in formats:
        close = difflib.get_close_matches(name, list(formats), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"choose one of: {', '.join(formats)}"
        raise GatekeeperError(f"unknown report format {name!r}", hint)
    return formats[name]


def builtin_formats() -> dict[str, ReportFormat]:
    """The built-in formats by name, without loading any plugin (no plugin can replace one:
    see :meth:`~gatekeeper.plugins.PluginSet.formats`)."""
    from gatekeeper.reports import builtin

    found: dict[str, ReportFormat] = {}

    def register(fmt: ReportFormat) -> None:
        found[fmt.name] = fmt

    builtin.gatekeeper_register_formats(register=register)
    return found


def render(
    run: RunResult, fmt: ReportFormat, options: ReportOptions, *, stage_lines: bool = True
) -> str:
    if fmt.name == "text":
        from gatekeeper.reports import text

        return text.render(run, options, stage_lines=stage_lines)
    return fmt.render(run, options)


def emit(
    run: RunResult,
    fmt: ReportFormat,
    options: ReportOptions,
    *,
    stage_lines: bool = True,
    stream: TextIO | None = None,
) -> None:
    (stream or sys.stdout).write(render(run, fmt, options, stage_lines=stage_lines))
