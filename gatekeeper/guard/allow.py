"""Deliberate exceptions to the tamper guard, and where they may come from.

An exception is allowed by a person, never by the change under check: on every trigger but a
person's own run the ``tamper_allow`` list is read from the **base** (the commit or tree the
change is compared with), so a change cannot approve itself. A person's plain run reads the
working tree's list: the person is the one approving.
"""

from __future__ import annotations

import fnmatch
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gatekeeper import git
from gatekeeper.config import YAML_NAMES, read_settings
from gatekeeper.errors import GatekeeperError
from gatekeeper.models import Finding

#: Triggers on which a person (not an agent, not the change) asks for the run.
PERSON_TRIGGERS = ("person",)


def settings_at(root: Path, treeish: str) -> dict[str, Any]:
    """The gate's raw settings as ``treeish`` has them (empty when it has none or they break).

    An unreadable config at the base allows nothing, which is the safe reading.
    """
    with tempfile.TemporaryDirectory(prefix="gatekeeper-base-config-") as tmp:
        for name in ("pyproject.toml", *YAML_NAMES):
            text = git.git(root, "cat-file", "-p", f"{treeish}:{name}", check=False)
            if text:
                (Path(tmp) / name).write_text(text, encoding="utf-8")
        try:
            return read_settings(Path(tmp))[1]
        except GatekeeperError:
            return {}


def entries(
    root: Path, base: str | None, trigger: str, tree_settings: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The allow-list in force: the base's, or the tree's for a person's own run."""
    if trigger in PERSON_TRIGGERS or not base:
        raw = tree_settings.get("tamper_allow", [])
    else:
        raw = settings_at(root, base).get("tamper_allow", [])
    return [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []


def allowed(finding: Finding, allow: Iterable[Mapping[str, Any]]) -> bool:
    """True when an allow-list entry (rule and path globs) covers ``finding``."""
    return any(
        fnmatch.fnmatchcase(finding.rule, str(e.get("rule", "")))
        and fnmatch.fnmatchcase(finding.path, str(e.get("path", "*")))
        for e in allow
    )


__all__ = ["allowed", "entries", "settings_at"]
