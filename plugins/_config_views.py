"""Config files read into per-tool views, for the tamper guard to compare.

Each file is read into a view per tool (mypy, ruff, pytest, coverage, gatekeeper), flattened
to ``section -> key -> value`` with keys normalised (``-`` and ``_`` are the same key), so the
comparison does not care which file or syntax a setting came from.
"""

from __future__ import annotations

import configparser
import sys
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

#: Files whose settings the guard compares (matched on the file name).
CONFIG_FILES = (
    "pyproject.toml",
    "setup.cfg",
    "tox.ini",
    "pytest.ini",
    "mypy.ini",
    ".mypy.ini",
    "ruff.toml",
    ".ruff.toml",
    ".coveragerc",
    ".gatekeeper.yaml",
    ".gatekeeper.yml",
)

Flat = dict[str, dict[str, Any]]  # section -> key -> value


class Unreadable(Exception):
    """The file's syntax is broken, so its settings cannot be compared."""


def is_config_file(path: str) -> bool:
    return PurePosixPath(path).name in CONFIG_FILES


def _norm(key: str) -> str:
    return key.replace("-", "_").lower()


def _ini(text: str) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise Unreadable(str(exc).splitlines()[0]) from None
    return {s: {_norm(k): v for k, v in parser.items(s)} for s in parser.sections()}


def _toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Unreadable(str(exc)) from None


def _yaml(text: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise Unreadable(str(exc).splitlines()[0]) from None
    return data if isinstance(data, dict) else {}


def _flat_table(table: Mapping[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Nested TOML tables as ``section -> {key: value}`` (sub-tables become dotted sections)."""
    out: dict[str, dict[str, Any]] = {prefix or "global": {}}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flat_table(value, f"{prefix}.{_norm(key)}" if prefix else _norm(key)))
        else:
            out[prefix or "global"][_norm(key)] = value
    return out


def _mypy_from_toml(table: Mapping[str, Any]) -> Flat:
    flat: Flat = {"global": {_norm(k): v for k, v in table.items() if k != "overrides"}}
    for override in table.get("overrides", []) or []:
        if isinstance(override, dict):
            modules = override.get("module", "")
            name = ",".join(modules) if isinstance(modules, list) else str(modules)
            flat[f"module {name}"] = {_norm(k): v for k, v in override.items() if k != "module"}
    return flat


def _mypy_from_ini(sections: Mapping[str, Mapping[str, str]]) -> Flat:
    flat: Flat = {}
    for name, values in sections.items():
        if name == "mypy":
            flat["global"] = dict(values)
        elif name.startswith("mypy-"):
            flat[f"module {name[5:]}"] = dict(values)
    return flat


def views(name: str, text: str) -> dict[str, Flat]:
    """The settings a config file holds, per tool."""
    if name == "pyproject.toml":
        tool = _toml(text).get("tool", {})
        tool = tool if isinstance(tool, dict) else {}
        out: dict[str, Flat] = {}
        if isinstance(tool.get("mypy"), dict):
            out["mypy"] = _mypy_from_toml(tool["mypy"])
        if isinstance(tool.get("ruff"), dict):
            out["ruff"] = _flat_table(tool["ruff"])
        pytest = tool.get("pytest", {})
        if isinstance(pytest, dict):
            opts = pytest.get("ini_options", pytest)
            out["pytest"] = {"global": {_norm(k): v for k, v in opts.items()}}
        if isinstance(tool.get("coverage"), dict):
            out["coverage"] = _flat_table(tool["coverage"])
        if isinstance(tool.get("gatekeeper"), dict):
            out["gatekeeper"] = _flat_table(tool["gatekeeper"])
        return out
    if name in ("ruff.toml", ".ruff.toml"):
        return {"ruff": _flat_table(_toml(text))}
    if name in (".gatekeeper.yaml", ".gatekeeper.yml"):
        return {"gatekeeper": _flat_table(_yaml(text))}
    return _ini_views(name, _ini(text))


def _ini_views(name: str, sections: Mapping[str, Mapping[str, str]]) -> dict[str, Flat]:
    out: dict[str, Flat] = {}
    mypy = _mypy_from_ini(sections)
    if mypy:
        out["mypy"] = mypy
    pytest_section = {"pytest.ini": "pytest", "tox.ini": "pytest", "setup.cfg": "tool:pytest"}
    section = pytest_section.get(name)
    if name == "pytest.ini" and "pytest" not in sections:
        section = "tool:pytest"
    if section and section in sections:
        out["pytest"] = {"global": dict(sections[section])}
    prefix = "" if name == ".coveragerc" else "coverage:"
    coverage = {
        s[len(prefix) :]: dict(v)
        for s, v in sections.items()
        if s.startswith(prefix) and s[len(prefix) :] in ("run", "report")
    }
    if coverage:
        out["coverage"] = coverage
    return out


def allow_list(name: str, text: str | None) -> list[dict[str, Any]]:
    """The ``tamper_allow`` entries of a gatekeeper config file's text (empty when none)."""
    if text is None:
        return []
    try:
        if name == "pyproject.toml":
            tool = _toml(text).get("tool", {})
            settings = tool.get("gatekeeper", {}) if isinstance(tool, dict) else {}
        elif name in (".gatekeeper.yaml", ".gatekeeper.yml"):
            settings = _yaml(text)
        else:
            return []
    except Unreadable:
        return []
    entries = settings.get("tamper_allow", []) if isinstance(settings, dict) else []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
