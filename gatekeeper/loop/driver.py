"""The fail-fix-repeat loop: drive fixers until the tree is clean, stuck, or out of budget.

Each attempt: run the gate → stop if clean → autofix tier (safe tool fixes; the agent never
sees them) → run again → build the prompt with the loop's memory → run the fixer → next
attempt. The gate itself is read-only; only the autofix tier and the fixer change files.

The loop never ends ``clean`` while the tamper guard (the stage named ``tamper``, comparing
with the loop's starting tree) has a finding: a fixer that silences a check instead of fixing
the code ends the loop with ``tamper``. A fixer that stalls is replaced by the next one of
the ladder (``--agent`` given several times); when the last one stalls the loop ends
``stuck`` with a hand-off summary for a person. Every attempt and the loop's end are
recorded in the ledger.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gatekeeper import git, ledger
from gatekeeper.change import ChangeBase
from gatekeeper.change import resolve as resolve_base
from gatekeeper.config import Config
from gatekeeper.errors import GatekeeperError
from gatekeeper.gate import GateRequest, load_config, run_gate
from gatekeeper.loop import autofix, fixer, handoff, hookwatch, prompt, stall
from gatekeeper.models import Finding, RunResult
from gatekeeper.plugins import PluginSet, load_plugins
from gatekeeper.reports.json_report import dumps
from gatekeeper.state import state_dir

TAMPER_STAGE = "tamper"
STOP_REASONS = ("clean", "budget", "stuck", "tamper", "error")
EARLIER_ATTEMPTS = 5  # attempts of earlier loop sessions shown in a prompt


@dataclass(frozen=True)
class LoopRequest:
    """What the loop runs and its budget.

    :ivar agents: the fixer ladder, cheapest first (``--agent``, presets or command lines).
    :ivar max_attempts: fixer runs in all, across the ladder.
    :ivar timeout: seconds one fixer run may take before its process group is killed.
    :ivar max_minutes: wall-clock budget of the whole loop.
    :ivar deep: deep mode for every run of the loop (``--deep``).
    """

    agents: tuple[str, ...]
    root: Path | None = None
    max_attempts: int = 5
    timeout: float = 900.0
    max_minutes: float = 60.0
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    max_report_chars: int | None = None
    jobs: int | None = None
    deep: bool = False
    base: str | None = None  # judge the change since this commit (see gatekeeper.change)
    mode: str | None = None  # "all": the whole tree must be clean


@dataclass(frozen=True)
class LoopResult:
    """How the loop ended: the final run, why it stopped, and every attempt."""

    run: RunResult
    stop_reason: str
    attempts: tuple[dict[str, Any], ...]
    loop_id: str
    start_tree: str
    fixers: tuple[str, ...]
    duration_s: float
    handoff: str = ""

    @property
    def exit_code(self) -> int:
        """0 clean, 2 the gate could not run, 1 anything else that is not clean."""
        return {"clean": 0, "error": 2}.get(self.stop_reason, 1)

    def to_json(self) -> dict[str, Any]:
        """The final run's version-1 report plus the loop's fields."""
        return {
            **self.run.to_json(),
            "stop_reason": self.stop_reason,
            "loop_id": self.loop_id,
            "start_tree": self.start_tree,
            "fixers": list(self.fixers),
            "loop_duration_s": round(self.duration_s, 3),
            "attempts": list(self.attempts),
            "handoff": self.handoff or None,
            "tamper_guard": guarded(self.run),
        }


def tamper_findings(run: RunResult) -> list[Finding]:
    """The tamper guard's findings in ``run``."""
    return [f for s in run.stages if s.name == TAMPER_STAGE for f in s.findings]


def guarded(run: RunResult) -> bool:
    """Whether the tamper guard ran (passed or found something) in ``run``."""
    return any(s.name == TAMPER_STAGE and s.status in ("passed", "failed") for s in run.stages)


def timings(run: RunResult) -> dict[str, float | None]:
    """How long the re-check of an attempt took, split the way an agent waits for it.

    ``feedback_s``: from the start of the gate's run to its answer on the fast path (what a
    still-failing attempt costs); ``confirmation_s``: the full check of the fast-path stages
    that precedes a ``clean`` verdict (None when none ran); ``gate_duration_s``: both.
    """
    confirmation = run.confirmation_s
    return {
        "gate_duration_s": round(run.duration_s, 3),
        "feedback_s": round(run.duration_s - (confirmation or 0.0), 3),
        "confirmation_s": round(confirmation, 3) if confirmation is not None else None,
    }


