"""The hooks a gatekeeper plugin can implement, in the order the gate calls them.

A plugin is any module or object with functions marked ``@gatekeeper.hookimpl`` whose names
are the hooks below. Built-in stages are plugins too (see
:data:`gatekeeper.plugins.BUILTIN_PLUGINS`); third-party ones are found through the
``gatekeeper`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from gatekeeper.formats import ReportFormat
    from gatekeeper.stage import Stage

hookspec = pluggy.HookspecMarker("gatekeeper")

# ---------------------------------------------------------------------------------------------
# Configuration: before anything runs.
# ---------------------------------------------------------------------------------------------


@hookspec
def gatekeeper_configure(settings: MutableMapping[str, Any], root: Path) -> None:
    """Adjust the raw settings before they are validated.

    Called once per run with the settings read from ``[tool.gatekeeper]`` or
    ``.gatekeeper.yaml`` (an empty mapping in zero-config). Use it to supply defaults
    that depend on the repository; values the user set explicitly should be left alone.

    :param settings: the mutable raw settings, as the config file spelled them.
    :param root: the repository's root directory.
    """


# ---------------------------------------------------------------------------------------------
# Registration: what the plugin contributes.
# ---------------------------------------------------------------------------------------------


@hookspec
def gatekeeper_register_stages(
    register: Callable[[Stage], None], settings: MutableMapping[str, Any]
) -> None:
    """Contribute stages by calling ``register(Stage(...))`` once per stage.

    The core validates each stage on registration (unique name, well-formed options) and
    names the plugin in any error.

    :param register: call with each :class:`gatekeeper.Stage`.
    :param settings: the raw settings, for plugins whose stages the user declares in config
        (the built-in ``command`` stage does this).
    """


@hookspec
def gatekeeper_register_formats(register: Callable[[ReportFormat], None]) -> None:
    """Contribute ``--format`` choices by calling ``register(ReportFormat(...))``.

    :param register: call with each :class:`gatekeeper.ReportFormat`.
    """
