"""A project's own virtualenv with a real ``pip install -e .``, for the named-tree tests.

The venv borrows this interpreter's packages (pytest, pip, setuptools, the tools) through a
``.pth`` file, so no network is needed; the editable install itself is pip's own.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path


def project_venv(repo: Path, env: dict[str, str]) -> Path:
    """``repo/.venv`` (no pip of its own) seeing this interpreter's packages; its python."""
    venv = repo / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python3*/site-packages"))
    ours = sysconfig.get_paths()["purelib"]
    (site / "borrowed-tools.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return venv / "bin" / "python"


PIP_INSTALL = ("-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation")


def pip_install_editable(python: Path, project: Path, env: dict[str, str]) -> None:
    """``pip install -e project`` into ``python``'s environment, for real (no network)."""
    done = subprocess.run(
        [str(python), *PIP_INSTALL, "-e", str(project)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
