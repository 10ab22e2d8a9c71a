"""The gate's pytest plugins, loaded under names no module of the project can know.

``python -m pytest`` puts the working directory first on ``sys.path`` before it loads ``-p``
plugins, so a file a change adds at the top of the repository, named like one of the gate's
plugins (``gatekeeper_pytest_coverage.py``), would be imported instead of it: a plugin that
reports whatever the change wants. Each test run therefore loads a fresh copy of the plugin,
named with a random token, from a directory of its own.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path


def install(source: Path, folder: Path) -> str:
    """Copy the plugin module ``source`` into ``folder`` under a run-unique module name.

    :returns: the module name to load (``-p NAME``), ``<source stem>_<16 hex digits>``; put
        ``folder`` on ``PYTHONPATH`` for the run.
    :raises OSError: ``folder`` cannot be created or written.
    """
    name = f"{source.stem}_{secrets.token_hex(8)}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, folder / f"{name}.py")
    return name


__all__ = ["install"]
