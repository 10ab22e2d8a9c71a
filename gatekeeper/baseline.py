"""The baseline: a committed record of today's findings, so only new ones fail the gate.

A legacy repository adopts the gate by recording what it already has (``gatekeeper
baseline``) in ``.gatekeeper-baseline.json``. From then on a finding whose fingerprint is in
the baseline is *baselined*: reported and counted, never blocking. Fingerprints leave out
line numbers (:mod:`gatekeeper.fingerprint`), so moving code or adding lines above a finding
keeps it recorded; several identical findings share a fingerprint and a ``count``.

The file lists one finding per line in a fixed order, so fixing one is a one-line diff. It
only shrinks on ``baseline --update``; recording new findings takes ``--add-new``, so the
baseline never grows by accident. A stage that could not run is never baselined, nor is a
finding that stopped its tool (:attr:`~gatekeeper.models.Finding.stops_tool`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gatekeeper import git
from gatekeeper.errors import ConfigError, GatekeeperError
from gatekeeper.models import Finding, StageResult

DEFAULT_FILE = ".gatekeeper-baseline.json"
VERSION = 1
ABOUT = (
    "Findings that existed when the gate was adopted; only new findings fail. "
    "Shrink it with `gatekeeper baseline --update` after fixing some."
)
MAX_MESSAGE = 200

Key = tuple[str, str]  # (stage, fingerprint)


@dataclass(frozen=True)
class Entry:
    """Recorded findings of one fingerprint; ``message`` is for the humans reading the diff."""

    stage: str
    rule: str
    path: str
    fingerprint: str
    count: int
    message: str

    @property
    def key(self) -> Key:
        return (self.stage, self.fingerprint)

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "rule": self.rule,
            "path": self.path,
            "fingerprint": self.fingerprint,
            "count": self.count,
            "message": self.message,
        }


@dataclass(frozen=True)
class Baseline:
    """The recorded entries, at most one per (stage, fingerprint)."""

    entries: tuple[Entry, ...] = ()

    def counts(self) -> dict[Key, int]:
        return {e.key: e.count for e in self.entries}

    @property
    def total(self) -> int:
        return sum(e.count for e in self.entries)


def _order(e: Entry) -> tuple[str, str, str, str]:
    return (e.path, e.stage, e.rule, e.fingerprint)


def entries_of(findings: Iterable[Finding]) -> tuple[Entry, ...]:
    """Findings folded into entries (one per stage and fingerprint), in file order.

    Findings that stop a tool (:attr:`Finding.stops_tool`) are never entries.
    """
    counts: Counter[Key] = Counter()
    first: dict[Key, Finding] = {}
    for f in findings:
        if f.stops_tool:
            continue
        key = (f.stage, f.fingerprint)
        counts[key] += 1
        first.setdefault(key, f)
    entries = (
        Entry(f.stage, f.rule, f.path, f.fingerprint, counts[k], f.message[:MAX_MESSAGE])
        for k, f in first.items()
    )
    return tuple(sorted(entries, key=_order))


def dumps(baseline: Baseline) -> str:
    """The file's text: deterministic, one entry per line, so diffs stay small."""
    rows = [
        "    " + json.dumps(e.to_json(), ensure_ascii=False)
        for e in sorted(baseline.entries, key=_order)
    ]
    body = ",\n".join(rows)
    findings = f"[\n{body}\n  ]" if rows else "[]"
    return (
        "{\n"
        f'  "version": {VERSION},\n'
        f'  "about": {json.dumps(ABOUT)},\n'
        f'  "findings": {findings}\n'
        "}\n"
    )


def parse(text: str, where: str) -> Baseline:
    """Read a baseline file's text; anything malformed is a :class:`ConfigError`."""
    fix = f"fix or delete {where}, then run `gatekeeper baseline` to record it again"
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{where}: not valid JSON: {exc}", fix) from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ConfigError(f"{where}: not a version-{VERSION} gatekeeper baseline", fix)
    raw = data.get("findings")
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: 'findings' must be a list", fix)
    entries = []
    for i, item in enumerate(raw):
        entries.append(_entry(item, f"{where}: findings[{i}]", fix))
    return Baseline(tuple(entries))


