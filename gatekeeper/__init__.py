"""Gatekeeper: one trustworthy verdict for a change, for people, CI and coding agents.

The public API for plugins is the names in ``__all__``; everything else is internal.
"""

from __future__ import annotations

__version__ = "0.1.0"

from gatekeeper._marker import hookimpl
from gatekeeper.config import Option
from gatekeeper.errors import GatekeeperError, StageError, StageSkip
from gatekeeper.formats import ReportFormat, ReportOptions
from gatekeeper.models import Finding, RunResult, StageResult
from gatekeeper.stage import Layout, Stage, StageContext

__all__ = [
    "Finding",
    "GatekeeperError",
    "Layout",
    "Option",
    "ReportFormat",
    "ReportOptions",
    "RunResult",
    "Stage",
    "StageContext",
    "StageError",
    "StageResult",
    "StageSkip",
    "__version__",
    "hookimpl",
]
