"""The records that flow through a run: findings, stage results and the run itself.

Field names are the JSON report's field names (DESIGN.md, report version 1), so a record and
its JSON form never drift apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Status = Literal["passed", "failed", "error", "skipped"]
Verdict = Literal["passed", "failed", "error"]
Severity = Literal["error", "warning", "note"]

STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "skipped")


@dataclass(frozen=True)
class Finding:
    """One problem a stage found.

    ``path`` is repo-relative and POSIX; ``line``/``column`` are 1-based, 0 when unknown.
    ``fingerprint`` is filled in by the core (see :mod:`gatekeeper.fingerprint`); a plugin
    leaves it empty.
    """

    stage: str
    tool: str
    rule: str
    path: str
    line: int
    column: int
    message: str
    severity: Severity = "error"
    fixable: bool = False
    hint: str = ""
    fingerprint: str = ""
    #: recorded in the repository's baseline (see :mod:`gatekeeper.baseline`): reported and
    #: counted, but it does not fail the gate.
    baselined: bool = False
    #: the tool stopped here: it did not check everything it was asked to (a test module
    #: that cannot be collected, a file that cannot be parsed, a run cut short). Such a
    #: finding always blocks and can never be baselined, nor be existing at the base: what
    #: it hides is unknown.
    stops_tool: bool = False
    #: present at the base of the change already (see :mod:`gatekeeper.change`): reported,
    #: counted and shown collapsed, but it does not fail the gate (hold the line).
    existing: bool = False
    #: what the finding is about when that has a stable name (a test's node id, a function's
    #: qualified name): the same subject at the base is the same finding, whatever the message.
    subject: str = ""
    #: the size of the problem (a function's complexity): with a subject, a finding at the
    #: base whose measure is lower means the change made it worse (the ratchet).
    measure: float | None = None

    @property
    def blocking(self) -> bool:
        """Counts against the verdict: an error (or a stop) neither the baseline nor the base
        holds."""
        if self.stops_tool:
            return True
        return self.severity == "error" and not self.baselined and not self.existing

    @property
    def location(self) -> str:
        """``path:line:col`` as editors and agents expect it."""
        if self.line <= 0:
            return self.path
        if self.column <= 0:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class StageResult:
    """What one stage concluded.

    ``error`` means the stage could not do its job (tool missing, crash, timeout, unparseable
    output, zero tests); it blocks exactly like ``failed``.
    """

    name: str
    status: Status
    duration_s: float = 0.0
    findings: tuple[Finding, ...] = ()
    reason: str | None = None
    cached: bool = False
    tool_version: str | None = None
    files_checked: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.status in ("failed", "error")

    def with_(self, **changes: Any) -> StageResult:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [f.to_json() for f in self.findings]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StageResult:
        names = cls.__dataclass_fields__
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs["findings"] = tuple(Finding.from_json(f) for f in data.get("findings", ()))
        return cls(**kwargs)


@dataclass(frozen=True)
class BaseInfo:
    """What the run judged the change against (hold the line), shown on every report.

    :ivar mode: ``change`` (findings present at the base do not block) or ``all`` (the whole
        tree must be clean: ``--all``, ``mode = "all"``, or no base to compare with).
    :ivar commit: the base commit (or the tree id the loop started from); None without a base.
    :ivar source: how the base was chosen, for people (``merge-base with origin/main``).
    :ivar existing: findings of this run that were already at the base (not blocking).
    :ivar cached: the base's findings came from the base cache (paid for by an earlier run).
    :ivar duration_s: seconds spent on the base (0 when cached).
    """

    mode: Literal["change", "all"]
    commit: str | None
    source: str
    existing: int = 0
    cached: bool = False
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration_s"] = round(self.duration_s, 3)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BaseInfo:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class RunResult:
    """All stages over one tree state."""

    verdict: Verdict
    tree: str
    duration_s: float
    stages: tuple[StageResult, ...]
    root: str = ""
    commit: str | None = None
    trigger: str = "person"
    started_at: str = ""
    tools: dict[str, str] = field(default_factory=dict)
    #: The project interpreter's environment: start-up files, variables its start-up set,
    #: and what changed since the last run with it (``changed``).
    environment: dict[str, Any] = field(default_factory=dict)
    #: stages the project's config turns off (``enabled = false``); every report says so.
    off_by_config: tuple[str, ...] = ()
    base: BaseInfo | None = None
    #: seconds the full check of fast-path stages took after the fast path was green (None:
    #: no confirmation ran); ``duration_s`` minus this is what the attempt waited for feedback.
    confirmation_s: float | None = None

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for s in self.stages for f in s.findings)

    @property
    def left_out(self) -> tuple[str, ...]:
        """Stages that should have run and were left out by ``GATEKEEPER_SKIP``: skipped by
        the environment, not by the command (``--skip``, ``--stage``) the person typed.

        A run with any cannot be called clean by the loop or the Stop hook.
        """
        return tuple(
            s.name
            for s in self.stages
            if s.status == "skipped"
            and s.extra.get("skip_kind") == "request"
            and s.extra.get("skip_source") == "env"
        )

    @property
    def exit_code(self) -> int:
        return {"passed": 0, "failed": 1, "error": 2}[self.verdict]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunResult:
        """A run from its version-1 JSON (:meth:`to_json`); unknown keys are ignored.

        :raises KeyError, TypeError, ValueError: ``data`` is not such a run.
        """
        base = data.get("base")
        return cls(
            verdict=data["verdict"],
            tree=str(data["tree"]),
            duration_s=float(data.get("duration_s", 0.0)),
            stages=tuple(StageResult.from_json(s) for s in data.get("stages", ())),
            root=str(data.get("root", "")),
            commit=data.get("commit"),
            trigger=str(data.get("trigger", "person")),
            started_at=str(data.get("started_at", "")),
            tools=dict(data.get("tools", {})),
            environment=dict(data.get("environment", {})),
            off_by_config=tuple(data.get("off_by_config", ())),
            base=BaseInfo.from_json(base) if isinstance(base, dict) else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "verdict": self.verdict,
            "tree": self.tree,
            "commit": self.commit,
            "duration_s": round(self.duration_s, 3),
            "trigger": self.trigger,
            "started_at": self.started_at,
            "tools": dict(sorted(self.tools.items())),
            "environment": self.environment,
            "off_by_config": list(self.off_by_config),
            "base": self.base.to_json() if self.base else None,
            "stages": [s.to_json() for s in self.stages],
        }


def verdict_of(
    stages: tuple[StageResult, ...] | list[StageResult], *, all_skipped_ok: bool = False
) -> Verdict:
    """Error beats failed beats passed.

    A run in which no stage passed is an error (nothing vouched for the tree) unless the
    caller knows every skip was deliberate, e.g. a docs-only push that no stage cares about.
    """
    statuses = {s.status for s in stages}
    if "error" in statuses:
        return "error"
    if "failed" in statuses:
        return "failed"
    if "passed" not in statuses and not (all_skipped_ok and stages):
        return "error"
    return "passed"
