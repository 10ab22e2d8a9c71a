"""Shared by the import hooks that run in the project's interpreter (stdlib only)."""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # imported at every test process's start: no typing at run time
    from collections.abc import Sequence
    from types import ModuleType
    from typing import Any


def spec_from_others(
    me: Any, fullname: str, path: Sequence[str] | None, target: ModuleType | None
) -> Any:
    """The spec the other finders on ``sys.meta_path`` give ``fullname`` (None: not found).

    A hook that only watches or swaps a loader asks them, so editable installs and namespace
    packages resolve exactly as they would without it.
    """
    for finder in sys.meta_path:
        if finder is me or not hasattr(finder, "find_spec"):
            continue
        spec = finder.find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None
