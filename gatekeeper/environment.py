"""Find the project's interpreter and the tools installed in it.

Tools run as ``<python> -m <tool>`` in the project's environment: the active virtualenv, the
repository's ``.venv``, or the ``python`` the config names. A tool that only the gate's own
environment has (say gatekeeper was installed by pre-commit into an isolated venv) may run
from there when its stage allows it; tests and builds always need the project's interpreter.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import GatekeeperError
from gatekeeper.process import ProcessTimeout, run_process

_PROBE = """
import importlib.util, importlib.metadata, json, os, sys
# `-c` puts the working directory first: a `pytest.py` there is not the tool.
sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]
out = {"python": sys.version.split()[0], "tools": {}}
for mod, dist in json.loads(sys.argv[1]).items():
    try:
        found = importlib.util.find_spec(mod) is not None
    except Exception:
        found = False
    version = None
    if found:
        try:
            version = importlib.metadata.version(dist)
        except Exception:
            version = "unknown"
    out["tools"][mod] = version
print(json.dumps(out))
"""


def _bin(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def project_python(root: Path, configured: str | None = None) -> Path:
    """The interpreter whose environment holds the project and its tools.

    A relative ``configured`` path and ``.venv`` are looked up in ``root`` and then in the
    repository's main worktree, so a linked worktree (or the push gate's snapshot of a
    commit) uses the project's environment.
    """
    if configured:
        return _configured(root, configured)
    own_venv = Path(sys.prefix).resolve()
    active = os.environ.get("VIRTUAL_ENV")
    if active and Path(active).resolve() != own_venv and _bin(Path(active)).exists():
        return _bin(Path(active))
    if active:
        # VIRTUAL_ENV is our own env: a runner such as pre-commit put us there and hid the
        # user's activated venv, which is still on PATH behind ours.
        shadowed = _venv_on_path(own_venv)
        if shadowed is not None:
            return shadowed
    for place in _roots(root):
        if _bin(place / ".venv").exists():
            return _bin(place / ".venv")
    if active and _bin(Path(active)).exists():
        return _bin(Path(active))
    return Path(sys.executable)


def _configured(root: Path, configured: str) -> Path:
    path = Path(configured).expanduser()
    candidates = [path] if path.is_absolute() else [place / path for place in _roots(root)]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise GatekeeperError(
        f"configured python {configured!r} does not exist",
        "fix `python` in the gatekeeper config or create the virtualenv",
    )


def _roots(root: Path) -> list[Path]:
    """``root``, then the main worktree when ``root`` is a linked worktree of it."""
    if (root / ".git").is_dir() or not (root / ".git").exists():
        return [root]
    from gatekeeper import git

    common = git.git(
        root, "rev-parse", "--path-format=absolute", "--git-common-dir", check=False
    ).strip()
    main = Path(common).parent if common and Path(common).name == ".git" else None
    return [root, main] if main is not None and main != root else [root]


def repository_dirs(root: Path) -> list[Path]:
    """The checkouts of ``root``'s repository that an editable install may point into."""
    return _roots(root)


def _venv_on_path(own_venv: Path) -> Path | None:
    """The first virtualenv on PATH that is not ``own_venv``."""
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not entry:
            continue
        venv = Path(entry).parent
        is_venv = (venv / "pyvenv.cfg").is_file() and _bin(venv).exists()
        if is_venv and venv.resolve() != own_venv:
            return _bin(venv)
    return None


@dataclass(frozen=True)
class Probe:
    """What one interpreter has: its version and the version of each tool (None: missing)."""

    python: Path
    python_version: str
    tools: dict[str, str | None]


_probes: dict[tuple[str, tuple[tuple[str, str], ...]], Probe] = {}


def probe(python: Path, tools: Iterable[tuple[str, str]], cache: Path | None = None) -> Probe:
    """Ask ``python`` which of ``tools`` (module, distribution) it can import, in one process.

    With ``cache`` (the state dir) the answer is kept on disk until the interpreter or its
    installed packages change (see :func:`~gatekeeper.hashing.interpreter_stamp`), so a run
    with nothing to do starts no interpreter.
    """
    wanted = tuple(sorted(set(tools)))
    key = (str(python), wanted)
    if key in _probes:
        return _probes[key]
    stored = _probe_file(cache, python, wanted) if cache else None
    stamp = _probe_stamp(python)
    result = _load_probe(stored, python, stamp) if stored else None
    if result is None:
        result = _run_probe(python, wanted)
        if stored:
            _store_probe(stored, stamp, result)
    _probes[key] = result
    return result


def _run_probe(python: Path, wanted: tuple[tuple[str, str], ...]) -> Probe:
    try:
        done = run_process(
            [str(python), "-c", _PROBE, json.dumps(dict(wanted))],
            cwd=Path.cwd(),
            timeout=60,
        )
    except (OSError, ProcessTimeout) as exc:
        raise GatekeeperError(
            f"cannot run the project interpreter {python}: {exc}",
            "set `python` in the gatekeeper config to a working interpreter",
        ) from None
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise GatekeeperError(
            f"the project interpreter {python} did not answer the tool probe: {done.output[-300:]}",
            "check that it is a Python 3 interpreter",
        ) from None
    return Probe(python, str(data["python"]), dict(data["tools"]))


def _probe_file(state: Path, python: Path, wanted: tuple[tuple[str, str], ...]) -> Path:
    name = hashlib.sha256(json.dumps([str(python), wanted]).encode()).hexdigest()[:32]
    return state / "cache" / "probe" / f"{name}.json"


def _probe_stamp(python: Path) -> str:
    from gatekeeper.hashing import interpreter_stamp

    # What the interpreter can import also depends on these.
    extra = [os.environ.get(k, "") for k in ("PYTHONPATH", "PYTHONHOME", "PYTHONNOUSERSITE")]
    return f"{interpreter_stamp(python)}:{extra}"


def _load_probe(path: Path, python: Path, stamp: str) -> Probe | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["stamp"] != stamp:
            return None
        return Probe(python, str(data["python_version"]), dict(data["tools"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or damaged: probe again


def _store_probe(path: Path, stamp: str, result: Probe) -> None:
    entry = {"stamp": stamp, "python_version": result.python_version, "tools": result.tools}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()  # only the next run's speed is lost
