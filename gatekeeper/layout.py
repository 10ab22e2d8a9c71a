"""Zero-config discovery: where a typical repository keeps its packages and tests."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.stage import Layout

_NOT_CODE = {"tests", "test", "docs", "doc", "build", "dist", "benchmarks", "examples", "scripts"}
_TOP_MODULES_SKIP = {"setup.py", "conftest.py", "noxfile.py", "fabfile.py"}


def _packages_in(base: Path, prefix: str) -> list[str]:
    if not base.is_dir():
        return []
    return sorted(
        f"{prefix}{d.name}"
        for d in base.iterdir()
        if d.is_dir()
        and not d.name.startswith((".", "_"))
        and d.name not in _NOT_CODE
        and (d / "__init__.py").is_file()
    )


def discover(root: Path) -> Layout:
    """Packages (top level or under ``src/``), top-level modules and test directories."""
    packages = _packages_in(root / "src", "src/") + _packages_in(root, "")
    modules = sorted(
        p.name
        for p in root.glob("*.py")
        if p.name not in _TOP_MODULES_SKIP and not p.name.startswith("test")
    )
    tests = sorted(d for d in ("tests", "test", "testing") if (root / d).is_dir())
    return Layout(tuple(packages), tuple(modules), tuple(tests))
