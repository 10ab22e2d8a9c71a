"""Coverage of the changed files, measured in the gate's own pytest run.

The ``pytest`` stage asks :func:`prepare` whether the change touches project code; if it does,
the test run loads the ``gatekeeper_pytest_coverage`` plugin, which compiles only those files
with line probes in front of their changed statements as they are imported
(``gatekeeper_probe``: coverage.py's ``sys.settrace`` tracer would slow every line of the suite
before Python 3.12, even for one measured file; probes cost nothing outside the changed
statements), and the stage hands the data to the
``test-quality`` stage of the same gate run with :func:`publish`. The hand-over is in memory,
keyed by repository and base, and checked against the files' content, so a measurement can
never be read for another tree. When there is none (the pytest result came from the cache,
or ``--stage test-quality`` ran alone) the test-quality stage runs the tests under coverage
itself with :func:`measure`: the suite still runs once per gate run.

Reading the data (:func:`read`) runs ``gatekeeper_coverage_lines`` in the project's interpreter:
coverage.py, which must be importable there (not necessarily in the gate's), says which lines
are executable.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gatekeeper import StageContext, StageError

from . import _change, _private_plugin

REPORT_DIR = Path(__file__).parent / "_pytest_report"
PLUGIN = "gatekeeper_pytest_coverage"
READER = REPORT_DIR / "gatekeeper_coverage_lines.py"
SITE = REPORT_DIR / "_site"
INSTALL = "coverage>=7.10"


@dataclass(frozen=True)
class Measurement:
    """Where one test run left its coverage data, and of which files.

    :ivar directory: the data directory (removed with ``keeper``).
    :ivar digests: repo-relative path -> sha256 of the content that was measured.
    :ivar lines: repo-relative path -> the lines measured (the change's; only statements
        holding one of them have probes).
    :ivar contexts: each test's lines were recorded under its node id.
    :ivar plugin: the module name of this run's copy of the measuring plugin (see
        :mod:`._private_plugin`).
    """

    directory: Path
    digests: Mapping[str, str]
    lines: Mapping[str, frozenset[int]]
    contexts: bool
    keeper: tempfile.TemporaryDirectory[str] = field(repr=False, compare=False)
    plugin: str = PLUGIN

    def env(self) -> dict[str, str]:
        """Environment of the test run: the coverage config, the context switch, and the
        start-up hook that measures the Python processes the tests start, then the plugins'
        directory (``PYTHONPATH``)."""
        return {
            "GATEKEEPER_COVERAGE_DIR": str(self.directory),
            "GATEKEEPER_COVERAGE_CONTEXTS": "1" if self.contexts else "0",
            "PYTHONPATH": os.pathsep.join((str(SITE), str(REPORT_DIR), str(self.plugin_dir))),
        }

    @property
    def plugin_dir(self) -> Path:
        """Where this measurement's copy of the measuring plugin lies."""
        return self.directory / "plugin"

    def plugin_args(self) -> list[str]:
        """pytest arguments that load the measuring plugin (this run's copy) first."""
        return ["-p", self.plugin]


_LOCK = threading.Lock()
_MEASURED: dict[tuple[str, str], Measurement] = {}


def digest(path: Path) -> str:
    """sha256 of a file's bytes ("" when it cannot be read)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def start(ctx: StageContext, files: Mapping[str, frozenset[int]], contexts: bool) -> Measurement:
    """A fresh data directory for a test run that records ``files``' lines (path -> lines)."""
    keeper = tempfile.TemporaryDirectory(prefix="gatekeeper-coverage-")
    directory = Path(keeper.name)
    wanted = {os.path.realpath(ctx.root / f): sorted(lines) for f, lines in files.items()}
    (directory / "files.json").write_text(json.dumps(wanted), encoding="utf-8")
    digests = {f: digest(ctx.root / f) for f in files}
    plugin = _private_plugin.install(REPORT_DIR / f"{PLUGIN}.py", directory / "plugin")
    return Measurement(directory, digests, dict(files), contexts, keeper, plugin)


def prepare(ctx: StageContext) -> Measurement | None:
    """A measurement for the pytest stage's run, or None when the change has no project code."""
    if not ctx.options.get("coverage", True) or not ctx.base:
        return None
    try:
        changed = _change.changed_lines(ctx, ctx.base)
    except StageError:
        return None  # not a base git knows: the test-quality stage reports that itself
    files = _change.package_files(ctx, changed)
    return start(ctx, files, ctx.deep) if files else None


def publish(ctx: StageContext, measurement: Measurement) -> None:
    """Hand the measurement to the test-quality stage of this gate run."""
    with _LOCK:
        _MEASURED[(str(ctx.root), str(ctx.base))] = measurement


def claim(
    ctx: StageContext, files: Mapping[str, frozenset[int]], contexts: bool
) -> Measurement | None:
    """The measurement of this run's tests if it covers ``files`` (path -> lines) as they are
    now: the same content, and every line asked for measured."""
    with _LOCK:
        found = _MEASURED.pop((str(ctx.root), str(ctx.base)), None)
    if found is None or (contexts and not found.contexts):
        return None
    for path, lines in files.items():
        if found.digests.get(path) != digest(ctx.root / path):
            return None
        if not lines <= found.lines.get(path, frozenset()):
            return None
    return found


def measure(ctx: StageContext, files: Mapping[str, frozenset[int]], contexts: bool) -> Measurement:
    """Run the project's tests under coverage here (no measurement was handed over).

    :raises StageError: pytest broke (exit 2-5 other than failing tests), or timed out.
    """
    found = start(ctx, files, contexts)
    argv = [str(ctx.project_python), "-m", "pytest", *found.plugin_args()]
    argv += ["-p", "no:cacheprovider", "-q", "--color=no"]
    env = found.env()
    paths = (env["PYTHONPATH"], os.environ.get("PYTHONPATH"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    ctx.run(argv, ok=(0, 1), env=env)
    return found


def read(ctx: StageContext, measurement: Measurement, files: Sequence[str]) -> dict[str, Any]:
    """Per file: coverage.py's ``statements`` and ``executed`` lines (and ``contexts``).

    :raises StageError: coverage.py is missing in the project's interpreter, or no test
        process was measured.
    """
    absolute = {os.path.realpath(ctx.root / f): f for f in files}
    flag = "1" if measurement.contexts else "0"
    argv = [str(ctx.project_python), str(READER), str(measurement.directory), flag, *absolute]
    done = ctx.run(argv, ok=(0, 1))
    if done.returncode == 1 and "No module named 'coverage'" in done.output:
        raise StageError(
            f"coverage.py is not importable by {ctx.project_python}; install it with "
            f"`{ctx.project_python} -m pip install '{INSTALL}'`"
        )
    if done.returncode != 0:
        raise StageError("cannot read the coverage data", done.output)
    try:
        data = json.loads(done.stdout)
    except ValueError:
        raise StageError("cannot read the coverage data", done.output) from None
    if "error" in data:
        raise StageError(str(data["error"]))
    return {absolute[p]: v for p, v in data["files"].items()}
