"""What a report format is: a name and a function from a run to text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gatekeeper.models import RunResult


@dataclass(frozen=True)
class ReportOptions:
    """How a report should be rendered.

    :ivar color: emit ANSI colour (only the ``text`` format uses it).
    :ivar max_chars: hard cap for formats meant for agents.
    :ivar verbose: include passing stages' details and hints.
    """

    color: bool = False
    max_chars: int = 8000
    verbose: bool = False


@dataclass(frozen=True)
class ReportFormat:
    """A ``--format`` choice contributed by a plugin.

    :param name: the value of ``--format``.
    :param render: turns a finished run into the report's text.
    :param description: one line for ``--help`` and ``gatekeeper stages``.
    """

    name: str
    render: Callable[[RunResult, ReportOptions], str]
    description: str = ""
