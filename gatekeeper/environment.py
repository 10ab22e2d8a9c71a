"""Find the project's interpreter and the tools installed in it.

Tools run as ``<python> -m <tool>`` in the project's environment: the active virtualenv, the
repository's ``.venv``, or the ``python`` the config names. A tool that only the gate's own
environment has (say gatekeeper was installed by pre-commit into an isolated venv) may run
from there when its stage allows it; tests and builds always need the project's interpreter.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.errors import GatekeeperError
from gatekeeper.process import ProcessTimeout, run_process

_PROBE = """
import importlib.util, importlib.metadata, json, sys
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
    """The interpreter whose environment holds the project and its tools."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_absolute():
            path = root / path
        if not path.exists():
            raise GatekeeperError(
                f"configured python {configured!r} does not exist",
                "fix `python` in the gatekeeper config or create the virtualenv",
            )
        return path
    own_venv = Path(sys.prefix)
    active = os.environ.get("VIRTUAL_ENV")
    if active and Path(active).resolve() != own_venv.resolve() and _bin(Path(active)).exists():
        return _bin(Path(active))
    local = _bin(root / ".venv")
    if local.exists():
        return local
    if active and _bin(Path(active)).exists():
        return _bin(Path(active))
    return Path(sys.executable)


@dataclass(frozen=True)
class Probe:
    """What one interpreter has: its version and the version of each tool (None: missing)."""

    python: Path
    python_version: str
    tools: dict[str, str | None]


_probes: dict[tuple[str, tuple[tuple[str, str], ...]], Probe] = {}


def probe(python: Path, tools: Iterable[tuple[str, str]]) -> Probe:
    """Ask ``python`` which of ``tools`` (module, distribution) it can import, in one process."""
    wanted = tuple(sorted(set(tools)))
    key = (str(python), wanted)
    if key in _probes:
        return _probes[key]
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
    result = Probe(python, str(data["python"]), dict(data["tools"]))
    _probes[key] = result
    return result