def diffstat(root: Path, before: str, after: str) -> str:
    """``git diff --stat`` between two tree hashes ('' when they are equal)."""
    if before == after:
        return ""
    return git.git(root, "diff", "--stat=100", before, after).rstrip()


Notify = Callable[[str], None]


@dataclass
class _Driver:
    req: LoopRequest
    root: Path
    state: Path
    plugins: PluginSet
    config: Config
    only: tuple[str, ...]
    notify: Notify
    loop_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    start_tree: str = ""
    change: ChangeBase | None = None  # the base, resolved once when the loop starts
    start_head: str | None = None
    started: float = field(default_factory=time.monotonic)
    detector: stall.StallDetector = field(default_factory=stall.StallDetector)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    earlier: list[dict[str, Any]] = field(default_factory=list)
    rung: int = 0
    hooks: dict[str, str] = field(default_factory=dict)

    # -- the gate ----------------------------------------------------------------------------

    def gate(self, attempt: int, phase: str, still: frozenset[str] = frozenset()) -> RunResult:
        request = GateRequest(
            root=self.root,
            only=self.only,
            skip=self.req.skip,
            compare_to=self.start_tree,
            change=self.change,
            mode=self.req.mode,
            trigger="loop",
            state=self.state,
            jobs=self.req.jobs,
            record=False,
            deep=self.req.deep,
            fast_path=True,
            still_failing=still,
        )
        run = run_gate(request, self.plugins)
        try:
            ledger.record_run(self.state, run, loop_id=self.loop_id, attempt=attempt, phase=phase)
        except GatekeeperError as exc:
            self.notify(f"warning: run not recorded: {exc.message}")
        return run

    def terminal(self, run: RunResult, *, first: bool = False) -> str | None:
        if tamper_findings(run):
            return "tamper"
        if run.verdict == "passed" and run.left_out:
            # Clean means every stage ran: a stage left out vouches for nothing.
            self.notify(
                f"not clean: {', '.join(run.left_out)} left out by GATEKEEPER_SKIP; unset it, "
                "or leave the stage out on purpose (`--skip NAME` on the loop's command line, "
                "or `enabled = false` in the config)"
            )
            return "error"
        if run.verdict == "passed":
            return "clean"
        if first and run.verdict == "error":
            return "error"  # before any fixer acted: the gate itself cannot run here
        return None

    def remaining_s(self) -> float:
        return self.req.max_minutes * 60 - (time.monotonic() - self.started)

    # -- one attempt -------------------------------------------------------------------------

    def autofix(self, run: RunResult, attempt: int) -> tuple[RunResult, dict[str, Any] | None]:
        enabled = [str(name) for name in self.config.get("autofix")]
        if not enabled or not autofix.targets(run, enabled):
            return run, None
        done = autofix.apply(
            self.root,
            run,
            enabled,
            configured_python=self.config.get("python"),
            state=self.state,
        )
        info: dict[str, Any] = {**done.to_json(), "fixed": 0, "fixed_findings": []}
        if git.tree_hash(self.root) == run.tree:
            return run, info
        rerun = self.gate(attempt, "after-autofix", frozenset(stall.blocking(run)))
        self.detector.see(rerun.tree)
        progress = stall.compare(run, rerun)
        before = stall.blocking(run)
        info["fixed"] = len(progress.fixed)
        info["fixed_findings"] = [stall.describe(fp, before[fp]) for fp in sorted(progress.fixed)]
        self.notify(f"  autofix: fixed {len(progress.fixed)} ({'; '.join(done.ran)})")
        return rerun, info

    def run_fixer(
        self, run: RunResult, attempt: int, auto: dict[str, Any] | None
    ) -> tuple[RunResult, dict[str, Any]]:
        spec = self.req.agents[self.rung]
        workdir = self.state / "loops" / self.loop_id / f"attempt-{attempt}"
        cap = int(self.req.max_report_chars or self.config.get("max_report_chars"))
        current = set(stall.blocking(run))
        earlier = [r for r in self.earlier if current & set(r.get("persisting_fingerprints", ()))][
            -EARLIER_ATTEMPTS:
        ]
        text = prompt.build(
            run,
            [a for a in self.attempts if a.get("fixer")],
            earlier,
            attempt=attempt,
            max_attempts=self.req.max_attempts,
            cap=cap,
        )
        self.notify(
            f"attempt {attempt}/{self.req.max_attempts}: {len(current)} blocking; "
            f"running fixer `{spec}`"
        )
        done = fixer.run_fixer(
            spec,
            root=self.root,
            workdir=workdir,
            report=text,
            findings_json=dumps(run.to_json()),
            attempt=attempt,
            max_attempts=self.req.max_attempts,
            timeout=max(1.0, min(self.req.timeout, self.remaining_s())),
        )
        try:
            after = self.gate(attempt, "after-fixer", frozenset(current))
        except GatekeeperError as exc:
            # The fixer left a tree the gate cannot check (say, a broken config): the
            # attempt is still recorded before the loop ends with `error`.
            self.keep(
                {
                    "loop_id": self.loop_id,
                    "attempt": attempt,
                    "fixer": spec,
                    "fixer_exit": done.exit_code,
                    "fixer_timed_out": done.timed_out,
                    "tree_before": run.tree,
                    "tree_after": git.tree_hash(self.root),
                    "gate_error": exc.message,
                }
            )
            raise
        progress = stall.compare(run, after)
        stuck = self.detector.judge(run.tree, after.tree, progress, fixer_failed=done.failed)
        record: dict[str, Any] = {
            "loop_id": self.loop_id,
            "attempt": attempt,
            "fixer": spec,
            "rung": self.rung,
            "fixer_exit": done.exit_code,
            "fixer_timed_out": done.timed_out,
            "fixer_duration_s": round(done.duration_s, 3),
            **timings(after),
            "fixer_output_tail": done.output_tail[-500:],
            "prompt_chars": len(text),
            "tree_before": run.tree,
            "tree_after": after.tree,
            "verdict_after": after.verdict,
            "diffstat": diffstat(self.root, run.tree, after.tree),
            **stall.as_json(progress),
            "fingerprints_before": sorted(current),
            "autofix": auto,
            "stuck": stuck,
            "escalated_to": None,
            "workdir": str(workdir),
            "hooks_changed": hookwatch.changes(self.hooks, hookwatch.fingerprint(self.root)),
        }
        self.notify(self._attempt_line(record))
        if record["hooks_changed"]:
            self.notify(
                "  the fixer changed the gate's own hooks: "
                f"{', '.join(record['hooks_changed'])} — ending the loop (tamper)"
            )
        return after, record

    @staticmethod
    def _attempt_line(rec: dict[str, Any]) -> str:
        status = "timed out" if rec["fixer_timed_out"] else f"exited {rec['fixer_exit']}"
        line = (
            f"  attempt {rec['attempt']}: fixer {status} in {rec['fixer_duration_s']:.1f}s; "
            f"fixed {rec['fixed']}, new {rec['new']}, persisting {rec['persisting']}"
        )
        return line + (f"; stuck: {rec['stuck']}" if rec["stuck"] else "")

    def keep(self, record: dict[str, Any]) -> None:
        self.attempts.append(record)
        try:
            ledger.append(self.state, {"kind": "attempt", **record})
        except GatekeeperError as exc:
            self.notify(f"warning: attempt not recorded: {exc.message}")

    def escalate(self, record: dict[str, Any]) -> bool:
        """Move to the next fixer of the ladder; False when there is none."""
        if self.rung + 1 >= len(self.req.agents):
            return False
        self.rung += 1
        self.detector.next_fixer()
        record["escalated_to"] = self.req.agents[self.rung]
        self.notify(f"  escalating to fixer `{self.req.agents[self.rung]}`")
        return True

    # -- the whole loop ----------------------------------------------------------------------

    def drive(self) -> LoopResult:
        self.start_tree = git.tree_hash(self.root)
        self.start_head = git.head_sha(self.root)
        self.hooks = hookwatch.fingerprint(self.root)
        self.change = resolve_base(self.root, self.req.base)
        self.earlier = [
            r for r in ledger.read(self.state, kind="attempt") if r.get("loop_id") != self.loop_id
        ]
        run = self.gate(0, "start")
        self.detector.see(run.tree)
        if not guarded(run):
            self.notify("warning: the tamper guard did not run; a silenced check would pass unseen")
        stop = self.terminal(run, first=True)
        attempt = 0
        while stop is None and attempt < self.req.max_attempts:
            if self.remaining_s() < 1:
                break
            attempt += 1
            run, auto = self.autofix(run, attempt)
            stop = self.terminal(run)
            if stop is not None:
                self.keep(self._autofix_only(run, attempt, auto))
                break
            run, record = self.run_fixer(run, attempt, auto)
            stop = "tamper" if record["hooks_changed"] else self.terminal(run)
            if stop is None and record["stuck"] and not self.escalate(record):
                stop = "stuck"
            self.keep(record)
        if stop in (None, "stuck"):
            run, stop = self.last_autofix(run, attempt, stop)
        return self.finish(run, stop or "budget")

    def last_autofix(
        self, run: RunResult, attempt: int, stop: str | None
    ) -> tuple[RunResult, str | None]:
        """What the last fixer left may be only what the tools fix themselves."""
        fixed, auto = self.autofix(run, attempt)
        if fixed is run:
            return run, stop
        self.keep({**self._autofix_only(fixed, attempt, auto), "after_last_fixer": True})
        return fixed, self.terminal(fixed) or stop

    def _autofix_only(
        self, run: RunResult, attempt: int, auto: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "loop_id": self.loop_id,
            "attempt": attempt,
            "fixer": None,
            "tree_after": run.tree,
            "verdict_after": run.verdict,
            **timings(run),
            "autofix": auto,
        }

    def finish(self, run: RunResult, reason: str) -> LoopResult:
        summary = self.handoff_text(run, reason) if reason in ("stuck", "budget", "tamper") else ""
        if reason == "clean":
            self.seal(run)
        duration = time.monotonic() - self.started
        self.record_end(reason, run, duration)
        return LoopResult(
            run=run,
            stop_reason=reason,
            attempts=tuple(self.attempts),
            loop_id=self.loop_id,
            start_tree=self.start_tree,
            fixers=self.req.agents,
            duration_s=duration,
            handoff=summary,
        )

    def seal(self, run: RunResult) -> None:
        """Seal the clean tree for the push that usually follows (see ``push.verdicts``)."""
        from gatekeeper.push.seal import seal_clean_run

        if self.req.only or self.req.skip:
            return  # the push runs every stage: the loop's stored results would not cover it
        said = seal_clean_run(self.root, run, self.start_tree, self.start_head, self.req.deep)
        if said:
            self.notify(said)

    def record_end(self, reason: str, run: RunResult | None, duration: float) -> None:
        """The ``loop`` record; written on every ending, interrupts and errors included."""
        record = {
            "kind": "loop",
            "loop_id": self.loop_id,
            "stop_reason": reason,
            "attempts": sum(1 for a in self.attempts if a.get("fixer")),
            "fixers": list(self.req.agents),
            "verdict": run.verdict if run else None,
            "duration_s": round(duration, 3),
            "start_tree": self.start_tree,
            "end_tree": run.tree if run else None,
            "fingerprints": sorted(stall.blocking(run)) if run else [],
        }
        try:
            ledger.append(self.state, record)
        except GatekeeperError as exc:
            self.notify(f"warning: loop end not recorded: {exc.message}")

    def handoff_text(self, run: RunResult, reason: str) -> str:
        """What a person taking over needs: who tried what, what is left, what changed."""
        return handoff.summary(
            run,
            reason,
            attempts=self.attempts,
            start_tree=self.start_tree,
            stat=diffstat(self.root, self.start_tree, run.tree),
            loop_id=self.loop_id,
            workdir=self.state / "loops" / self.loop_id,
        )


