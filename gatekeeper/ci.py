"""Which CI system runs us, and which change it asks us to judge.

GitHub Actions (``GITHUB_ACTIONS=true``): on a pull request the base is the PR's base commit
from the event payload (``GITHUB_EVENT_PATH``), else ``GITHUB_BASE_REF``; a merge queue's
``merge_group.base_sha`` likewise. GitLab CI (``GITLAB_CI=true``): a merge request pipeline's
``CI_MERGE_REQUEST_DIFF_BASE_SHA``. Anything else with ``CI`` set is generic. Without a
change to review (a push to a branch, a scheduled run) the whole tree is checked.

A base that is not in the clone (a shallow checkout) falls back to the whole tree, with a
warning: checking more than asked is slower but never lets anything through.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gatekeeper import git

SYSTEMS = {"github": "GitHub Actions", "gitlab": "GitLab CI", "generic": "CI", "local": "local"}


@dataclass(frozen=True)
class CIContext:
    """The CI system and the change under review.

    :ivar system: ``github``, ``gitlab``, ``generic`` or ``local`` (no CI detected).
    :ivar base: the commit the change is compared with; None checks the whole tree.
    :ivar why: where ``base`` came from, or why the whole tree is checked (for the log).
    :ivar summary_path: GitHub's ``$GITHUB_STEP_SUMMARY`` file, when there is one.
    :ivar warning: a problem worth a line on stderr (e.g. the base is missing from the clone).
    """

    system: str
    base: str | None
    why: str
    summary_path: Path | None = None
    warning: str | None = None

    @property
    def label(self) -> str:
        return SYSTEMS[self.system]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def system_of(env: Mapping[str, str]) -> str:
    """``github``, ``gitlab``, ``generic`` or ``local``."""
    if _truthy(env.get("GITHUB_ACTIONS")):
        return "github"
    if _truthy(env.get("GITLAB_CI")):
        return "gitlab"
    if _truthy(env.get("CI")) or env.get("JENKINS_URL") or env.get("TF_BUILD"):
        return "generic"
    return "local"


def _event(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _dig(data: Mapping[str, Any], *keys: str) -> str | None:
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value if isinstance(value, str) and value else None


def github_base(env: Mapping[str, str]) -> tuple[list[str], str]:
    """Candidate base revisions for a GitHub run (best first) and where they came from."""
    event = _event(env)
    sha = _dig(event, "pull_request", "base", "sha")
    if sha:
        return [sha], f"pull request base {sha[:10]} (GITHUB_EVENT_PATH)"
    sha = _dig(event, "merge_group", "base_sha")
    if sha:
        return [sha], f"merge queue base {sha[:10]} (GITHUB_EVENT_PATH)"
    ref = env.get("GITHUB_BASE_REF")
    if ref:
        return [f"origin/{ref}", f"refs/remotes/origin/{ref}", ref], f"GITHUB_BASE_REF={ref}"
    return [], f"no pull request ({env.get('GITHUB_EVENT_NAME') or 'unknown event'})"


def gitlab_base(env: Mapping[str, str]) -> tuple[list[str], str]:
    """Candidate base revisions for a GitLab merge request pipeline."""
    sha = env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA")
    if sha:
        return [sha], f"merge request base {sha[:10]} (CI_MERGE_REQUEST_DIFF_BASE_SHA)"
    return [], "no merge request pipeline"


def _commit(root: Path, rev: str) -> str | None:
    out = git.git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    return out.strip() or None


def resolve_base(root: Path, candidates: list[str]) -> str | None:
    """The merge-base of the first candidate that exists here with HEAD (or the candidate
    itself when the history between them is missing)."""
    for rev in candidates:
        sha = _commit(root, rev)
        if sha:
            merge = git.git(root, "merge-base", sha, "HEAD", check=False).strip()
            return merge or sha
    return None


def detect(root: Path, env: Mapping[str, str], base: str | None = None) -> CIContext:
    """The CI context from the environment; an explicit ``base`` (``--base``) wins."""
    system = system_of(env)
    summary = env.get("GITHUB_STEP_SUMMARY") if system == "github" else None
    summary_path = Path(summary) if summary else None
    if base:
        return CIContext(system, base, f"--base {base}", summary_path)
    if system == "github":
        candidates, why = github_base(env)
    elif system == "gitlab":
        candidates, why = gitlab_base(env)
    else:
        candidates, why = [], "no change under review: pass --base REF to check only a change"
    if not candidates:
        return CIContext(system, None, f"whole tree: {why}", summary_path)
    resolved = resolve_base(root, candidates)
    if resolved is None:
        warning = (
            f"the base ({why}) is not in this clone, so the whole tree is checked; "
            "fetch more history (actions/checkout `fetch-depth: 0`, GitLab `GIT_DEPTH: 0`)"
        )
        return CIContext(system, None, "whole tree: base not fetched", summary_path, warning)
    if resolved == _commit(root, candidates[0]):
        return CIContext(system, resolved, f"changes since the {why}", summary_path)
    return CIContext(
        system, resolved, f"changes since {resolved[:10]} (merge-base with {why})", summary_path
    )
