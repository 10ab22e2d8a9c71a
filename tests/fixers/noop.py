"""A fixer that reads its inputs, claims success and changes nothing."""

from __future__ import annotations

from _contract import inputs

inputs()
print("fixed it!")
