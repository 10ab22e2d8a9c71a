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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
# What the interpreter brings before any tool runs: code in .pth files and *customize modules
# may set the variables that steer the tools; the gate records them and refuses those.
import hashlib, site
given = json.loads(sys.argv[2])
prefixes = tuple(json.loads(sys.argv[3]))
now = dict((k, v) for k, v in os.environ.items() if k.startswith(prefixes))
out["set_at_startup"] = dict(
    (k, now.get(k)) for k in sorted(set(now) | set(given)) if now.get(k) != given.get(k)
)
dirs = list(getattr(site, "getsitepackages", lambda: [])())
if site.ENABLE_USER_SITE:
    dirs.append(site.getusersitepackages())
files = {}
def _sha(path):
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()[:16]
    except OSError:
        return "unreadable"
for d in dirs:
    try:
        names = sorted(os.listdir(d))
    except OSError:
        continue
    for name in names:
        if name.endswith(".pth"):
            files[os.path.join(d, name)] = _sha(os.path.join(d, name))
for name in ("sitecustomize", "usercustomize"):
    origin = getattr(sys.modules.get(name), "__file__", None)
    if origin:
        files[origin] = _sha(origin)
out["startup_files"] = files
print(json.dumps(out))
"""

#: Prefixes of the environment variables that steer Python tools (import path, plugins,
#: options): set by the interpreter's own start-up, they would decide what the tools do.
STEERING_PREFIXES = ("PYTHON", "PYTEST_", "MYPY", "RUFF_")


def steering_env() -> dict[str, str]:
    """The variables of this process that steer Python tools."""
    return {k: v for k, v in os.environ.items() if k.startswith(STEERING_PREFIXES)}


def _bin(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def env_skips() -> tuple[str, ...]:
    """Stages named in ``GATEKEEPER_SKIP`` (comma separated)."""
    raw = os.environ.get("GATEKEEPER_SKIP", "")
    return tuple(s.strip() for s in raw.split(",") if s.strip())


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
    """What one interpreter has: its version and the version of each tool (None: missing).

    :ivar set_at_startup: steering variables (:data:`STEERING_PREFIXES`) whose value the
        interpreter's start-up changed (None: removed), e.g. a ``.pth`` setting
        ``PYTEST_ADDOPTS``.
    :ivar startup_files: the ``.pth`` files of its site directories and its
        ``sitecustomize`` / ``usercustomize`` modules, each with a short content hash.
    """

    python: Path
    python_version: str
    tools: dict[str, str | None]
    set_at_startup: dict[str, str | None] = field(default_factory=dict)
    startup_files: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The environment as the run report and the ledger keep it."""
        return {
            "python": str(self.python),
            "version": self.python_version,
            "startup_files": dict(sorted(self.startup_files.items())),
            "set_at_startup": dict(sorted(self.set_at_startup.items())),
        }


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
        argv = [str(python), "-c", _PROBE, json.dumps(dict(wanted)), json.dumps(steering_env())]
        done = run_process(
            [*argv, json.dumps(STEERING_PREFIXES)],
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
    return _from_json(python, data)


def _from_json(python: Path, data: dict[str, Any]) -> Probe:
    return Probe(
        python,
        str(data["python"]),
        dict(data["tools"]),
        dict(data.get("set_at_startup") or {}),
        dict(data.get("startup_files") or {}),
    )


def _probe_file(state: Path, python: Path, wanted: tuple[tuple[str, str], ...]) -> Path:
    name = hashlib.sha256(json.dumps([str(python), wanted]).encode()).hexdigest()[:32]
    return state / "cache" / "probe" / f"{name}.json"


def _probe_stamp(python: Path) -> str:
    from gatekeeper.hashing import interpreter_stamp

    # What the interpreter can import, and what its start-up changes, depend on these too.
    return f"{interpreter_stamp(python)}:{json.dumps(steering_env(), sort_keys=True)}"


def _load_probe(path: Path, python: Path, stamp: str) -> Probe | None:
    from gatekeeper.userstate import unseal

    try:
        # Signed: the state dir is inside the repository, where the change could write a
        # probe that hides a start-up file or claims a tool.
        data = unseal(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data["stamp"] != stamp:
            return None
        return _from_json(python, data["probe"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or damaged: probe again


def _store_probe(path: Path, stamp: str, result: Probe) -> None:
    from gatekeeper.userstate import seal

    probe_json = {
        "python": result.python_version,
        "tools": result.tools,
        "set_at_startup": result.set_at_startup,
        "startup_files": result.startup_files,
    }
    entry = seal({"stamp": stamp, "probe": probe_json})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(entry, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()  # only the next run's speed is lost


def remember(record: dict[str, Any]) -> list[str]:
    """What changed in an interpreter's environment since the last run with it.

    The last record of each interpreter is kept in the user's state directory, outside the
    repository. Each change is a line: ``+ path`` (a new start-up file), ``- path`` (gone),
    ``~ path`` (its content changed), ``$ NAME`` (a variable its start-up sets changed).
    The first run with an interpreter reports nothing.
    """
    from gatekeeper.userstate import user_state_dir

    if not record:
        return []
    name = hashlib.sha256(str(record.get("python")).encode()).hexdigest()[:32]
    path = user_state_dir() / "environments" / f"{name}.json"
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = None
    changes = _changes(old, record) if isinstance(old, dict) else []
    if old != record:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(record, sort_keys=True), encoding="utf-8")
            os.replace(tmp, path)
    return changes


def _changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    before, after = dict(old.get("startup_files") or {}), dict(new.get("startup_files") or {})
    lines = [f"+ {p}" for p in sorted(set(after) - set(before))]
    lines += [f"- {p}" for p in sorted(set(before) - set(after))]
    lines += [f"~ {p}" for p in sorted(set(before) & set(after)) if before[p] != after[p]]
    was, now = dict(old.get("set_at_startup") or {}), dict(new.get("set_at_startup") or {})
    lines += [f"$ {k}" for k in sorted(set(was) | set(now)) if was.get(k) != now.get(k)]
    if old.get("version") != new.get("version"):
        lines.append(f"python {old.get('version')} -> {new.get('version')}")
    return lines
