"""The ``PATH`` arguments of ``gatekeeper run``: checked, and made relative to the repository.

A path is taken relative to the current directory (as a shell user means it), must exist and
must lie inside the repository. A typo must not become a run that checks nothing and passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gatekeeper.errors import GatekeeperError


def repo_paths(root: Path, paths: Sequence[str], cwd: Path | None = None) -> tuple[str, ...]:
    """``paths`` as repo-relative POSIX paths; a missing or outside path is a GatekeeperError."""
    base = (cwd or Path.cwd()).resolve()
    top = root.resolve()
    out: list[str] = []
    for raw in paths:
        path = (base / raw).resolve()
        if not path.exists():
            raise GatekeeperError(f"path {raw!r} does not exist", "check the spelling")
        try:
            rel = path.relative_to(top).as_posix()
        except ValueError:
            raise GatekeeperError(
                f"path {raw!r} is outside the repository {top}", "name paths inside it"
            ) from None
        out.append("" if rel == "." else rel)
    # The repository root itself means everything: no narrowing at all.
    return () if "" in out else tuple(out)
