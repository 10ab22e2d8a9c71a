"""The plugin manager: built-ins and third-party plugins, registered the same way.

Built-in plugins are listed in :data:`BUILTIN_PLUGINS`, a table of contents of what the gate
does out of the box. Third-party plugins are found through the ``gatekeeper`` entry-point
group. Set ``GATEKEEPER_TRACE=1`` to print every hook call to stderr.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import pluggy

from gatekeeper import hookspecs
from gatekeeper.errors import GatekeeperError
from gatekeeper.formats import ReportFormat
from gatekeeper.stage import Stage

ENTRY_POINT_GROUP = "gatekeeper"

BUILTIN_PLUGINS: tuple[str, ...] = (
    "gatekeeper_plugins.ruff",
    "gatekeeper_plugins.ruff_format",
    "gatekeeper_plugins.mypy",
    "gatekeeper_plugins.pyright",
    "gatekeeper_plugins.ty",
    "gatekeeper_plugins.radon",
    "gatekeeper_plugins.pytest",
    "gatekeeper_plugins.build",
    "gatekeeper_plugins.command",
    "gatekeeper_plugins.tamper",
    "gatekeeper_plugins.test_quality",
    "gatekeeper.reports.builtin",
)

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


@dataclass(frozen=True)
class Registered:
    """A stage and the plugin that contributed it."""

    stage: Stage
    plugin: str


def _plugin_label(pm: pluggy.PluginManager, plugin: object) -> str:
    name = pm.get_name(plugin) or repr(plugin)
    for p, dist in pm.list_plugin_distinfo():
        if p is plugin:
            return f"{name} ({dist.project_name} {dist.version})"
    return name if name.startswith("gatekeeper") else f"{name}"


class PluginSet:
    """A loaded plugin manager with a typed face over ``pm.hook``."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    def configure(self, settings: MutableMapping[str, Any], root: Any) -> None:
        self.pm.hook.gatekeeper_configure(settings=settings, root=root)

    def stages(self, settings: MutableMapping[str, Any]) -> dict[str, Registered]:
        """All stages, validated; a bad registration names the plugin at fault."""
        found: dict[str, Registered] = {}
        for impl in self.pm.hook.gatekeeper_register_stages.get_hookimpls():
            label = _plugin_label(self.pm, impl.plugin)

            def register(stage: Stage, label: str = label) -> None:
                _check_stage(stage, label, found)
                found[stage.name] = Registered(stage, label)

            offered = {"register": register, "settings": settings}
            impl.function(**{k: offered[k] for k in impl.argnames})
        return found

    def formats(self) -> dict[str, ReportFormat]:
        """Every ``--format`` choice; a built-in name is never taken over by a plugin.

        :raises GatekeeperError: a plugin registered something else, or a built-in's name.
        """
        from gatekeeper.reporting import builtin_formats

        found: dict[str, ReportFormat] = {}
        reserved = builtin_formats()

        def register(fmt: ReportFormat) -> None:
            if not isinstance(fmt, ReportFormat):
                raise GatekeeperError(f"a plugin registered {fmt!r}, which is not a ReportFormat")
            if fmt.name in reserved and fmt != reserved[fmt.name]:
                raise GatekeeperError(
                    f"a plugin registered the report format {fmt.name!r}, which is built in",
                    "give the plugin's format a name of its own",
                )
            found[fmt.name] = fmt

        self.pm.hook.gatekeeper_register_formats(register=register)
        return found


def _check_stage(stage: object, label: str, found: dict[str, Registered]) -> None:
    if not isinstance(stage, Stage):
        raise GatekeeperError(
            f"plugin {label} registered {stage!r}, which is not a gatekeeper.Stage",
            "construct stages with gatekeeper.Stage(name=..., run=...)",
        )
    if not _NAME.match(stage.name):
        raise GatekeeperError(
            f"plugin {label} registered a stage with the invalid name {stage.name!r}",
            "use lower-case letters, digits, '-' and '_'",
        )
    if stage.name in found:
        raise GatekeeperError(
            f"plugin {label} registered stage {stage.name!r}, "
            f"which {found[stage.name].plugin} already registered",
            "rename one of the stages or uninstall one of the plugins",
        )
    if not callable(stage.run):
        raise GatekeeperError(f"plugin {label}: stage {stage.name!r} has no callable run")


def load_plugins(*, entry_points: bool = True) -> PluginSet:
    """A fresh plugin manager with the built-ins and (by default) installed plugins."""
    pm = pluggy.PluginManager("gatekeeper")
    pm.add_hookspecs(hookspecs)
    for name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if entry_points and not os.environ.get("GATEKEEPER_NO_PLUGINS"):
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:
            raise GatekeeperError(
                f"a gatekeeper plugin failed to load: {type(exc).__name__}: {exc}",
                "upgrade or uninstall the plugin, or set GATEKEEPER_NO_PLUGINS=1",
            ) from None
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise GatekeeperError(
            f"plugin {exc.plugin!r} implements an unknown hook: {exc}",
            "check the hook name against gatekeeper.hookspecs",
        ) from None
    if os.environ.get("GATEKEEPER_TRACE"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    return PluginSet(pm)
