"""A fixer that breaks the gate's own configuration (an unknown top-level key)."""

from __future__ import annotations

from pathlib import Path

from _contract import inputs

inputs()
text = Path("pyproject.toml").read_text(encoding="utf-8")
Path("pyproject.toml").write_text(
    text.replace("[tool.gatekeeper]\n", "[tool.gatekeeper]\nchecks_off = true\n"), encoding="utf-8"
)
