"""Run one stage and turn whatever happens into a :class:`StageResult`.

This is where "never fail open" lives: a stage that raises, times out or returns garbage is
an ``error``, never a pass (compare pytest's ``CallInfo.from_call``).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import replace

from gatekeeper.errors import StageError, StageSkip
from gatekeeper.fingerprint import fingerprint_all
from gatekeeper.models import Finding, StageResult, Status
from gatekeeper.process import clip, tail
from gatekeeper.stage import StageContext


def run_stage(ctx: StageContext) -> StageResult:
    """Call the stage's ``run`` under its deadline and classify the outcome."""
    name = ctx.stage.name
    start = time.monotonic()

    def done(status: Status, reason: str | None = None) -> StageResult:
        return StageResult(name, status, time.monotonic() - start, reason=reason)

    try:
        produced = list(ctx.stage.run(ctx))
    except StageSkip as exc:
        return done(status="skipped", reason=exc.reason)
    except StageError as exc:
        reason = exc.reason
        if exc.output.strip():
            reason = f"{reason}\n{tail(exc.output, lines=15, chars=1500)}"
        return done(status="error", reason=reason)
    except Exception as exc:  # a bug in the plugin must still block, and say whose bug it is
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return done(
            status="error",
            reason=f"stage {name} crashed: {type(exc).__name__}: {exc} "
            f"(at {where.filename}:{where.lineno}; this is a bug in the stage's plugin)",
        )
    bad = [f for f in produced if not isinstance(f, Finding)]
    if bad:
        return done(status="error", reason=f"stage {name} returned a non-Finding: {bad[0]!r}")
    findings = tuple(sorted(fingerprint_all(ctx.root, map(_bounded, produced)), key=_order))
    failing = any(f.blocking for f in findings)
    facts = dict(ctx.facts)
    checked = facts.pop("files_checked", None)
    if not isinstance(checked, int):
        checked = len(ctx.files) if ctx.stage.file_local else len(ctx.selected or ctx.files)
    return StageResult(
        name,
        "failed" if failing else "passed",
        time.monotonic() - start,
        findings=findings,
        files_checked=checked,
        extra=facts,
    )


#: A finding's message or hint is cut to this size: a tool that prints megabytes on one line
#: must not make every report (and the ledger, and the cache) megabytes long.
MAX_TEXT = 4000


def _bounded(f: Finding) -> Finding:
    if len(f.message) <= MAX_TEXT and len(f.hint) <= MAX_TEXT:
        return f
    return replace(f, message=clip(f.message, MAX_TEXT), hint=clip(f.hint, MAX_TEXT))


def _order(f: Finding) -> tuple[str, int, int, str, str]:
    return (f.path, f.line, f.column, f.rule, f.message)
