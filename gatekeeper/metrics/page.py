"""The report as one self-contained HTML page: tables in HTML, charts drawn by BokehJS.

Everything the page needs is inline — BokehJS and its plotting API (read from the installed
``bokeh`` wheel, the ``report`` extra), the page's own script and style, the figures as JSON —
so it opens from a file, a CI artifact or an e-mail with no network. Python never imports
bokeh (its import alone costs about a second); BokehJS builds the charts in the browser from
the figures, which keeps a page of 10,000 ledger records well under two seconds to write.

Why BokehJS: of the well-kept libraries whose wheel ships its JavaScript, it is the smallest
that draws interactive charts (~1.4 MB with its plotting API; plotly.js is ~4.8 MB, past the
page's 2 MB budget on its own; Vega-Lite's bundle needs vl-convert, 84 MB installed and 2.5 s
to bundle per process).
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from gatekeeper.errors import GatekeeperError
from gatekeeper.metrics.summary import pct, secs

INSTALL = "pip install 'gatekeeper-gate[report]'"
BUNDLES = ("bokeh.min.js", "bokeh-api.min.js")


def _bokeh_js() -> list[Path]:
    spec = importlib.util.find_spec("bokeh")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise GatekeeperError(
            "report --html needs the charting library BokehJS (the `bokeh` package), "
            "which is not installed",
            INSTALL,
        )
    static = Path(next(iter(spec.submodule_search_locations))) / "server" / "static" / "js"
    files = [static / name for name in BUNDLES]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise GatekeeperError(
            f"the installed bokeh package lacks {', '.join(missing)}", f"reinstall it: {INSTALL}"
        )
    return files


def check_library() -> None:
    """Raise :class:`GatekeeperError` (with the install command) unless BokehJS is there."""
    _bokeh_js()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("bokeh")
    except PackageNotFoundError:
        return "?"


def _asset(name: str) -> str:
    return resources.files("gatekeeper.metrics").joinpath("assets", name).read_text("utf-8")


def _script(text: str) -> str:
    # "</script" inside inline code would end the element early (and "<!--" confuses parsers).
    return text.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def _data(fig: Mapping[str, Any]) -> str:
    # As JSON in a script element: escape what could end the element or start markup, so a
    # fixer named "</script><script>…" stays text.
    raw = json.dumps(fig, separators=(",", ":"))
    return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def e(value: Any) -> str:
    """HTML-escaped text of ``value`` (``-`` for None)."""
    return "-" if value is None else html.escape(str(value), quote=True)


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    if not rows:
        return '<p class="none">nothing recorded in this window</p>'
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _tiles(fig: Mapping[str, Any]) -> str:
    y, t = fig["yield"], fig["time"]
    tiles = [
        ("first-pass yield", pct(y["overall"]["first_pass_yield"]), "first-pass-yield"),
        ("final yield", pct(y["overall"]["final_yield"]), "final-yield"),
        ("loops", e(y["loops"]["units"]), "loops"),
        ("agent sessions", e(y["sessions"]["units"]), "sessions"),
        ("median attempts to clean", e(fig["attempts"]["overall"]["median"]), "attempts"),
        ("cache hit rate", pct(t["cache"]["hit_rate"]), "cache-hit-rate"),
    ]
    return "".join(
        f'<div class="tile" data-figure="{key}"><div class="value">{value}</div>'
        f'<div class="label">{label}</div></div>'
        for label, value, key in tiles
    )


def _yield_table(fig: Mapping[str, Any]) -> str:
    rows = [
        [
            e(r["kind"]),
            e(r["agent"]),
            e(r["units"]),
            f"{pct(r['first_pass_yield'])} ({r['first_pass']})",
            f"{pct(r['final_yield'])} ({r['final']})",
        ]
        for r in fig["yield"]["by_agent"]
    ]
    return _table(["kind", "agent", "units", "first pass", "final"], rows, "yield")


def _runs_table(fig: Mapping[str, Any]) -> str:
    rows = [
        [
            e(r["trigger"]),
            e(r["runs"]),
            e(r["passed"]),
            e(r["failed"]),
            e(r["error"]),
            pct(r["pass_rate"]),
            secs(r["median_s"]),
            secs(r["p90_s"]),
        ]
        for r in fig["runs"]
    ]
    head = ["trigger", "runs", "passed", "failed", "error", "pass rate", "median", "p90"]
    return _table(head, rows, "runs")


def anchor(unit: Mapping[str, Any]) -> str:
    """The id of a unit's attempts on the page (``loop-<id>`` / ``session-<id>``)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in str(unit["id"]))
    return f"{unit['kind']}-{safe}"


