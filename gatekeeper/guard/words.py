"""What each broken invariant means, in one plain sentence for the agent that broke it.

Shared by the agent report (and so the fix loop's prompt and the Stop hook's reason): an
agent told only "tamper finding" retries the cheat in another spelling; told which invariant
broke and that the base's tests are the specification, it fixes the code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from gatekeeper.models import Finding

#: rule -> (invariant, what it means for the agent)
INVARIANTS: dict[str, tuple[str, str]] = {
    "tamper-base-test": (
        "2",
        "the base's tests are the specification: they run as the base wrote them (its test "
        "files, conftest and pytest config) against your code, and {n} of them do not pass. "
        "Fix the code; editing, skipping, renaming or weakening the tests changes nothing.",
    ),
    "tamper-hidden-finding": (
        "1",
        "your code must pass the base's rules: with the base's tool configuration and without "
        "the comments you added, {n} finding(s) come back. Fix the code, not the rules.",
    ),
    "tamper-base-run": (
        "1/2",
        "with the base's rules and tests, {n} stage(s) could not run at all; undo the change "
        "to the configuration or tests that breaks them.",
    ),
    "tamper-unchecked-code": (
        "5",
        "{n} file(s) you added code to are outside what the checks look at; keep the code "
        "where the stages check it.",
    ),
}


def broken(findings: Iterable[Finding]) -> list[str]:
    """One line per invariant the findings show broken, in invariant order (empty: none)."""
    counts = Counter(f.rule for f in findings if f.rule in INVARIANTS and f.blocking)
    lines = []
    for rule, (number, text) in sorted(INVARIANTS.items(), key=lambda kv: kv[1][0]):
        if counts[rule]:
            lines.append(f"- Invariant {number}: {text.format(n=counts[rule])}")
    return lines


__all__ = ["INVARIANTS", "broken"]
