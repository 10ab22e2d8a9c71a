"""The report's figures as a compact terminal summary (the page's figures, in words)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

WIDTH = 100
TOP = 5


def pct(value: Any) -> str:
    """A rate as a whole percentage, ``-`` when nothing was counted."""
    return "-" if value is None else f"{value * 100:.0f}%"


def secs(value: Any) -> str:
    """Seconds as ``1.2s`` (``-`` when unknown)."""
    return "-" if value is None else f"{value:.1f}s"


def _yield_line(label: str, row: Mapping[str, Any]) -> str:
    return (
        f"{label} {row['units']}: first pass {pct(row['first_pass_yield'])} ({row['first_pass']}), "
        f"final {pct(row['final_yield'])} ({row['final']})"
    )


def _joined(parts: Sequence[str], head: str) -> list[str]:
    """``head`` then the parts, wrapped at WIDTH with a hanging indent."""
    lines, line = [], head
    for part in parts:
        piece = part if line == head else f" · {part}"
        if len(line) + len(piece) > WIDTH and line != head:
            lines.append(line)
            line, piece = " " * len(head) + part, ""
        line += piece
    lines.append(line)
    return lines


def _minute(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") if stamp else "-"


def _header(fig: Mapping[str, Any]) -> list[str]:
    window, records = fig["window"], fig["records"]
    total = sum(v for k, v in records.items() if k != "unusable")
    span = f"{_minute(window['first'])} … {_minute(window['last'])} UTC"
    ledgers = len(fig["ledgers"])
    return [
        f"gatekeeper report: {total} records from {ledgers} ledger{'s' if ledgers != 1 else ''}, "
        f"{span}"
    ]


def _yield_section(fig: Mapping[str, Any]) -> list[str]:
    y = fig["yield"]
    parts = [
        _yield_line(name, y[key])
        for name, key in (("loops", "loops"), ("sessions", "sessions"))
        if y[key]["units"]
    ]
    lines = [f"{'yield' if n == 0 else '':<11}{part}" for n, part in enumerate(parts)]
    if not lines:
        lines = ["yield      no finished loops or agent sessions in this window"]
    for row in y["by_agent"][:TOP]:
        lines.append(
            f"  {row['kind']:<8} {row['agent'][:40]:<40} {row['units']:>4}  first pass "
            f"{pct(row['first_pass_yield']):>4}  final {pct(row['final_yield']):>4}"
        )
    return lines


def _attempts_section(fig: Mapping[str, Any]) -> list[str]:
    lines = []
    for row in fig["attempts"]["to_clean"][:TOP]:
        if not row["clean"]:
            continue
        hist = " ".join(f"{k}×{v}" for k, v in row["histogram"].items())
        lines.append(
            f"  {row['kind']:<8} {row['agent'][:40]:<40} median {row['median']}, max "
            f"{row['max']}  ({hist})"
        )
    out = ["attempts to clean" + ("" if lines else ": none ended clean"), *lines]
    for row in fig["attempts"]["stop_reasons"][:TOP]:
        seen = [f"{k} {v}" for k, v in row.items() if k not in ("agent", "units") and v]
        out.append(f"  loops    {row['agent'][:40]:<40} {', '.join(seen)}")
    return out


def _fail_section(fig: Mapping[str, Any]) -> list[str]:
    f = fig["failures"]
    stages = [
        f"{r['stage']} {r['failed']}" + (f" (+{r['error']} error)" if r["error"] else "")
        for r in f["stages"][:TOP]
    ]
    rules = []
    for r in f["rules"][:TOP]:
        split = f"new {r['new']}, existing {r['existing']}" if f["existing_recorded"] else ""
        rules.append(f"{r['stage']}:{r['rule']} {r['findings']}" + (f" ({split})" if split else ""))
    tamper = [f"{r['rule']} {r['findings']}" for r in f["tamper"]]
    lines = _joined(stages or ["nothing failed"], "fails most (runs) ")
    lines += _joined(rules or ["none"], "rules (findings)  ")
    lines += _joined(tamper or ["none"], "tamper            ")
    return lines


def _time_section(fig: Mapping[str, Any]) -> list[str]:
    t = fig["time"]
    stages = [f"{r['stage']} {secs(r['median_s'])}/{secs(r['p90_s'])}" for r in t["stages"]]
    fixers = [
        f"{r['fixer'][:30]} {secs(r['median_s'])}/{secs(r['p90_s'])}"
        + (f" (+ gate {secs(r['gate_median_s'])})" if r["gate_median_s"] is not None else "")
        for r in t["fixers"]
    ]
    runs = [
        f"{r['trigger']} {r['runs']} ({pct(r['pass_rate'])} passed, {secs(r['median_s'])})"
        for r in fig["runs"]
    ]
    lines = _joined(stages or ["no timings recorded"], "stage time, median/p90  ")
    lines += _joined(fixers or ["no fixer ran"], "fixer time per attempt  ")
    lines.append(
        f"cache hit rate          {pct(t['cache']['hit_rate'])} of "
        f"{t['cache']['results']} stage results"
    )
    lines += _joined(runs or ["none"], "runs by trigger         ")
    return lines


def _latest_section(fig: Mapping[str, Any]) -> list[str]:
    lines = ["latest"]
    for u in fig["latest"][: TOP * 2]:
        when = _minute(u["ended"] or u["started"])
        lines.append(
            f"  {when}  {u['kind']:<7} {u['id'][:12]:<12} {u['agent'][:30]:<30} "
            f"{u['outcome']:<11} {u['attempts']} attempt{'s' if u['attempts'] != 1 else ''}"
        )
    return lines if len(lines) > 1 else ["latest     no loops or sessions"]


def render(fig: Mapping[str, Any]) -> str:
    """The summary, one figure per line (``render(compute(...))``)."""
    sections = [
        _header(fig),
        _yield_section(fig),
        _attempts_section(fig),
        _fail_section(fig),
        _time_section(fig),
        _latest_section(fig),
    ]
    return "\n".join(line.rstrip() for section in sections for line in section) + "\n"
