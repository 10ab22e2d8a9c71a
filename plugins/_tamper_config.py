"""Loosened configuration: the gate's and its tools' settings, base against the tree.

:func:`loosened` compares the views (:mod:`._config_views`) of a config file at the base with
those of the tree and says, one line each, what got weaker. Only loosening is reported:
tightening a setting is never tampering.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._config_views import Flat, Unreadable, views


@dataclass(frozen=True)
class Loosened:
    """One loosened setting: the tool, a key to locate it in the file, and what changed."""

    tool: str
    key: str
    message: str


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _items(value: Any) -> set[str]:
    """A list-ish setting (TOML list, comma/newline separated INI string) as a set."""
    if value is None:
        return set()
    if isinstance(value, list | tuple):
        return {str(v).strip() for v in value if str(v).strip()}
    text = str(value).replace(",", "\n")
    return {v.strip() for v in text.splitlines() if v.strip()}


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_MYPY_LOOSE = {
    "ignore_errors",
    "ignore_missing_imports",
    "allow_untyped_defs",
    "allow_incomplete_defs",
    "allow_untyped_calls",
    "allow_untyped_decorators",
    "allow_subclassing_any",
    "allow_any_generics",
    "implicit_optional",
    "implicit_reexport",
}
_MYPY_STRICT_PREFIXES = ("strict", "disallow_", "warn_", "check_untyped_defs", "no_implicit")


def _mypy(base: Flat, now: Flat) -> Iterator[Loosened]:
    for section in sorted(set(base) | set(now)):
        old, new = base.get(section, {}), now.get(section, {})
        where = "" if section == "global" else f" [{section}]"
        for key in sorted(_MYPY_LOOSE):
            if _truthy(new.get(key)) and not _truthy(old.get(key)):
                yield Loosened("mypy", key, f"mypy {key} turned on{where}")
        for key in sorted(k for k in old if k.startswith(_MYPY_STRICT_PREFIXES)):
            if _truthy(old[key]) and not _truthy(new.get(key)):
                yield Loosened("mypy", key, f"mypy {key} turned off{where}")
        added = _items(new.get("disable_error_code")) - _items(old.get("disable_error_code"))
        if added:
            codes = ", ".join(sorted(added))
            yield Loosened(
                "mypy", "disable_error_code", f"mypy error codes disabled{where}: {codes}"
            )
        follow = str(new.get("follow_imports", "normal")).lower()
        if follow in ("skip", "silent") and str(old.get("follow_imports", "normal")) != follow:
            yield Loosened("mypy", "follow_imports", f"mypy follow_imports = {follow}{where}")
        yield from _grown("mypy", "exclude", old, new, f"mypy excludes more files{where}")


def _grown(
    tool: str, key: str, old: Mapping[str, Any], new: Mapping[str, Any], what: str
) -> Iterator[Loosened]:
    added = _items(new.get(key)) - _items(old.get(key))
    if added:
        yield Loosened(tool, key, f"{what}: {', '.join(sorted(added))}")


def _ruff_rules(flat: Flat, key: str) -> set[str]:
    return _items(flat.get("global", {}).get(key)) | _items(flat.get("lint", {}).get(key))


def _ruff_per_file(flat: Flat) -> set[str]:
    pairs: set[str] = set()
    for section in ("per_file_ignores", "extend_per_file_ignores"):
        for scope in ("", "lint."):
            for glob, codes in flat.get(f"{scope}{section}", {}).items():
                pairs |= {f"{glob}: {code}" for code in _items(codes)}
    return pairs


#: Ruff list settings and which way is looser: more entries (``grows``) or fewer.
_RUFF_LISTS = (
    (("ignore", "extend_ignore"), True, "ruff ignores more rules"),
    (("select", "extend_select"), False, "ruff rules no longer selected"),
    (("exclude", "extend_exclude"), True, "ruff excludes more files"),
)


def _ruff(base: Flat, now: Flat) -> Iterator[Loosened]:
    for keys, grows, what in _RUFF_LISTS:
        for key in keys:
            before, after = _ruff_rules(base, key), _ruff_rules(now, key)
            loosened = after - before if grows else before - after
            if loosened:
                yield Loosened(
                    "ruff", key.replace("_", "-"), f"{what}: {', '.join(sorted(loosened))}"
                )
    added_pf = _ruff_per_file(now) - _ruff_per_file(base)
    if added_pf:
        yield Loosened(
            "ruff",
            "per-file-ignores",
            f"ruff per-file ignores added: {'; '.join(sorted(added_pf))}",
        )
    old_max = _number(base.get("lint.mccabe", base.get("mccabe", {})).get("max_complexity"))
    new_max = _number(now.get("lint.mccabe", now.get("mccabe", {})).get("max_complexity"))
    if old_max is not None and (new_max is None or new_max > old_max):
        yield Loosened("ruff", "max-complexity", f"ruff max-complexity raised from {old_max:g}")


_PYTEST_FLAGS = {
    "-k": "-k (selects a subset of tests)",
    "--deselect": "--deselect",
    "--ignore": "--ignore",
    "--ignore-glob": "--ignore-glob",
    "-m": "-m (selects tests by marker)",
    "--lf": "--lf (only last failures)",
    "--last-failed": "--last-failed",
}


def _addopts_flags(value: Any) -> set[str]:
    try:
        tokens = value if isinstance(value, list) else shlex.split(str(value or ""))
    except ValueError:
        tokens = str(value).split()
    flags: set[str] = set()
    previous = ""
    for token in (str(t) for t in tokens):
        name = token.split("=", 1)[0]
        if name in _PYTEST_FLAGS:
            flags.add(_PYTEST_FLAGS[name])
        if (previous == "-p" and token.startswith("no:")) or token.startswith("-pno:"):
            flags.add(f"-p {token.removeprefix('-p')} (disables a plugin)")
        previous = token
    return flags


def _pytest(base: Flat, now: Flat) -> Iterator[Loosened]:
    old, new = base.get("global", {}), now.get("global", {})
    added = _addopts_flags(new.get("addopts")) - _addopts_flags(old.get("addopts"))
    if added:
        yield Loosened("pytest", "addopts", f"pytest addopts gained {', '.join(sorted(added))}")
    removed = _items(old.get("testpaths")) - _items(new.get("testpaths"))
    if removed and new.get("testpaths") is not None:
        yield Loosened(
            "pytest", "testpaths", f"pytest testpaths dropped {', '.join(sorted(removed))}"
        )
    yield from _grown("pytest", "norecursedirs", old, new, "pytest skips more directories")
    for key in ("python_files", "python_functions", "python_classes"):
        if key in old and _items(new.get(key)) != _items(old.get(key)):
            yield Loosened("pytest", key, f"pytest test discovery changed ({key})")
    if _truthy(old.get("xfail_strict")) and not _truthy(new.get("xfail_strict")):
        yield Loosened("pytest", "xfail_strict", "pytest xfail_strict turned off")


def _coverage(base: Flat, now: Flat) -> Iterator[Loosened]:
    old_report, new_report = base.get("report", {}), now.get("report", {})
    old_min, new_min = _number(old_report.get("fail_under")), _number(new_report.get("fail_under"))
    if old_min is not None and (new_min is None or new_min < old_min):
        shown = "removed" if new_min is None else f"{new_min:g}"
        yield Loosened(
            "coverage", "fail_under", f"coverage fail_under lowered from {old_min:g} to {shown}"
        )
    for section in ("run", "report"):
        yield from _grown(
            "coverage",
            "omit",
            base.get(section, {}),
            now.get(section, {}),
            "coverage omits more files",
        )
    for key in ("exclude_lines", "exclude_also"):
        yield from _grown("coverage", key, old_report, new_report, "coverage excludes more lines")


_GRADES = "ABCDEF"


def _threshold_loosened(key: str, old: Any, new: Any) -> bool:
    if isinstance(old, str) and isinstance(new, str) and old.upper() in _GRADES:
        if new.upper() in _GRADES:
            return _GRADES.index(new.upper()) > _GRADES.index(old.upper()) and key.startswith("max")
        return False
    a, b = _number(old), _number(new)
    if a is None or isinstance(old, bool):
        return False
    if b is None:
        return key.startswith(("max_", "min_"))
    return (key.startswith("max_") and b > a) or (key.startswith("min_") and b < a)


def _stage_section(
    stage: str, old: Mapping[str, Any], new: Mapping[str, Any] | None
) -> Iterator[Loosened]:
    settings = new or {}
    if settings.get("enabled") is False and old.get("enabled") is not False:
        yield Loosened("gatekeeper", "enabled", f"gatekeeper stage {stage} disabled")
    if old.get("enabled") is True and new is None:
        yield Loosened("gatekeeper", stage, f"gatekeeper stage {stage} removed from the config")
    for key in sorted(old):
        if _threshold_loosened(key, old[key], settings.get(key)):
            yield Loosened(
                "gatekeeper",
                key,
                f"gatekeeper {stage} {key} loosened from {old[key]!r} to {settings.get(key)!r}",
            )


def _gatekeeper(base: Flat, now: Flat) -> Iterator[Loosened]:
    stages = sorted(s for s in set(base) | set(now) if s.startswith("stages."))
    for section in stages:
        yield from _stage_section(
            section[len("stages.") :], base.get(section, {}), now.get(section)
        )
    for section in sorted(s for s in base if s.startswith("commands.") and s not in now):
        name = section[len("commands.") :]
        yield Loosened("gatekeeper", name, f"gatekeeper command stage {name} removed")
    yield from _grown(
        "gatekeeper",
        "exclude",
        base.get("global", {}),
        now.get("global", {}),
        "gatekeeper excludes more files",
    )


COMPARERS: dict[str, Callable[[Flat, Flat], Iterator[Loosened]]] = {
    "mypy": _mypy,
    "ruff": _ruff,
    "pytest": _pytest,
    "coverage": _coverage,
    "gatekeeper": _gatekeeper,
}


def loosened(name: str, base_text: str | None, now_text: str | None) -> list[Loosened]:
    """What got looser in config file ``name`` between the two texts (None: no such file).

    Raises :class:`Unreadable` when the file under check cannot be parsed (an unreadable base
    is treated as empty: the change that broke it is reported by the file under check).
    """
    now = views(name, now_text) if now_text is not None else {}
    try:
        base = views(name, base_text) if base_text is not None else {}
    except Unreadable:
        base = {}
    found: list[Loosened] = []
    for tool, compare in COMPARERS.items():
        if tool in base or tool in now:
            found.extend(compare(base.get(tool, {}), now.get(tool, {})))
    return found
