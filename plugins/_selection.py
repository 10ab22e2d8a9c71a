"""What the project's own tool configuration says: which type checkers it uses, and which files
each tool checks when run the project's way.

Sources, in each tool's own order of precedence:

- mypy: ``mypy.ini``, ``.mypy.ini``, ``pyproject.toml`` ``[tool.mypy]``, ``setup.cfg``
  ``[mypy]`` (the first that has mypy settings wins, as mypy itself decides); ``files``,
  ``packages``, ``modules`` and ``exclude`` select the files.
- pyright / basedpyright: ``pyrightconfig.json`` over ``[tool.pyright]`` /
  ``[tool.basedpyright]``; ``include`` and ``exclude`` select the files.
- ty: ``ty.toml`` over ``[tool.ty]``; ``[src] include`` / ``exclude`` select the files.

A file that cannot be read is treated as saying nothing here: the tool itself then reports the
broken configuration, as an error of its stage.
"""

from __future__ import annotations

import configparser
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper import Layout

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

Predicate = Callable[[str], bool]

#: pyright's exclusions when the project lists none (besides virtual environments).
PYRIGHT_DEFAULT_EXCLUDE = ("**/node_modules", "**/__pycache__", "**/.*")


def pyproject_tool(root: Path, name: str) -> dict[str, Any] | None:
    """``[tool.<name>]`` of the project's ``pyproject.toml`` (dotted names reach sub-tables)."""
    try:
        data: Any = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    for part in ("tool", *name.split(".")):
        data = data.get(part) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else None


def _ini_section(path: Path, section: str) -> dict[str, str] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    return dict(parser.items(section)) if parser.has_section(section) else None


@dataclass(frozen=True)
class ToolConfig:
    """One tool's settings and the file they came from (``where``: for people)."""

    where: str
    settings: dict[str, Any]


def mypy_config(root: Path) -> ToolConfig | None:
    """mypy's settings, from the file mypy itself would read (None: mypy is not configured)."""
    for name in ("mypy.ini", ".mypy.ini"):
        if (root / name).is_file():
            return ToolConfig(name, _ini_section(root / name, "mypy") or {})
    table = pyproject_tool(root, "mypy")
    if table is not None:
        return ToolConfig("pyproject.toml [tool.mypy]", table)
    if (root / "setup.cfg").is_file():
        section = _ini_section(root / "setup.cfg", "mypy")
        if section is not None:
            return ToolConfig("setup.cfg [mypy]", section)
    return None


def pyright_config(root: Path) -> ToolConfig | None:
    """pyright's settings: ``pyrightconfig.json`` wins over ``pyproject.toml``, as in pyright."""
    path = root / "pyrightconfig.json"
    if path.is_file():
        return ToolConfig("pyrightconfig.json", jsonc(path))
    for table in ("basedpyright", "pyright"):
        found = pyproject_tool(root, table)
        if found is not None:
            return ToolConfig(f"pyproject.toml [tool.{table}]", found)
    return None


