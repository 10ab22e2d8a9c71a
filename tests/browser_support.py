"""Open a page in a real headless Chromium and see what it drew.

The page is copied with a probe added: a first script that records console errors and
uncaught exceptions, and a last one that waits for the report's charts
(``window.gatekeeperReport``) and writes into the DOM, as JSON, which chart containers hold a
canvas with painted pixels or a non-empty SVG (BokehJS draws inside shadow roots, so those are
searched too). ``chromium --dump-dom`` then returns the DOM with the probe's findings.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)

FIRST = """<script>
window.__probe = {errors: []};
const __error = console.error;
console.error = function (...args) { window.__probe.errors.push(args.map(String).join(" "));
  __error.apply(console, args); };
window.addEventListener("error", (e) => window.__probe.errors.push("uncaught: " + e.message));
window.addEventListener("unhandledrejection",
  (e) => window.__probe.errors.push("unhandled rejection: " + e.reason));
</script>"""

LAST = """<pre id="__probe_result"></pre><script>
function __painted(el) {
  const found = [];
  const walk = (root) => root.querySelectorAll("*").forEach((n) => {
    if (n.tagName === "CANVAS" || n.tagName === "svg") found.push(n);
    if (n.shadowRoot) walk(n.shadowRoot);
  });
  walk(el);
  return found.some((n) => {
    if (n.tagName === "svg") return n.childElementCount > 0;
    if (!n.width || !n.height) return false;
    const d = n.getContext("2d").getImageData(0, 0, n.width, n.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
    return false;
  });
}
function __report() {
  const charts = {};
  document.querySelectorAll(".chart").forEach((el) => {
    charts[el.id] = el.querySelector(".empty") ? "empty" : (__painted(el) ? "drawn" : "blank");
  });
  document.getElementById("__probe_result").textContent =
    JSON.stringify({charts: charts, errors: window.__probe.errors});
}
(window.gatekeeperReport || Promise.resolve())
  .catch((e) => window.__probe.errors.push("charts failed: " + e))
  .then(() => setTimeout(__report, 500));
</script>"""


def chromium() -> str | None:
    """The Chromium binary on PATH (Debian's ``chromium`` package), None when absent."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=20000", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def probe(page: Path, work: Path) -> dict[str, Any]:
    """Open a probed copy of ``page``; what it drew and the errors it logged.

    Returns ``{"charts": {id: "drawn"|"blank"|"empty"}, "errors": [...], "console": [...]}``
    (``console``: every console message in Chromium's own log — it logs them all at INFO
    whatever their level, uncaught exceptions included — so a quiet page has none).
    """
    binary = chromium()
    assert binary, "chromium is not installed"
    html = page.read_text(encoding="utf-8")
    head = html.index("<head>") + len("<head>")
    tail = html.rindex("</body>")
    probed = work / f"probed-{page.name}"
    probed.write_text(html[:head] + FIRST + html[head:tail] + LAST + html[tail:], "utf-8")
    done = _run(
        binary,
        work / "profile-probe",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        probed.as_uri(),
    )
    match = re.search(r'<pre id="__probe_result">(.*?)</pre>', done.stdout, re.S)
    assert match and match.group(1), f"the probe did not report: {done.stderr[-2000:]}"
    result: dict[str, Any] = json.loads(match.group(1).replace("&amp;", "&"))
    result["console"] = [
        line
        for line in done.stderr.splitlines()
        # the one message the page causes on purpose: BokehJS saying it now logs warnings only
        if ":CONSOLE" in line and "setting log level to: 'warn'" not in line
    ]
    return result


def screenshot(page: Path, target: Path, work: Path, size: str = "1400,2400") -> None:
    """A PNG of ``page`` as Chromium renders it at ``size`` (width,height)."""
    binary = chromium()
    assert binary, "chromium is not installed"
    target.parent.mkdir(parents=True, exist_ok=True)
    done = _run(
        binary,
        work / "profile-shot",
        f"--window-size={size}",
        f"--screenshot={target}",
        page.as_uri(),
    )
    assert target.is_file(), done.stderr[-2000:]
