"""List the stages from all plugins, where each comes from, whether it would run and why."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

#: Stages that are type checkers, for the project summary (zero-config picks among them).
TYPE_CHECKERS = ("mypy", "pyright", "ty")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def project_summary(root: Path, rows: list[dict[str, str]]) -> dict[str, Any]:
    """What zero-config decided about the project: root, packages, tests, type checkers."""
    from gatekeeper.layout import discover

    layout = discover(root)
    checkers = [r["name"] for r in rows if r["name"] in TYPE_CHECKERS and r["enabled"] == "on"]
    return {
        "root": str(root),
        "packages": list(layout.packages),
        "modules": list(layout.modules),
        "tests": list(layout.tests),
        "type_checkers": checkers,
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The project summary as text lines (shared with ``doctor``)."""

    def listed(key: str) -> str:
        return ", ".join(summary[key]) or "none found"

    return [
        f"project root: {summary['root']}",
        f"packages: {listed('packages')}; top-level modules: {listed('modules')}",
        f"test directories: {listed('tests')}",
        f"type checker: {listed('type_checkers')}",
    ]


def stage_rows(root: Path, config: Any, registered: dict[str, Any]) -> list[dict[str, str]]:
    """One row per registered stage: whether it is on for this project, and why."""
    rows = []
    for name, reg in registered.items():
        on, why = reg.stage.decision(root, config.stage(name))
        rows.append(
            {
                "name": name,
                "plugin": reg.plugin,
                "tool": reg.stage.tool or "",
                "enabled": "on" if on else "off",
                "why": why,
                "on_for": ",".join(reg.stage.default_triggers),
                "scope": "files" if reg.stage.file_local else "project",
                "description": reg.stage.description,
            }
        )
    return rows


def main(args: argparse.Namespace) -> int:
    import json

    from gatekeeper.gate import load_config
    from gatekeeper.plugins import load_plugins
    from gatekeeper.projects import project_root

    plugins = load_plugins()
    root = project_root()
    config, registered = load_config(root, plugins)
    rows = stage_rows(root, config, registered)
    summary = project_summary(root, rows)
    if args.format == "json":
        print(json.dumps({"project": summary, "stages": rows}, indent=2))
        return 0
    for line in summary_lines(summary):
        print(line)
    print(f"config: {config.source or 'none (zero-config defaults)'}\n")
    width = max(len(r["name"]) for r in rows) if rows else 10
    for r in rows:
        state = r["enabled"] if r["enabled"] == "on" or not r["on_for"] else "auto"
        also = f"; always on for: {r['on_for']}" if r["on_for"] else ""
        print(f"{r['name']:<{width}}  {state:<4}  {r['description']}  [{r['plugin']}]")
        print(f"{'':<{width}}        why: {r['why']}{also}")
    return 0
