"""The ``pyright`` stage: pyright's opinion, for a project configured for pyright or basedpyright.

Runs basedpyright, the fork that installs whole from PyPI (the ``pyright`` wrapper downloads
its runtime on first use). A project configured with ``[tool.basedpyright]`` gets basedpyright
exactly as it runs there. A project configured for pyright (``[tool.pyright]`` or
``pyrightconfig.json``) gets pyright's behaviour: basedpyright's own stricter default mode
("recommended", which also fails on warnings) is replaced by pyright's default "standard" unless
the project names a mode, and its default platform ("All") by the one pyright analyses for (the
platform it runs on); the settings go to basedpyright as a config file with the project's
paths made absolute, so ``include``, ``exclude`` and the rest select what they select in
pyright. On by default only where the project configures pyright or basedpyright.

basedpyright exits 0 (clean), 1 (errors, or warnings where it fails on warnings), 2 (fatal),
3 (bad configuration) or 4 (bad command line); 2–4 are errors of the stage.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import gatekeeper
from gatekeeper import Finding, Layout, Stage, StageContext, StageError, StageInputs

from . import _selection

#: Settings of pyright's config that hold paths (relative to the config file's directory).
PATH_LISTS = ("include", "exclude", "ignore", "strict", "extraPaths")
PATH_VALUES = ("stubPath", "typeshedPath", "venvPath")
PLATFORMS = {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}
Severity = Literal["error", "warning", "note"]
SEVERITY: dict[str, Severity] = {"error": "error", "warning": "warning", "information": "note"}


def _absolute(root: Path, value: Any) -> Any:
    if isinstance(value, str) and not Path(value).is_absolute():
        return str(root / value)
    return value


def compat_settings(root: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """The project's pyright settings, as a config file outside the tree would need them:
    pyright's defaults made explicit and every path made absolute."""
    out = dict(settings)
    out.setdefault("typeCheckingMode", "standard")
    # pyright analyses for the platform it runs on; basedpyright for all of them by default
    out.setdefault("pythonPlatform", PLATFORMS.get(sys.platform, "Linux"))
    out.setdefault("include", ["."])
    out.setdefault("exclude", list(_selection.PYRIGHT_DEFAULT_EXCLUDE))
    for key in PATH_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_absolute(root, v) for v in out[key]]
    for key in PATH_VALUES:
        if key in out:
            out[key] = _absolute(root, out[key])
    envs = out.get("executionEnvironments")
    if isinstance(envs, list):
        out["executionEnvironments"] = [
            {
                **env,
                "root": _absolute(root, env.get("root", ".")),
                **(
                    {"extraPaths": [_absolute(root, p) for p in env["extraPaths"]]}
                    if isinstance(env.get("extraPaths"), list)
                    else {}
                ),
            }
            for env in envs
            if isinstance(env, dict)
        ]
    return out


def fails_on_warnings(settings: dict[str, Any]) -> bool:
    """basedpyright fails on warnings in its stricter modes unless told otherwise."""
    mode = settings.get("typeCheckingMode", "recommended")
    return bool(settings.get("failOnWarnings", mode in ("recommended", "all")))


def load(output: str) -> dict[str, Any]:
    """basedpyright's ``--outputjson`` report; anything else is a :class:`StageError`."""
    try:
        data = json.loads(output)
    except json.JSONDecodeError as exc:
        raise StageError(f"cannot parse basedpyright's JSON output: {exc}", output) from None
    if not isinstance(data, dict) or not isinstance(data.get("generalDiagnostics"), list):
        raise StageError("basedpyright's JSON output has no diagnostics list", output)
    return data


def parse(ctx: StageContext, data: dict[str, Any], warnings_block: bool) -> list[Finding]:
    """One finding per diagnostic; warnings block only where the tool fails on them."""
    findings = []
    for d in data["generalDiagnostics"]:
        start = (d.get("range") or {}).get("start") or {}
        severity: Severity = SEVERITY.get(str(d.get("severity")), "note")
        if severity == "warning" and warnings_block:
            severity = "error"
        findings.append(
            ctx.finding(
                str(d.get("rule") or "error"),
                str(d.get("file") or ""),
                int(start.get("line", -1)) + 1,
                int(start.get("character", -1)) + 1,
                str(d.get("message", "")),
                severity=severity,
                hint="see https://docs.basedpyright.com/latest/configuration/config-files/"
                + (f" ({d['rule']})" if d.get("rule") else ""),
            )
        )
    return findings


def run(ctx: StageContext) -> list[Finding]:
    """Check the project as its pyright configuration selects, with the project's Python."""
    config = _selection.pyright_config(ctx.root)
    settings = dict(config.settings) if config else {}
    based = config is not None and config.where.endswith("[tool.basedpyright]")
    args = ["--outputjson", "--pythonpath", str(ctx.project_python)]
    with tempfile.TemporaryDirectory(prefix="gatekeeper-pyright-") as tmp:
        if not based:
            settings = compat_settings(ctx.root, settings)
            path = Path(tmp) / "pyrightconfig.json"
            path.write_text(json.dumps(settings), encoding="utf-8")
            args += ["--project", str(path)]
        done = ctx.run_tool([*args, *ctx.args], ok=(0, 1))
    data = load(done.stdout)
    findings = parse(ctx, data, fails_on_warnings(settings))
    analyzed = (data.get("summary") or {}).get("filesAnalyzed")
    if isinstance(analyzed, int):
        ctx.tell("files_checked", analyzed)
    if done.returncode == 1 and not any(f.severity == "error" for f in findings):
        raise StageError("basedpyright exited with code 1 but reported no errors", done.output)
    return findings


def selection(root: Path, layout: Layout) -> Callable[[str], bool] | None:
    """The files pyright checks here: its ``include`` less its ``exclude``."""
    return _selection.pyright_selection(root)


def zero_config(root: Path) -> tuple[bool, str]:
    """On where the project configures pyright or basedpyright."""
    return _selection.checker_decision(root, "pyright")


def inputs(root: Path, listed: Sequence[str]) -> StageInputs:
    """The config files pyright's ``extends`` chain reads (each relative to the one naming it),
    and the stubs under its ``stubPath`` (``typings`` by default), even outside ``include``."""
    config = _selection.pyright_config(root)
    settings, where = (config.settings, root) if config else ({}, root)
    stubs = str(settings.get("stubPath") or "typings").strip("/").removeprefix("./")
    chain: list[str] = []
    while isinstance(settings.get("extends"), str) and len(chain) < 32:
        path = (where / settings["extends"]).resolve()
        try:
            rel = path.relative_to(root.resolve()).as_posix()
        except ValueError:
            break  # outside the repository
        if rel in chain or not path.is_file():
            break
        chain.append(rel)
        settings, where = _selection.jsonc(path), path.parent
    return StageInputs(config=tuple([*chain, *(f for f in listed if f.startswith(f"{stubs}/"))]))


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``pyright`` stage."""
    register(
        Stage(
            name="pyright",
            run=run,
            description="type check with pyright (basedpyright), as the project configures it",
            tool="basedpyright",
            file_local=False,
            config_files=("pyproject.toml", "pyrightconfig.json"),
            default_enabled=False,
            zero_config=zero_config,
            selection=selection,
            inputs=inputs,
        )
    )