def _entry(item: Any, where: str, fix: str) -> Entry:
    if not isinstance(item, dict):
        raise ConfigError(f"{where} must be an object", fix)
    try:
        entry = Entry(
            stage=str(item["stage"]),
            rule=str(item.get("rule", "")),
            path=str(item.get("path", "")),
            fingerprint=str(item["fingerprint"]),
            count=int(item.get("count", 1)),
            message=str(item.get("message", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: missing or bad field {exc}", fix) from None
    if entry.count < 1:
        raise ConfigError(f"{where}: count must be at least 1", fix)
    return entry


def path_of(root: Path, setting: str | None) -> Path:
    """Where the baseline file lives (the ``baseline`` setting, repo-relative)."""
    return root / (setting or DEFAULT_FILE)


def load(root: Path, setting: str | None = None, head: str | None = None) -> Baseline | None:
    """The baseline in the working tree, or in commit ``head`` when the gate checks a commit.

    None when there is no baseline file.
    """
    path = path_of(root, setting)
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    if head:
        if not git.git(root, "ls-tree", "--name-only", head, "--", rel, check=False).strip():
            return None
        return parse(git.git(root, "cat-file", "-p", f"{head}:{rel}"), f"{rel} (at {head[:10]})")
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{rel}: cannot read: {exc}") from None
    return parse(text, rel)


def load_at_base(root: Path, base: str) -> Baseline | None:
    """The baseline as the base of the change had it: the file the base's config names
    (``baseline``), with its content at the base.

    An agent's fixer can run ``gatekeeper baseline`` or point the setting at a file of its
    own; only what the base recorded lets a finding through. ``base`` is a commit or a tree.
    """
    return load(root, _setting_at(root, base), base)


def _setting_at(root: Path, base: str) -> str | None:
    from gatekeeper.config import YAML_NAMES, read_settings

    with tempfile.TemporaryDirectory(prefix="gatekeeper-base-config-") as tmp:
        for name in ("pyproject.toml", *YAML_NAMES):
            listed = git.git(root, "ls-tree", "--name-only", base, "--", name, check=False)
            if listed.strip():
                text = git.git(root, "cat-file", "-p", f"{base}:{name}")
                Path(tmp, name).write_text(text, encoding="utf-8")
        try:
            _, settings = read_settings(Path(tmp))
        except ConfigError:
            return None  # the base's config is broken: its default baseline file counts
    value = settings.get("baseline")
    return value if isinstance(value, str) else None


def save(path: Path, baseline: Baseline) -> None:
    """Write the baseline atomically (temp file + rename): never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the file from other users
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(dumps(baseline))
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise GatekeeperError(
            f"cannot write {path}: {exc}", "check the directory's permissions"
        ) from None


def apply_baseline(
    stages: Iterable[StageResult], baseline: Baseline | None
) -> tuple[StageResult, ...]:
    """Mark recorded findings as baselined and recompute each stage's status.

    Up to ``count`` findings of a recorded fingerprint are baselined (in report order); any
    more are new. A stage whose only blocking findings are baselined passes. Stages that
    could not run or were skipped are left exactly as they are: an error is never baselined,
    and neither is a finding that stopped its tool, even when the file has an entry for it.
    """
    if baseline is None:
        return tuple(stages)
    budget = baseline.counts()
    return tuple(_apply_one(s, budget) for s in stages)


def _apply_one(stage: StageResult, budget: dict[Key, int]) -> StageResult:
    if stage.status not in ("passed", "failed") or not stage.findings:
        return stage
    marked = []
    for f in stage.findings:
        key = (f.stage, f.fingerprint)
        # What stops a tool hides everything after it: no entry can hold it.
        if budget.get(key, 0) > 0 and not f.stops_tool:
            budget[key] -= 1
            f = replace(f, baselined=True)
        marked.append(f)
    held = sum(1 for f in marked if f.baselined)
    if not held:
        return stage
    blocking = any(f.blocking for f in marked)
    return stage.with_(
        findings=tuple(marked),
        status="failed" if blocking else "passed",
        extra={**stage.extra, "baselined": held},
    )


@dataclass(frozen=True)
class Update:
    """What ``baseline --update`` changed: the new baseline and counts for the message."""

    baseline: Baseline
    fixed: int
    added: int
    not_added: int


def update(old: Baseline, current: Iterable[Entry], ran: Iterable[str], *, add_new: bool) -> Update:
    """The baseline after a fresh whole-tree run of the stages in ``ran``.

    Entries of stages that did not run are kept untouched. For stages that ran, each entry
    shrinks to what is still there (fixed ones disappear); new findings are only recorded
    with ``add_new``.
    """
    ran_set = set(ran)
    now: Mapping[Key, Entry] = {e.key: e for e in current}
    kept: list[Entry] = [e for e in old.entries if e.stage not in ran_set]
    fixed = added = not_added = 0
    for e in old.entries:
        if e.stage not in ran_set:
            continue
        still = now[e.key].count if e.key in now else 0
        fixed += max(e.count - still, 0)
        if still:
            kept.append(replace(now[e.key], count=min(e.count, still)))
    recorded = {e.key: e.count for e in kept}
    for key, e in now.items():
        extra = e.count - recorded.get(key, 0)
        if extra <= 0:
            continue
        if not add_new:
            not_added += extra
            continue
        added += extra
        kept = [k for k in kept if k.key != key] + [e]
    return Update(Baseline(tuple(sorted(kept, key=_order))), fixed, added, not_added)
