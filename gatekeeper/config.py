"""Read and validate the gate's configuration.

Settings come from ``.gatekeeper.yaml`` or ``[tool.gatekeeper]`` in ``pyproject.toml``; with
neither, zero-config defaults apply. Every unknown key, wrong type and bad value is reported
with the file, the key and a did-you-mean, as a :class:`ConfigError` (exit 2).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gatekeeper.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

YAML_NAMES = (".gatekeeper.yaml", ".gatekeeper.yml")


@dataclass(frozen=True)
class Option:
    """A setting with its default, accepted types and an optional check.

    ``check`` returns an error message for a bad value, or None.
    """

    default: Any
    types: tuple[type, ...] = ()
    check: Callable[[Any], str | None] | None = None
    help: str = ""

    @property
    def accepted(self) -> tuple[type, ...]:
        if self.types:
            return self.types
        if isinstance(self.default, bool):
            return (bool,)
        if isinstance(self.default, float):
            return (int, float)
        if self.default is None:
            return (object,)
        return (type(self.default),)


def _positive(value: Any) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _non_negative(value: Any) -> str | None:
    return None if value >= 0 else "must be 0 or more"


def _str_list(value: Any) -> str | None:
    if all(isinstance(v, str) for v in value):
        return None
    return "must be a list of strings"


def _known_autofix(value: Any) -> str | None:
    unknown = [v for v in value if v not in ("ruff", "ruff-format")]
    return f"has unknown autofix {unknown[0]!r} (known: ruff, ruff-format)" if unknown else None


def _allow_entries(value: Any) -> str | None:
    """``tamper_allow``: tables of rule, optional path glob, and a required reason."""
    for i, entry in enumerate(value, 1):
        if not isinstance(entry, dict):
            return f"entry {i} must be a table: {{rule = ..., path = ..., reason = ...}}"
        unknown = sorted(set(entry) - {"rule", "path", "reason"})
        if unknown:
            return f"entry {i} has unknown keys {unknown} (known: rule, path, reason)"
        if not isinstance(entry.get("rule"), str) or not entry["rule"].strip():
            return f"entry {i} needs a rule (e.g. 'tamper-noqa' or 'tamper-*')"
        if not isinstance(entry.get("path", ""), str):
            return f"entry {i}: path must be a glob string"
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            return f"entry {i} needs a reason saying why the suppression is deliberate"
    return None


#: Top-level keys. Modules that own a feature add their keys here (the key's name is theirs).
GLOBAL_OPTIONS: dict[str, Option] = {
    "python": Option(None, (str,), help="interpreter of the project's environment"),
    "jobs": Option(0, (int,), _non_negative, help="stages run at once; 0 means one per CPU core"),
    "timeout": Option(600.0, check=_positive, help="default seconds before a stage is killed"),
    "max_report_chars": Option(8000, check=_positive, help="size cap of the agent report"),
    "fail_fast": Option(False, help="stop the other stages at the first failure"),
    "cache": Option(True, help="reuse results of stages whose inputs did not change"),
    "exclude": Option([], check=_str_list, help="globs of files no stage checks"),
    "baseline": Option(
        ".gatekeeper-baseline.json", (str,), help="committed file of baselined findings"
    ),
    "mode": Option(
        "change",
        (str,),
        lambda v: None if v in ("change", "all") else "must be 'change' or 'all'",
        help="'change': findings already at the base of the change do not block (hold the "
        "line); 'all': the whole tree must be clean",
    ),
    "stages": Option({}, (dict,), help="per-stage settings, keyed by stage name"),
    "commands": Option({}, (dict,), help="extra stages that run a command line"),
    "tamper_allow": Option(
        [], check=_allow_entries, help="deliberate suppressions the tamper guard accepts"
    ),
    "agent_max_blocks": Option(
        5, (int,), _positive, help="Stop hook: blocks per agent session before it may stop"
    ),
    "agent_stuck_after": Option(
        2, (int,), _positive, help="Stop hook: blocks with the same findings before giving up"
    ),
    "agent_reason_chars": Option(
        6000, (int,), _positive, help="Stop hook: size cap of the reason given to the agent"
    ),
    "autofix": Option(
        ["ruff", "ruff-format"],
        check=lambda v: _str_list(v) or _known_autofix(v),
        help="the loop's autofix tier: safe tool fixes before an agent is asked ([] turns it off)",
    ),
    "deep": Option(False, help="deep mode always: slow checks too (test-quality's mutants)"),
    "stall_after": Option(
        2, (int,), _positive, help="loop: attempts with the same findings before it is stuck"
    ),
}

#: Keys every stage accepts, beside its own options.
COMMON_STAGE_OPTIONS: dict[str, Option] = {
    "enabled": Option(None, (bool,), help="run the stage (default: when its tool is installed)"),
    "paths": Option([], check=_str_list, help="what the tool checks (default: discovered)"),
    "args": Option([], check=_str_list, help="extra arguments for the tool"),
    "timeout": Option(None, (int, float), _positive, help="seconds before the stage is killed"),
    "cache": Option(True, help="allow the result cache for this stage"),
}


@dataclass(frozen=True)
class Config:
    """Validated settings, plus where they came from."""

    source: str | None
    settings: Mapping[str, Any]
    stages: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        """A top-level setting, or its default."""
        if key in self.settings:
            return self.settings[key]
        return GLOBAL_OPTIONS[key].default

    def stage(self, name: str) -> Mapping[str, Any]:
        """The user's explicit settings for one stage (empty when none)."""
        return self.stages.get(name, {})


