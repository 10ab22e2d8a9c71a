"""What every report says about the base of the change and the findings already there.

Shared by the text, agent, summary and GitHub reports (and through the agent report by the
loop's prompt, ``verify`` and the Stop hook), so a person and an agent read the same thing:
which base the change was judged against, how many findings it already had (not blocking,
not the agent's job), tests that were already failing (said loudly: they are still broken),
and functions over the complexity limit that the change did not make worse (debt).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from gatekeeper.models import Finding, RunResult

SHOWN = 10  # already-failing tests and debt items named one by one; the rest are counted


def plural(n: int, word: str) -> str:
    """``1 finding``, ``2 findings``."""
    return f"{n} {word}{'s' if n != 1 else ''}"


def is_new(f: Finding) -> bool:
    """Neither recorded in the baseline file nor present at the base of the change."""
    return not f.baselined and not f.existing


def new_findings(findings: Iterable[Finding]) -> list[Finding]:
    """The findings the change is answerable for."""
    return [f for f in findings if is_new(f)]


def existing_findings(run: RunResult) -> list[Finding]:
    """Findings present at the base already (and not in the baseline file)."""
    return [f for f in run.findings if f.existing and not f.baselined]


def failing_tests(run: RunResult) -> list[Finding]:
    """Tests that failed at the base and still fail."""
    return [f for f in existing_findings(run) if f.subject and f.rule.startswith("test-")]


def debt(run: RunResult) -> list[Finding]:
    """Measured findings (complexity) over the limit at the base already and not grown."""
    return [f for f in existing_findings(run) if f.measure is not None]


def base_line(run: RunResult) -> str:
    """``base: merge-base with origin/main (1a2b3c4d5e) — 3 findings already there …``."""
    base = run.base
    if base is None:
        return ""
    if base.mode == "all":
        return f"base: {base.source}; the whole tree must be clean"
    where = f"{base.source} ({base.commit[:10]})" if base.commit else base.source
    held = len(existing_findings(run))
    if not held:
        return f"base: {where} — only what this change makes worse blocks (--all: everything)"
    return (
        f"base: {where} — {plural(held, 'finding')} already there do not block (--all: everything)"
    )


def collapsed(run: RunResult) -> list[str]:
    """The existing findings, collapsed: counts per stage, then failing tests and debt."""
    held = existing_findings(run)
    if not held:
        return []
    per_stage = Counter(f.stage for f in held)
    counts = ", ".join(f"{stage} {n}" for stage, n in sorted(per_stage.items()))
    out = [f"{plural(len(held), 'existing finding')} (already at the base, not blocking): {counts}"]
    tests = failing_tests(run)
    if tests:
        out.append(
            f"WARNING: {plural(len(tests), 'test')} already failing at the base "
            f"{'still fails' if len(tests) == 1 else 'still fail'} (not blocking this change, "
            "but broken):"
        )
        out += [f"  - {f.subject}" for f in tests[:SHOWN]]
        out += [f"  - … and {len(tests) - SHOWN} more"] * (len(tests) > SHOWN)
    owed = debt(run)
    if owed:
        out.append(f"debt: {plural(len(owed), 'function')} over the limit at the base, not grown:")
        out += [f"  - {f.location} {f.subject} ({f.measure:g})" for f in owed[:SHOWN]]
        out += [f"  - … and {len(owed) - SHOWN} more"] * (len(owed) > SHOWN)
    return out


def agent_note(run: RunResult) -> list[str]:
    """For an agent: the existing findings are not its job; only the new ones are."""
    held = existing_findings(run)
    if not held or run.base is None:
        return []
    tests = failing_tests(run)
    job = "fix only the new findings listed here" if run.verdict != "passed" else "nothing to do"
    note = (
        f"{plural(len(held), 'finding')} already existed at the base of this change "
        f"({run.base.source}) and are not your job: {job}."
    )
    if tests:
        verb = "still fails" if len(tests) == 1 else "still fail"
        note += f" ({plural(len(tests), 'test')} already failing there {verb}.)"
    return [note]
