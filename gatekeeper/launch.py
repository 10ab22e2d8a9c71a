"""Start a Python tool so that it is the tool, and the code it checks is the checked tree's.

``python -m pytest`` puts the working directory first on ``sys.path``, so a ``pytest.py`` (or
``mypy.py``, ``ruff.py``, ``radon.py``, ``build.py``, the reporter plugin's module) in the
repository root would run instead of the tool. And a project installed with ``pip install -e``
resolves its packages to the checkout it was installed from, so the tests of a snapshot or a
linked worktree would import the main worktree's code.

Every tool therefore starts through :data:`BOOTSTRAP` (``python -c``, which works on any
Python 3, unlike ``-P``/``PYTHONSAFEPATH`` from 3.11 on): the working directory is dropped
from the path, the tool is imported, and only then do the checked tree's package roots go
first on the path (behind the stage's own plugin directories), the way ``python -m`` would have
put the working directory there. Before the tool runs, every
package the tree owns (its discovered packages, and every editable install pointing into the
repository) must resolve inside the tree; otherwise the tool does not run and the stage is an
error naming the install that points elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

#: The exit code of a bootstrap that refused to run the tool; its reason is on stderr.
STRAY_EXIT = 86
STRAY_MARK = "gatekeeper-launch: "

# Runs in the project's interpreter, which may be any Python 3 without gatekeeper: standard
# library only, no syntax newer than 3.8.
BOOTSTRAP = r"""
import importlib.util, json, os, runpy, sys
spec = json.loads(sys.argv[1])
cut = set(["", ".", os.getcwd()] + spec["roots"])
sys.path[:] = [p for p in sys.path if p not in cut]
for name in spec["preload"]:
    __import__(name)
sys.path[0:0] = spec["ahead"] + spec["roots"]

def _inside(path, tree):
    real = os.path.realpath(path)
    return real == tree or real.startswith(tree + os.sep)

def _editables(places):
    found = {}
    try:
        import importlib.metadata as md
    except ImportError:
        return found
    for dist in md.distributions():
        try:
            info = json.loads(dist.read_text("direct_url.json") or "{}")
        except Exception:
            continue
        if not (info.get("dir_info") or {}).get("editable"):
            continue
        url = str(info.get("url", ""))
        where = url[7:] if url.startswith("file://") else url
        if not any(_inside(where, p) for p in places):
            continue
        names = (dist.read_text("top_level.txt") or "").split()
        name = dist.metadata["Name"]
        for top in names or [name.replace("-", "_")]:
            found[top] = "%s (pip install -e %s)" % (name, where)
    return found

def _where(name):
    try:
        found = importlib.util.find_spec(name)
    except Exception:
        return None
    if found is None:
        return None
    if found.origin and found.origin not in ("namespace", "built-in", "frozen"):
        return found.origin
    places = list(found.submodule_search_locations or [])
    return places[0] if places else None

if spec["owned"] is not None:
    tree = os.path.realpath(spec["tree"])
    owned = dict((n, None) for n in spec["owned"])
    owned.update(_editables([tree] + [os.path.realpath(p) for p in spec["repo"]]))
    for name, install in sorted(owned.items()):
        where = _where(name)
        if where and not _inside(where, tree):
            how = "the editable install " + install if install else "the environment"
            sys.stderr.write(
                "%s`import %s` resolves to %s, outside the checked tree %s, through %s\n"
                % (spec["mark"], name, where, tree, how)
            )
            sys.exit(spec["exit"])
sys.argv = [spec["module"]] + sys.argv[2:]
runpy.run_module(spec["module"], run_name="__main__", alter_sys=True)
"""


def module_argv(
    python: Path | str,
    module: str,
    args: Sequence[str],
    *,
    roots: Sequence[Path | str] = (),
    ahead: Sequence[Path | str] = (),
    owned: Sequence[str] | None = None,
    tree: Path | str | None = None,
    repo: Sequence[Path | str] = (),
) -> list[str]:
    """The command line that runs ``python -m module args`` without the working directory
    on the path.

    :param roots: directories put first on ``sys.path`` once the tool is imported (the
        checked tree's package roots), so the code the tool imports is the tree's. They are
        taken off the path (also when ``PYTHONPATH`` has them) until then.
    :param ahead: directories kept ahead of ``roots`` (a stage's own plugins, such as the
        pytest reporter, which a module of the tree must not replace either). Importing such
        a plugin early instead would trip pytest's "already imported" warning, an error
        under ``filterwarnings = error``.
    :param owned: top-level names that must resolve inside ``tree`` (None: no check); every
        editable install pointing into ``tree`` or one of ``repo`` is checked too. A name that
        resolves elsewhere stops the bootstrap with :data:`STRAY_EXIT` and a line on stderr
        starting with :data:`STRAY_MARK`.
    """
    spec = {
        "module": module,
        "preload": [module.split(".")[0]],
        "roots": [str(r) for r in roots],
        "ahead": [str(a) for a in ahead],
        "owned": list(owned) if owned is not None else None,
        "tree": str(tree or "."),
        "repo": [str(r) for r in repo],
        "mark": STRAY_MARK,
        "exit": STRAY_EXIT,
    }
    return [str(python), "-c", BOOTSTRAP, json.dumps(spec), *args]


def stray(returncode: int, stderr: str) -> str | None:
    """Why the bootstrap refused to start the tool, or None when it did start it."""
    if returncode != STRAY_EXIT:
        return None
    for line in stderr.splitlines():
        if line.startswith(STRAY_MARK):
            return line[len(STRAY_MARK) :]
    return None


def package_roots(root: Path, packages: Sequence[str]) -> list[Path]:
    """The directories that hold the tree's top-level packages (``src/`` first), then the root.

    ``python -m`` would have put the working directory (the root) on the path; it stays,
    after the package directories, so a flat layout imports as the project's own runs do.
    """
    parents = sorted({str(Path(p).parent) for p in packages} - {"."})
    return [*(root / p for p in parents), root]


def top_names(packages: Sequence[str]) -> list[str]:
    """The importable top-level names of a layout's packages (``src/calc`` -> ``calc``).

    Top-level modules are left out: a ``pytest.py`` in the root is the tree's file, not the
    tool, and the tool is imported before the root goes on the path.
    """
    return sorted({Path(p).name for p in packages})
