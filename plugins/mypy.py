"""The ``mypy`` stage: ``mypy -O json`` over the whole program; notes fold into their error.

mypy checks what the project's own configuration selects (``files``, ``packages``,
``modules``): given those, the stage passes no targets, exactly as plain ``mypy`` runs. Without
them it checks the discovered packages and top-level modules. On by default where the project
configures mypy, or configures no type checker at all (then with mypy's defaults, not strict).

mypy exits 0 (clean), 1 (type errors) or 2 (it could not check: a crash, a bad flag, or a
blocking error such as a syntax error or a duplicate module, which it still reports as JSON).
The errors of an exit 2 stopped mypy ("errors prevented further checking"), so they stop the
stage: they always block and are never baselined. An ``INTERNAL ERROR`` or a traceback is a
crash, an error of the stage, even when ordinary JSON records came first. An exit 2 without
findings and an exit 1 without any are errors of the stage too.

Besides its JSON records mypy prints a few plain-text lines of its own on stdout: notes about
its config (``setup.cfg: note: unused section(s): …`` under ``warn_unused_configs``),
warnings (``Warning: …`` with their follow-up line), and ``Success:`` / ``Found N errors``
summaries. Notes and warnings become note findings; summaries say nothing the records do not.
Any other line is not understood, and an error of the stage.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import gatekeeper
from gatekeeper import Finding, Layout, Stage, StageContext, StageError, StageInputs, StageSkip

from . import _selection

_HINTS = {
    "import-untyped": "install the library's stubs (types-…) or add it to mypy's "
    "ignore_missing_imports for that module only",
    "import-not-found": "install the package in the project's environment or fix the import",
    "no-untyped-def": "annotate every parameter and the return type",
    "return-value": "return a value of the declared type, or correct the annotation",
    "arg-type": "pass a value of the parameter's type, or convert it first",
    "attr-defined": "check the attribute name and the object's type",
    "union-attr": "narrow the Optional/Union (e.g. `if x is not None:`) before using it",
    "syntax": "fix the syntax error; mypy cannot check the program until then",
}


#: A plain-text note or warning mypy prints outside its JSON formatter, e.g.
#: ``setup.cfg: note: unused section(s): [mypy-tests.*]`` (``warn_unused_configs``).
_PLAIN_NOTE = re.compile(
    r"^(?P<file>[^:\s][^:]*?)(?::(?P<line>\d+))?: (?:note|warning): (?P<msg>.+)$"
)
#: ``Warning: …`` lines (deprecated flags, incremental mode off) and the line that follows one.
_WARNING = re.compile(r"^Warning: (?P<msg>.+)$")
_WARNING_TAIL = re.compile(r"^If this is intentional, delete '.*' to suppress this warning$")
#: Summaries (``--error-summary`` in a project's config or args): the records say it all.
_SUMMARY = re.compile(r"^(Success: no issues found|Found \d+ errors? in \d+ files?)\b")
#: What a crash of mypy (or of a plugin it loads) prints; never a finding.
_CRASH = re.compile(r"INTERNAL ERROR|^Traceback \(most recent call last\):", re.M)


def plain_record(raw: str) -> dict[str, Any] | None:
    """A note record for one of mypy's own plain-text lines; None for a summary line.

    :raises StageError: the line is not one mypy prints on its own.
    """
    if _SUMMARY.match(raw) or _WARNING_TAIL.match(raw):
        return None
    note = _PLAIN_NOTE.match(raw)
    if note:
        return {
            "file": note["file"],
            "line": int(note["line"] or 0),
            "message": note["msg"],
            "code": "config" if note["line"] is None else None,
            "severity": "note",
            "plain": True,
        }
    warning = _WARNING.match(raw)
    if warning:
        return {
            "file": "",
            "line": 0,
            "message": warning["msg"],
            "code": "warning",
            "severity": "note",
            "plain": True,
        }
    raise StageError(f"unexpected mypy output (not JSON): {raw[:200]}")


def records(output: str) -> list[dict[str, Any]]:
    """mypy's JSON records and its plain-text notes; anything else is a StageError."""
    found = []
    for raw in filter(None, (line.strip() for line in output.splitlines())):
        if not raw.startswith("{"):
            try:
                plain = plain_record(raw)
            except StageError as exc:
                raise StageError(exc.reason, output) from None
            if plain is not None:
                found.append(plain)
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError:
            raise StageError(f"unexpected mypy output (not JSON): {raw[:200]}", output) from None
        if not isinstance(record, dict) or "file" not in record:
            raise StageError(f"unexpected mypy JSON record: {raw[:200]}", output)
        found.append(record)
    return found


def belongs(note: dict[str, Any], error: dict[str, Any]) -> bool:
    """A note explains the error before it when it is on the error's line or points elsewhere
    (``defined here`` in another file); a note on another line of the file stands alone."""
    if error.get("severity") != "error" or note.get("severity") != "note" or note.get("plain"):
        return False  # mypy's own plain-text notes are about the run, not about an error
    if note.get("file") != error.get("file"):
        return True
    return bool(note.get("line") == error.get("line"))


def group(recs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[str]]]:
    """Each error or standalone note with the notes that follow and belong to it."""
    groups: list[tuple[dict[str, Any], list[str]]] = []
    for rec in recs:
        if groups and belongs(rec, groups[-1][0]):
            groups[-1][1].append(str(rec.get("message", "")))
        else:
            groups.append((rec, []))
    return groups


