"""Judge the change, not the history: findings already at the base of a change do not block.

Trunk calls it "hold the line", SonarQube "clean as you code". The gate runs the same stages
on the base of the change (:mod:`gatekeeper.baserun`, cached by the base's tree) and marks
every finding of this run that was there already as ``existing``: reported, counted, shown
collapsed, never blocking. What the change makes worse blocks:

- a finding whose fingerprint is not at the base (or more of them than the base had);
- a finding with a ``subject`` (a function, a test) that the base did not have, or whose
  ``measure`` grew (complexity as a ratchet);
- always: a stage ``error``, a finding that stops its tool (a syntax error, a test module that
  cannot be collected), and any finding of a stage the base could not vouch for (it errored,
  was skipped, or did not run there). A test that passed at the base and fails now has no
  finding at the base, so it is new by construction.

The base of a change: ``--base REF``; else the merge-base of HEAD with its upstream branch;
else with the remote's default branch; else there is none (a fresh repository with no
remote), and the whole tree is judged, which the report says.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gatekeeper import git
from gatekeeper.baseline import Baseline, apply_baseline
from gatekeeper.errors import GatekeeperError
from gatekeeper.models import BaseInfo, Finding, StageResult

if TYPE_CHECKING:
    from gatekeeper.gate import GateRequest, Plan
    from gatekeeper.plugins import PluginSet

Mode = Literal["change", "all"]

ALL_SOURCE = "not used (--all / mode = 'all')"


@dataclass(frozen=True)
class ChangeBase:
    """Where a change starts: a commit (or a tree id), and how it was chosen, for people.

    ``ref`` is None when there is no base: the whole tree is judged and ``source`` says why.
    """

    ref: str | None
    source: str


def _commit(root: Path, ref: str) -> str | None:
    out = git.git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return out.strip() or None


def _merge_base(root: Path, other: str) -> str | None:
    return git.git(root, "merge-base", "HEAD", other, check=False).strip() or None


def _upstream(root: Path) -> str | None:
    out = git.git(
        root, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}", check=False
    ).strip()
    return out or None


def upstream_commit(root: Path) -> str | None:
    """The commit of HEAD's upstream branch as this clone knows it (None: no upstream)."""
    return _commit(root, "@{upstream}")


def _remote_default(root: Path) -> str | None:
    """``origin/main`` or the like: the default branch of a remote, as this clone knows it."""
    remotes = git.git(root, "remote", check=False).split()
    for remote in sorted(remotes, key=lambda r: r != "origin"):
        head = git.git(
            root, "symbolic-ref", "--quiet", "--short", f"refs/remotes/{remote}/HEAD", check=False
        ).strip()
        if head:
            return head
        for name in ("main", "master"):
            if _commit(root, f"refs/remotes/{remote}/{name}"):
                return f"{remote}/{name}"
    return None


def resolve(root: Path, explicit: str | None = None) -> ChangeBase:
    """The base of the change in ``root``'s working tree (see the module docstring).

    Raises :class:`GatekeeperError` when ``explicit`` names no commit.
    """
    if explicit:
        commit = _commit(root, explicit)
        if commit is None:
            raise GatekeeperError(
                f"--base {explicit!r} is not a commit in this repository",
                "name a branch, tag or commit (`git branch -a` lists the branches)",
            )
        return ChangeBase(commit, f"--base {explicit}")
    if git.head_sha(root) is None:
        return ChangeBase(None, "none (the repository has no commits yet)")
    for other in (_upstream(root), _remote_default(root)):
        if other is None:
            continue
        fork = _merge_base(root, other)
        if fork:
            return ChangeBase(fork, f"merge-base with {other}")
        return ChangeBase(None, f"none (HEAD shares no history with {other})")
    return ChangeBase(None, "none (no upstream branch and no remote default branch)")


@dataclass
class _Base:
    """One stage's findings at the base, as budgets the findings of this run draw from."""

    prints: Counter[str]
    subjects: Counter[str]
    measures: dict[str, float]

    @classmethod
    def of(cls, findings: Iterable[Finding]) -> _Base:
        prints: Counter[str] = Counter()
        subjects: Counter[str] = Counter()
        measures: dict[str, float] = {}
        for f in findings:
            if f.subject:
                subjects[f.subject] += 1
                if f.measure is not None:
                    measures[f.subject] = max(f.measure, measures.get(f.subject, f.measure))
            else:
                prints[f.fingerprint] += 1
        return cls(prints, subjects, measures)

    def holds(self, f: Finding) -> bool:
        """Whether the base had ``f`` already (and no better); takes it from the budget."""
        if f.stops_tool:  # what it hid is unknown, at the base and now
            return False
        if f.subject:
            if self.subjects[f.subject] <= 0 or self._grew(f):
                return False
            self.subjects[f.subject] -= 1
            return True
        if self.prints[f.fingerprint] <= 0:
            return False
        self.prints[f.fingerprint] -= 1
        return True

    def _grew(self, f: Finding) -> bool:
        before = self.measures.get(f.subject)
        return f.measure is not None and before is not None and f.measure > before


