"""Gatekeeper: one trustworthy verdict for a change, for people, CI and coding agents.

The public API for plugins is the names in ``__all__``; everything else is internal.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from gatekeeper._marker import hookimpl
    from gatekeeper.config import Option
    from gatekeeper.errors import ConfigError, GatekeeperError, StageError, StageSkip
    from gatekeeper.formats import ReportFormat, ReportOptions
    from gatekeeper.models import Finding, RunResult, StageResult
    from gatekeeper.stage import Layout, Stage, StageContext, StageInputs, narrow_by_file

# name -> the module that defines it. Imported on first use (PEP 562), so `gatekeeper
# --version` and the cached no-change path do not pay for pluggy, config and stages.
_LAZY: dict[str, str] = {
    "hookimpl": "gatekeeper._marker",
    "Option": "gatekeeper.config",
    "ConfigError": "gatekeeper.errors",
    "GatekeeperError": "gatekeeper.errors",
    "StageError": "gatekeeper.errors",
    "StageSkip": "gatekeeper.errors",
    "ReportFormat": "gatekeeper.formats",
    "ReportOptions": "gatekeeper.formats",
    "Finding": "gatekeeper.models",
    "RunResult": "gatekeeper.models",
    "StageResult": "gatekeeper.models",
    "Layout": "gatekeeper.stage",
    "Stage": "gatekeeper.stage",
    "StageContext": "gatekeeper.stage",
    "StageInputs": "gatekeeper.stage",
    "narrow_by_file": "gatekeeper.stage",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gatekeeper' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # next time a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ConfigError",
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
    "StageInputs",
    "StageResult",
    "StageSkip",
    "__version__",
    "hookimpl",
    "narrow_by_file",
]