def read_settings(root: Path) -> tuple[str | None, dict[str, Any]]:
    """The raw settings and the name of the file they came from (None in zero-config)."""
    yaml_files = [root / n for n in YAML_NAMES if (root / n).is_file()]
    pyproject = root / "pyproject.toml"
    from_toml: dict[str, Any] | None = None
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"pyproject.toml: not valid TOML: {exc}", "fix the syntax error it names"
            ) from None
        tool = data.get("tool", {})
        if isinstance(tool, dict) and "gatekeeper" in tool:
            from_toml = tool["gatekeeper"]
            if not isinstance(from_toml, dict):
                raise ConfigError("pyproject.toml: [tool.gatekeeper] must be a table")
    if yaml_files:
        if from_toml is not None:
            raise ConfigError(
                f"gatekeeper settings in both {yaml_files[0].name} and pyproject.toml",
                "keep one of them",
            )
        return yaml_files[0].name, _read_yaml(yaml_files[0])
    if from_toml is not None:
        return "pyproject.toml", from_toml
    return None, {}


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml  # only paid for by repositories that use YAML config

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"{path.name}: not valid YAML{where}: {problem}", "fix the syntax error"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path.name}: cannot read: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path.name}: must be a mapping of settings, not {type(data).__name__}")
    return data


def _did_you_mean(key: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(key), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(choices))}"


def _type_name(types: tuple[type, ...]) -> str:
    names = {
        bool: "true/false",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return " or ".join(names.get(t, t.__name__) for t in types)


def check_value(where: str, key: str, value: Any, option: Option) -> None:
    """Raise :class:`ConfigError` when ``value`` does not fit ``option``."""
    accepted = option.accepted
    ok = isinstance(value, accepted) and not (
        isinstance(value, bool) and bool not in accepted and object not in accepted
    )
    if not ok:
        raise ConfigError(
            f"{where}: {key} must be {_type_name(accepted)}, not {value!r}",
            f"set {key} to {_type_name(accepted)}",
        )
    if option.check is not None:
        problem = option.check(value)
        if problem:
            raise ConfigError(f"{where}: {key} {problem} (got {value!r})", f"correct {key}")


def validate_mapping(
    where: str, raw: Mapping[str, Any], options: Mapping[str, Option]
) -> dict[str, Any]:
    """Check every key of ``raw`` against ``options``; returns the checked copy."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in options:
            raise ConfigError(f"{where}: unknown key {key!r}", _did_you_mean(key, options.keys()))
        check_value(where, str(key), value, options[key])
        out[str(key)] = value
    return out


def validate(
    source: str | None,
    settings: MutableMapping[str, Any],
    stage_options: Mapping[str, Mapping[str, Option]],
) -> Config:
    """Validate raw settings against the known top-level keys and each stage's options."""
    label = source or "config"
    table = "pyproject.toml [tool.gatekeeper]" if source == "pyproject.toml" else label
    top = validate_mapping(table, settings, GLOBAL_OPTIONS)
    stages: dict[str, dict[str, Any]] = {}
    for name, raw in dict(top.get("stages", {})).items():
        where = f"{label}: stages.{name}"
        if name not in stage_options:
            raise ConfigError(
                f"{label}: unknown stage {name!r} under stages",
                _did_you_mean(name, stage_options.keys()),
            )
        if not isinstance(raw, dict):
            raise ConfigError(f"{where} must be a table of settings, not {raw!r}")
        known = {**COMMON_STAGE_OPTIONS, **stage_options[name]}
        stages[name] = validate_mapping(where, raw, known)
    return Config(source=source, settings=top, stages=stages)


def as_option(value: Any) -> Option:
    """A stage's declared option: an :class:`Option`, or a bare default value."""
    return value if isinstance(value, Option) else Option(value)