def ty_config(root: Path) -> ToolConfig | None:
    """ty's settings: ``ty.toml`` wins over ``[tool.ty]``, as in ty."""
    path = root / "ty.toml"
    if path.is_file():
        try:
            return ToolConfig("ty.toml", tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return ToolConfig("ty.toml", {})
    found = pyproject_tool(root, "ty")
    return None if found is None else ToolConfig("pyproject.toml [tool.ty]", found)


def jsonc(path: Path) -> dict[str, Any]:
    """pyright's JSON with comments and trailing commas; {} when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    text = re.sub(r'("(?:\\.|[^"\\])*")|//[^\n]*|/\*.*?\*/', lambda m: m[1] or "", text, flags=re.S)
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def checkers(root: Path) -> dict[str, str]:
    """The type checkers the project configures: checker name -> where (``{}``: none)."""
    found: dict[str, str] = {}
    mypy = mypy_config(root)
    if mypy is not None:
        found["mypy"] = mypy.where
    pyright = pyright_config(root)
    if pyright is not None:
        found["pyright"] = pyright.where
    ty = ty_config(root)
    if ty is not None:
        found["ty"] = ty.where
    return found


def checker_decision(root: Path, checker: str) -> tuple[bool, str]:
    """Zero-config: is ``checker`` on for this project, and why (mypy is the fallback)."""
    found = checkers(root)
    if checker in found:
        return True, f"the project configures {checker} ({found[checker]})"
    if checker == "mypy" and not found:
        return True, "no type checker configured: mypy with its defaults"
    others = ", ".join(f"{name} ({where})" for name, where in found.items())
    if others:
        return False, f"the project configures {others}, not {checker}"
    return False, f"the project does not configure {checker}"


def _listed(value: Any) -> list[str]:
    """A setting that is a list, or (in ini files) a comma-separated string."""
    if isinstance(value, str):
        return [v.strip() for v in value.replace("\n", ",").split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return []


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob (``*``, ``?``, ``**``) matching the path itself or anything under it."""
    parts = [p for p in pattern.strip().removeprefix("./").strip("/").split("/") if p != "."]
    while parts and parts[-1] == "**":
        parts.pop()  # "dir/**" is everything under dir, as "dir" is
    if not parts:
        return re.compile(r".*")
    regex = ""
    for part in parts:
        if part == "**":
            regex += "(?:[^/]+/)*"
        else:
            regex += re.escape(part).replace(r"\*", "[^/]*").replace(r"\?", "[^/]") + "/"
    return re.compile(regex.removesuffix("/") + "(?:/.*)?")


def under_any(patterns: Sequence[str]) -> Predicate:
    """True for a path equal to, or under, one of ``patterns`` (path globs)."""
    compiled = [glob_regex(p) for p in patterns]
    return lambda path: any(c.fullmatch(path) for c in compiled)


def _module_files(root: Path, names: Sequence[str], package: bool) -> list[str]:
    """Where modules or packages named in mypy's config live (the root, then ``src/``)."""
    found = []
    for name in names:
        rel = name.replace(".", "/")
        for base in ("", "src/"):
            if package and (root / base / rel).is_dir():
                found.append(base + rel)
                break
            if not package and (root / base / f"{rel}.py").is_file():
                found.append(f"{base}{rel}.py")
                break
            if not package and (root / base / rel / "__init__.py").is_file():
                found.append(f"{base}{rel}/__init__.py")
                break
    return found


def mypy_targets(root: Path) -> list[str] | None:
    """The paths mypy's own config selects (``files``, ``packages``, ``modules``), or None."""
    config = mypy_config(root)
    if config is None:
        return None
    s = config.settings
    files = _listed(s.get("files"))
    packages = _module_files(root, _listed(s.get("packages")), package=True)
    modules = _module_files(root, _listed(s.get("modules")), package=False)
    if not (files or s.get("packages") or s.get("modules")):
        return None
    return files + packages + modules


def mypy_selection(root: Path, layout: Layout) -> Predicate | None:
    """The files plain ``mypy`` checks: its config's targets (less ``exclude``), else the
    discovered packages and modules the stage passes; None when that is every file."""
    targets = mypy_targets(root)
    if targets is None:
        targets = list(layout.sources)
    if not targets:
        return None
    inside = under_any(targets)
    config = mypy_config(root)
    raw = (config.settings if config else {}).get("exclude")
    # one (verbose) regex, or a list of them
    excludes = [raw] if isinstance(raw, str) else _listed(raw)
    regexes = []
    for e in excludes:
        try:
            regexes.append(re.compile(e, re.X))
        except re.error:
            continue  # mypy reports its own broken pattern
    return lambda path: inside(path) and not any(r.search(path) for r in regexes)


def include_exclude(
    include: Sequence[str], exclude: Sequence[str], default_exclude: Sequence[str] = ()
) -> Predicate | None:
    """A selection by ``include`` / ``exclude`` globs (None: everything is selected)."""
    if not include and not exclude and not default_exclude:
        return None
    inside = under_any(include) if include else (lambda _path: True)
    outside = under_any([*exclude, *default_exclude])
    return lambda path: inside(path) and not outside(path)


def pyright_selection(root: Path) -> Predicate | None:
    """pyright's ``include`` less its ``exclude`` (pyright's defaults when it lists none)."""
    config = pyright_config(root)
    settings = config.settings if config else {}
    exclude = _listed(settings.get("exclude"))
    return include_exclude(
        _listed(settings.get("include")),
        exclude,
        () if exclude else PYRIGHT_DEFAULT_EXCLUDE,
    )


def ty_selection(root: Path) -> Predicate | None:
    """ty's ``[src] include`` less its ``exclude`` (ty's defaults when it lists none)."""
    config = ty_config(root)
    src = (config.settings if config else {}).get("src")
    src = src if isinstance(src, dict) else {}
    return include_exclude(_listed(src.get("include")), _listed(src.get("exclude")))
