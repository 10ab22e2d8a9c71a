"""List the stages from all plugins, where each comes from, and whether it would run."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")


def main(args: argparse.Namespace) -> int:
    import json

    from gatekeeper import git
    from gatekeeper.gate import load_config
    from gatekeeper.plugins import load_plugins

    plugins = load_plugins()
    root = git.repo_root()
    config, registered = load_config(root, plugins)
    rows: list[dict[str, str]] = []
    for name, reg in registered.items():
        user = config.stage(name)
        enabled = user.get("enabled", reg.stage.default_enabled)
        rows.append(
            {
                "name": name,
                "plugin": reg.plugin,
                "tool": reg.stage.tool or "",
                "enabled": "on" if enabled else "off",
                "on_for": ",".join(reg.stage.default_triggers),
                "on_for_change": "yes" if reg.stage.on_for_change else "",
                "scope": "files" if reg.stage.file_local else "project",
                "description": reg.stage.description,
            }
        )
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["name"]) for r in rows) if rows else 10
    for r in rows:
        auto = r["on_for"] or r["on_for_change"]
        state = r["enabled"] if r["enabled"] == "on" or not auto else "auto"
        also = f" (always on for: {r['on_for']})" if r["on_for"] else ""
        if r["on_for_change"] and r["enabled"] != "on":
            also = " (on when a change is judged: --base, pre-push, loop, agent, ci)"
        print(f"{r['name']:<{width}}  {state:<4}  {r['description']}{also}  [{r['plugin']}]")
    print(f"\nconfig: {config.source or 'none (zero-config defaults)'}")
    return 0