def _latest_table(fig: Mapping[str, Any]) -> str:
    rows = [
        [
            e((u["ended"] or u["started"] or "?").replace("T", " ")[:19]),
            e(u["kind"]),
            f'<a href="#{anchor(u)}">{e(u["id"])}</a>',
            e(u["agent"]),
            f'<span class="outcome {e(u["outcome"])}">{e(u["outcome"])}</span>',
            e(u["attempts"]),
            secs(u["duration_s"]),
            e(u["source"]) if len(fig["ledgers"]) > 1 else "",
        ]
        for u in fig["latest"]
    ]
    head = ["when (UTC)", "kind", "id", "agent", "outcome", "attempts", "time", ""]
    return _table(head, rows, "latest")


def _steps(unit: Mapping[str, Any]) -> str:
    rows = []
    for s in unit["steps"]:
        counts = (
            f"fixed {e(s['fixed'])}, new {e(s['new'])}, persisting {e(s['persisting'])}"
            if unit["kind"] == "loop"
            else f"{e(s['open'])} open"
        )
        rows.append(
            [
                e(s["n"]),
                e(s["who"]),
                e(s["result"]),
                e(s["after"]),
                counts,
                secs(s["duration_s"]),
                e(s["note"] or ""),
            ]
        )
    head = ["#", "who", "result", "verdict after", "findings", "time", "note"]
    return _table(head, rows, "steps")


def _details(fig: Mapping[str, Any]) -> str:
    parts = []
    for u in fig["latest"]:
        commands = "".join(f"<code>{e(c)}</code> " for c in u["commands"])
        parts.append(
            f'<details id="{anchor(u)}"><summary>{e(u["kind"])} <b>{e(u["id"])}</b> — '
            f"{e(u['agent'])} — {e(u['outcome'])} after {e(u['attempts'])} "
            f"attempt{'s' if u['attempts'] != 1 else ''}</summary>"
            f'<p class="commands">{commands}</p>{_steps(u)}</details>'
        )
    return "".join(parts)


CHARTS = (
    (
        "yield-time",
        "Yield over time",
        "Share of the loops and sessions ending each day (UTC) that were clean at the first "
        "claim, and in the end.",
    ),
    (
        "yield-agent",
        "Yield per agent",
        "First-pass and final yield of each fixer ladder (loops) and agent (sessions).",
    ),
    (
        "attempts",
        "Attempts to clean",
        "How many claims the units that ended clean needed, per agent.",
    ),
    ("stop-reasons", "How loops ended", "Loops by stop reason, per fixer ladder."),
    (
        "stages",
        "Stages that fail most",
        "Runs in which each stage failed, or could not run (error).",
    ),
    (
        "rules",
        "Rules that fail most",
        "Distinct findings per rule: new in the change, or existing at its base.",
    ),
    ("tamper", "Tamper findings by kind", "Suppression creep caught by the tamper guard."),
    (
        "stage-time",
        "Gate time per stage",
        "Median and p90 seconds of each stage when it ran (replays from the cache left out).",
    ),
    (
        "fixer-time",
        "Fixer time per attempt",
        "Median and p90 seconds of each fixer run, and of the gate's re-check after it.",
    ),
    (
        "cache",
        "Cache hit rate per stage",
        "Share of each stage's results replayed from the result cache.",
    ),
)


def _charts(ids: Sequence[tuple[str, str, str]]) -> str:
    return "".join(
        f'<figure class="chart-box"><figcaption><b>{title}</b> <span>{caption}</span>'
        f'</figcaption><div class="chart" id="chart-{key}"></div></figure>'
        for key, title, caption in ids
    )


def render(fig: Mapping[str, Any]) -> str:
    """The whole page as one string (see :func:`write`)."""
    bundles = "".join(f"<script>{_script(p.read_text('utf-8'))}</script>\n" for p in _bokeh_js())
    window = fig["window"]
    span = f"{e(window['first'])} … {e(window['last'])}"
    ledgers = ", ".join(e(s["ledger"]) for s in fig["ledgers"])
    return _asset("page.html").format(
        style=_asset("page.css"),
        bundles=bundles,
        data=_data(fig),
        script=_script(_asset("page.js")),
        span=span,
        ledgers=ledgers,
        records=e(sum(v for k, v in fig["records"].items() if k != "unusable")),
        generated=e(fig["generated_at"]),
        bokeh=e(_version()),
        tiles=_tiles(fig),
        yield_charts=_charts(CHARTS[:4]),
        fail_charts=_charts(CHARTS[4:7]),
        time_charts=_charts(CHARTS[7:]),
        yield_table=_yield_table(fig),
        runs_table=_runs_table(fig),
        latest_table=_latest_table(fig),
        details=_details(fig),
    )


def write(path: Path, fig: Mapping[str, Any]) -> int:
    """Write the page to ``path`` whole (a temporary file renamed into place); its size in
    bytes. Raises :class:`GatekeeperError` when it cannot be written."""
    data = render(fig).encode("utf-8")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise GatekeeperError(
            f"cannot write the report to {path}: {exc.strerror or exc}",
            "check that the directory exists and is writable",
        ) from None
    return len(data)