def _with_tamper(
    only: tuple[str, ...], registered: set[str], skip: tuple[str, ...]
) -> tuple[str, ...]:
    # `--stage` narrows the run, but never past the tamper guard: the loop needs it most.
    if only and TAMPER_STAGE in registered and TAMPER_STAGE not in (*only, *skip):
        return (*only, TAMPER_STAGE)
    return only


def run_loop(
    request: LoopRequest, plugins: PluginSet | None = None, notify: Notify | None = None
) -> LoopResult:
    """Run the loop to its end; raises :class:`GatekeeperError` when the gate cannot run.

    Ctrl-C kills the running fixer's process group (see :mod:`gatekeeper.process`), records the
    loop's end as ``interrupted`` and re-raises ``KeyboardInterrupt``.
    """
    if not request.agents:
        raise GatekeeperError("no fixer given", "pass --agent CMD (repeatable, cheapest first)")
    root = git.repo_root(request.root)
    for spec in request.agents:
        fixer.validate(spec, root)
    plugins = plugins or load_plugins()
    config, registered = load_config(root, plugins)
    driver = _Driver(
        req=request,
        root=root,
        state=state_dir(root),
        plugins=plugins,
        config=config,
        only=_with_tamper(request.only, set(registered), request.skip),
        notify=notify or (lambda _line: None),
    )
    driver.detector.stall_after = int(config.get("stall_after"))
    try:
        return driver.drive()
    except KeyboardInterrupt:
        driver.record_end("interrupted", None, time.monotonic() - driver.started)
        raise
    except GatekeeperError:
        driver.record_end("error", None, time.monotonic() - driver.started)
        raise
