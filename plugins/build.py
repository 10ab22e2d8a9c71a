"""The ``build`` stage: build an sdist and a wheel with ``python -m build`` in a temp copy.

The build runs on a copy of the repository's files, so a backend that writes ``*.egg-info``
or ``build/`` into the source tree cannot change the working tree the gate is checking.

Only a project that declares a build is built: a ``pyproject.toml`` with a ``[build-system]``
table, or a ``setup.py`` / ``setup.cfg``. A ``pyproject.toml`` without one describes a project
that is not a package (uv calls it non-packaged: an application, a set of scripts), and
building it would fail on something nobody asked for.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import gatekeeper
from gatekeeper import Finding, Option, Stage, StageContext, StageSkip
from gatekeeper.launch import module_argv

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")
OPTIONS = {
    "isolation": Option(
        True,
        help="build in an isolated environment (needs the network or a "
        "local index); false uses the project's installed backend",
    ),
}


def _copy_tree(ctx: StageContext, dest: Path) -> None:
    listing = ctx.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ok=(0,)
    )
    for rel in filter(None, listing.stdout.split("\0")):
        src = ctx.root / rel
        if src.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def error_excerpt(output: str, lines: int = 12) -> str:
    """The backend's own error: the lines from the last ``error`` mention, or the tail."""
    text = output.rstrip().splitlines()
    marks = [i for i, ln in enumerate(text) if "error" in ln.lower()]
    start = max(marks[0] if marks else len(text) - lines, len(text) - lines * 2, 0)
    return "\n".join(text[start : start + lines * 2][-lines * 2 :])


def declares_build(root: Path) -> bool:
    """A ``[build-system]`` table in ``pyproject.toml`` (an unreadable file counts: the build
    reports it), or a ``setup.py`` / ``setup.cfg``."""
    if (root / "setup.py").is_file() or (root / "setup.cfg").is_file():
        return True
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False
    except tomllib.TOMLDecodeError:
        return True
    return isinstance(data.get("build-system"), dict)


def zero_config(root: Path) -> tuple[bool, str]:
    """On by default; says when there is nothing to build (the stage then skips)."""
    if declares_build(root):
        return True, "on by default: the project declares a build"
    return True, f"on by default, but skips: {NO_BUILD}"


NO_BUILD = (
    "the project declares no build (no [build-system] in pyproject.toml, no setup.py or "
    "setup.cfg): it is not a package"
)


def run(ctx: StageContext) -> list[Finding]:
    """Build an sdist and a wheel from a copy of the tree; a failure is a finding."""
    marker = next((m for m in MARKERS if (ctx.root / m).is_file()), None)
    if marker is None:
        raise StageSkip("no pyproject.toml, setup.py or setup.cfg: nothing to build")
    if not declares_build(ctx.root):
        raise StageSkip(NO_BUILD)
    with tempfile.TemporaryDirectory(prefix="gatekeeper-build-") as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "dist"
        _copy_tree(ctx, src)
        # Started so that a `build.py` in the root cannot stand in for the build frontend.
        argv = module_argv(ctx.python, "build", ["--sdist", "--wheel", "--outdir", str(out)])
        if not ctx.options["isolation"]:
            argv.append("--no-isolation")
        done = ctx.run([*argv, *ctx.args, str(src)], ok=range(0, 256))
        built = sorted(p.name for p in out.glob("*")) if out.exists() else []
    if done.returncode == 0 and any(b.endswith(".whl") for b in built):
        return []
    excerpt = error_excerpt(done.output.replace(str(src), "."))
    return [
        ctx.finding(
            "build-failed",
            marker,
            0,
            0,
            f"the build backend failed (exit {done.returncode}):\n{excerpt}",
            hint="fix the packaging metadata or the build error shown; "
            "reproduce with `python -m build`",
        )
    ]


@gatekeeper.hookimpl
def gatekeeper_register_stages(register: Callable[[Stage], None]) -> None:
    """Contribute the ``build`` stage."""
    register(
        Stage(
            name="build",
            run=run,
            description="build an sdist and a wheel with python -m build",
            tool="build",
            needs_project_python=True,
            file_local=False,
            options=OPTIONS,
            config_files=(*MARKERS, "MANIFEST.in"),
            timeout=900,
            zero_config=zero_config,
        )
    )