def to_finding(
    ctx: StageContext, head: dict[str, Any], notes: list[str], *, stopped: bool = False
) -> Finding:
    """One finding: the error (or note) with its notes folded into the hint.

    ``stopped``: mypy exited 2, so its errors are the blocking ones that stopped it.
    """
    code = head.get("code") or "misc"
    hint = "; ".join(n for n in (head.get("hint") or "", *notes) if n) or _HINTS.get(code, "")
    error = head.get("severity") == "error"
    return ctx.finding(
        code,
        head["file"],
        head.get("line") or 0,
        (head.get("column") or 0) + 1,
        str(head.get("message", "")),
        severity="error" if error else "note",
        hint=hint,
        stops_tool=stopped and error,
    )


def parse(ctx: StageContext, output: str, *, stopped: bool = False) -> list[Finding]:
    """Turn mypy's JSON lines into findings, folding each note into the error before it."""
    return [to_finding(ctx, head, notes, stopped=stopped) for head, notes in group(records(output))]


def _command(ctx: StageContext) -> list[str]:
    """mypy's arguments: JSON output, the stage's cache, the user's flags and the targets."""
    # The project's own `files`/`packages`/`modules` are read by mypy itself: no targets.
    own = _selection.mypy_targets(ctx.root)
    targets = ctx.paths or ([] if own is not None else list(ctx.layout.sources) or ["."])
    args = ["-O", "json", "--no-pretty", "--no-error-summary", "--show-column-numbers"]
    args += ["--cache-dir", str(ctx.cache_dir / "mypy-cache")]
    if ctx.python != ctx.project_python:
        # mypy runs from the gate's own environment: point it at the project's packages.
        args += ["--python-executable", str(ctx.project_python)]
    tail = ["--", *targets] if targets else []
    return [*args, *ctx.args, *tail]


def _check_exit(returncode: int, findings: list[Finding], output: str) -> None:
    """Raise when mypy's exit code is not backed by the errors it reported."""
    errors = [f for f in findings if f.severity == "error"]
    if returncode == 2 and not errors:
        # 2 is mypy failing to run (bad flag, crash); blocking errors come back as findings.
        raise StageError("mypy could not check the program (exit 2)", output)
    if returncode == 1 and not errors:
        raise StageError("mypy exited with code 1 but reported no errors", output)


def run(ctx: StageContext) -> list[Finding]:
    """Type check the configured paths, or the discovered packages and modules."""
    if ctx.whole_tree and not ctx.files and not ctx.paths:
        raise StageSkip("no Python files to type check")
    done = ctx.run_tool(_command(ctx), ok=(0, 1, 2))
    crash = _CRASH.search(done.output)
    if crash:
        # A crash (of mypy or a plugin) after some records: what it did not check is unknown.
        raise StageError(f"mypy crashed ({crash.group(0).strip()})", done.output)
    findings = parse(ctx, done.stdout, stopped=done.returncode == 2)
    _check_exit(done.returncode, findings, done.output)
    return findings


def inputs(root: Path, listed: Sequence[str]) -> StageInputs:
    """Files that change mypy's verdict wherever they sit, even outside the files it checks.

    ``py.typed`` markers (a package without one is not type checked when imported from an
    installed copy), the stub and source directories of ``mypy_path``, and the plugins its
    config loads (``plugins = tools/check.py`` or ``pkg.mypy_plugin``).
    """
    config = _selection.mypy_config(root)
    settings = config.settings if config else {}
    found = {f for f in listed if PurePosixPath(f).name == "py.typed"}
    for entry in _listed(settings.get("mypy_path")):
        where = posixpath.normpath(entry.replace("$MYPY_CONFIG_FILE_DIR", ".").strip())
        found.update(f for f in listed if where == "." or f.startswith(f"{where}/"))
    for plugin in _listed(settings.get("plugins")):
        name = plugin.partition(":")[0].strip()
        if name.endswith(".py") or "/" in name:
            candidates = [name.removeprefix("./")]
        else:
            path = name.replace(".", "/")
            candidates = [
                f"{base}{path}{tail}" for base in ("", "src/") for tail in (".py", "/__init__.py")
            ]
        found.update(c for c in candidates if c in listed)
    return StageInputs(config=tuple(sorted(found)))


def _listed(value: Any) -> list[str]:
    """A mypy setting that is a list, or (in ini files) a comma- or colon-separated string."""
    if isinstance(value, str):
        return [
            v.strip() for v in value.replace(":", ",").replace("\n", ",").split(",") if v.strip()
        ]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return []


def selection(root: Path, layout: Layout) -> Callable[[str], bool] | None:
    """The files plain ``mypy`` checks in this project (None: every Python file)."""
    return _selection.mypy_selection(root, layout)


def zero_config(root: Path) -> tuple[bool, str]:
    """On where the project configures mypy, or no type checker at all."""
    return _selection.checker_decision(root, "mypy")


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``mypy`` stage."""
    register(
        Stage(
            name="mypy",
            run=run,
            description="type check the whole program with mypy",
            tool="mypy",
            file_local=False,
            config_files=("pyproject.toml", "mypy.ini", ".mypy.ini", "setup.cfg"),
            inputs=inputs,
            zero_config=zero_config,
            selection=selection,
        )
    )
