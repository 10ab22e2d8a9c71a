"""The native pre-push hook file: where it goes, what it says, and whether it is ours.

The script fails closed: when the interpreter it was installed with, or gatekeeper in it, is
gone, it blocks the push and says how to fix it or bypass the gate (``git push --no-verify``).
"""

from __future__ import annotations

import os
import shlex
import stat
import tempfile
from pathlib import Path

from gatekeeper import git

HOOK = "pre-push"
MARKER = "# gatekeeper-managed-hook v1"
CHAINED_SUFFIX = ".gatekeeper-chained"
REPLACED_SUFFIX = ".gatekeeper-replaced"

_TEMPLATE = """\
#!/bin/sh
{marker}
# Installed by `gatekeeper install`; `gatekeeper uninstall` removes it. Do not edit: a
# reinstall overwrites this file. It runs the gate on every commit being pushed.
python={python}
chained={chained}
# `python -m gatekeeper` would put the repository root first on the path, where a
# `gatekeeper.py` of the pushed code could stand in for the gate: start it without that.
safe='import runpy, sys; sys.path[:] = [p for p in sys.path if p not in ("", ".")]'
start="$safe; runpy.run_module('gatekeeper', run_name='__main__', alter_sys=True)"
blocked() {{
    echo "gatekeeper: $1" >&2
    echo "gatekeeper: the push is blocked because it could not be checked." >&2
    echo "gatekeeper: fix: $2" >&2
    echo "gatekeeper: to push without the gate (not recommended): git push --no-verify" >&2
    exit 1
}}
[ -x "$python" ] || blocked "the interpreter $python is missing" \\
    "reinstall gatekeeper, then run 'gatekeeper install --force' in this repository"
"$python" -c "$safe; import gatekeeper.hooks.pre_push" 2>/dev/null || blocked \\
    "gatekeeper cannot be imported by $python" \\
    "run '$python -m pip install gatekeeper-gate', or run 'gatekeeper install --force' \\
from the environment that has gatekeeper"
if [ -z "$chained" ]; then
    exec "$python" -c "$start" hook pre-push "$@"
fi
# Chained: the hook that was here before runs first, with the same arguments and input.
refs=$(cat)
"$chained" "$@" <<GATEKEEPER_REFS || exit $?
$refs
GATEKEEPER_REFS
exec "$python" -c "$start" hook pre-push "$@" <<GATEKEEPER_REFS
$refs
GATEKEEPER_REFS
"""


def hooks_dir(root: Path) -> Path:
    """The directory git runs hooks from: honours ``core.hooksPath`` and linked worktrees."""
    out = git.git(root, "rev-parse", "--path-format=absolute", "--git-path", "hooks")
    return Path(out.strip())


def render(python: str, chained: Path | None) -> str:
    """The hook script for ``python``, optionally running ``chained`` first."""
    return _TEMPLATE.format(
        marker=MARKER,
        python=shlex.quote(python),
        chained=shlex.quote(str(chained)) if chained else "''",
    )


def is_ours(path: Path) -> bool:
    """True when ``path`` is a hook gatekeeper wrote."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            head = handle.read(400)
    except OSError:
        return False
    return MARKER in head


def is_chaining(path: Path) -> bool:
    """True when our hook at ``path`` runs a previous hook first."""
    return (path.parent / (path.name + CHAINED_SUFFIX)).exists()


def write_executable(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, executable by everyone who can read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        mode = stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