def judge(
    stages: Iterable[StageResult], base: Mapping[str, StageResult]
) -> tuple[tuple[StageResult, ...], int]:
    """Mark the findings the base already had as existing; recompute each stage's status.

    Returns the stages and how many findings are existing. Only a stage that passed or
    failed both here and at the base is compared; anything else is left as it is.
    """
    out = []
    total = 0
    for stage in stages:
        then = base.get(stage.name)
        if (
            stage.status not in ("passed", "failed")
            or then is None
            or then.status not in ("passed", "failed")
        ):
            out.append(stage)
            continue
        budget = _Base.of(then.findings)
        marked = tuple(replace(f, existing=True) if budget.holds(f) else f for f in stage.findings)
        held = sum(1 for f in marked if f.existing)
        total += held
        if not held:
            out.append(stage)
            continue
        blocking = any(f.blocking for f in marked)
        out.append(
            stage.with_(
                findings=marked,
                status="failed" if blocking else "passed",
                extra={**stage.extra, "existing": held},
            )
        )
    return tuple(out), total


def mode_of(requested: str | None, configured: object) -> Mode:
    """``--all`` / a caller's choice first, then the ``mode`` setting."""
    value = requested or configured
    return "all" if value == "all" else "change"


def hold_the_line(
    stages: tuple[StageResult, ...],
    base: ChangeBase,
    mode: Mode,
    run_base: Callable[[str, Iterable[str]], tuple[Mapping[str, StageResult], bool]],
) -> tuple[tuple[StageResult, ...], BaseInfo]:
    """This run's stages judged against ``base`` (``run_base`` runs or recalls the base)."""
    if mode == "all":
        return stages, BaseInfo("all", base.ref, ALL_SOURCE)
    if base.ref is None:
        return stages, BaseInfo("all", None, base.source)
    # Only a stage with blocking findings that could be existing needs its base (a clean
    # stage, or one whose findings all stopped its tool, has nothing to compare).
    wanted = [
        s.name
        for s in stages
        if s.status == "failed" and any(f.blocking and not f.stops_tool for f in s.findings)
    ]
    if not wanted:
        return stages, BaseInfo("change", base.ref, base.source, cached=True)
    started = time.monotonic()
    try:
        at_base, cached = run_base(base.ref, wanted)
    except GatekeeperError as exc:
        # Nothing vouches for the base: every finding counts as new (never fail open).
        why = f"{base.source}; the base could not be checked ({exc.message}): nothing is existing"
        return stages, BaseInfo("change", base.ref, why, duration_s=time.monotonic() - started)
    judged, existing = judge(stages, at_base)
    info = BaseInfo(
        "change",
        base.ref,
        base.source,
        existing=existing,
        cached=cached,
        duration_s=0.0 if cached else time.monotonic() - started,
    )
    return judged, info


#: How the base was chosen when the trigger hands it over (``compare_to`` / ``base``).
_GIVEN = {
    "pre-push": "what the remote has",
    "ci": "the pull request's base",
    "agent": "the commit the agent session started from",
    "loop": "the tree the loop started from",
}


@dataclass
class ChangeJudge:
    """The gate's hook: stage results judged by the baseline file and the base of the change.

    Called on the first results and again on any fast-path confirmation. A partial fast-path
    result (not every test ran) that no longer blocks after judging goes back to *pending*,
    so the full check still runs before anything can pass (see :mod:`gatekeeper.fastpath`).
    """

    request: GateRequest
    plan: Plan
    plugins: PluginSet
    baseline: Baseline | None
    base: ChangeBase | None = None
    mode: Mode = "change"
    seen: list[BaseInfo] = field(default_factory=list)

    def __post_init__(self) -> None:
        given = self.request.change
        if given is None:
            ref = self.request.compare_to or self.request.base
            source = (
                _GIVEN.get(self.request.trigger, "--base") if ref else "none (no base was given)"
            )
            given = ChangeBase(ref, source)
        self.base = given
        self.mode = mode_of(self.request.mode, self.plan.config.get("mode"))

    def __call__(self, results: Mapping[str, StageResult]) -> dict[str, StageResult]:
        from gatekeeper.baserun import BaseRun
        from gatekeeper.state import state_dir

        assert self.base is not None
        stages = apply_baseline(results.values(), self.baseline)
        state = self.request.state or state_dir(self.plan.root)
        runner = BaseRun(self.plan.root, state, self.request, self.plan, self.plugins)
        judged, info = hold_the_line(stages, self.base, self.mode, runner)
        self.seen.append(info)
        return {s.name: _unconfirmed(s) for s in judged}

    def info(self, stages: Iterable[StageResult]) -> BaseInfo:
        """What the run was judged against, with the final count of existing findings."""
        merged = merge_bases(self.seen)
        assert merged is not None  # called after the first judging
        return replace(merged, existing=sum(1 for s in stages for f in s.findings if f.existing))


def _unconfirmed(stage: StageResult) -> StageResult:
    from gatekeeper import fastpath

    if stage.extra.get(fastpath.KEY) != fastpath.PARTIAL or stage.blocking:
        return stage
    return StageResult(
        stage.name,
        "skipped",
        stage.duration_s,
        reason="not confirmed yet: the fast path found only findings already at the base or "
        "in the baseline; the full check runs once every other stage passes",
        extra={fastpath.KEY: fastpath.PENDING},
    )


def merge_bases(infos: Sequence[BaseInfo]) -> BaseInfo | None:
    """One repository, several projects: one base line, the existing findings of all."""
    if not infos:
        return None
    return replace(
        infos[0],
        existing=sum(i.existing for i in infos),
        cached=all(i.cached for i in infos),
        duration_s=sum(i.duration_s for i in infos),
    )
