"""The stages' results at the base of a change, run once per base and shared.

The base commit is checked out as a snapshot (a detached ``git worktree``, as the push gate
does, see :mod:`gatekeeper.push.snapshot`) and the stages run over its whole tree. Only the
stages that have something to compare are asked for (a stage with no findings now needs no
base). Each stage's result is stored under the state directory keyed by the base's *tree*,
the stage, and everything else that can change it (tool versions, the interpreters and their
installed packages, gatekeeper's version, the tool-steering environment variables), so a
base is paid for once per stage and reused by every later run, branch, worktree and agent
that starts from it. A stage that could not run at the base is not stored: the next run
tries again (and meanwhile nothing of that stage counts as existing).

The snapshot's own code must be what its tests import, not the working tree's (an editable
install points at the main checkout): its ``src/`` and root go first on ``PYTHONPATH``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gatekeeper
from gatekeeper import git
from gatekeeper.cache import _tool_environment
from gatekeeper.errors import GatekeeperError
from gatekeeper.hashing import interpreter_stamp
from gatekeeper.models import StageResult
from gatekeeper.userstate import seal, unseal

if TYPE_CHECKING:
    from gatekeeper.gate import GateRequest, Plan
    from gatekeeper.plugins import PluginSet

BASES = "bases"
FORMAT = 1


@dataclass(frozen=True)
class BaseRun:
    """How to run the base for one gate run: the head's plan and request say which stages."""

    root: Path
    state: Path
    request: GateRequest
    plan: Plan
    plugins: PluginSet

    def comparable(self, name: str) -> bool:
        """Whether a stage's findings can be compared with the base (change judges cannot)."""
        reg = self.plan.registered.get(name)
        return reg is not None and not reg.stage.judges_change

    def key(self, tree: str, stage: str, project: str = "") -> str:
        """What identifies the base's results (see the module docstring)."""
        ctx = self.plan.contexts.get(stage)
        pythons = sorted({str(ctx.python), str(ctx.project_python)}) if ctx else []
        # The same tool-steering variables the result cache keys on.
        steering = _tool_environment()
        parts = {
            "format": FORMAT,
            "tree": tree,
            "gatekeeper": gatekeeper.__version__,
            "stage": stage,
            "project": project,  # a repository holding several projects: which one
            "tools": dict(sorted(self.plan.tools.items())),
            "pythons": [interpreter_stamp(Path(p)) for p in pythons],
            "env": dict(sorted(steering.items())),
        }
        blob = json.dumps(parts, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]

    def __call__(self, ref: str, wanted: Iterable[str]) -> tuple[Mapping[str, StageResult], bool]:
        """The base's results of the ``wanted`` stages by name; True when all were stored."""
        tree = git.git(self.root, "rev-parse", f"{ref}^{{tree}}").strip()
        project = self._inside().as_posix()
        names = [n for n in wanted if self.comparable(n)]
        paths = {n: self.state / BASES / f"{self.key(tree, n, project)}.json" for n in names}
        results = {n: r for n, p in paths.items() if (r := _read(p, n)) is not None}
        missing = [n for n in names if n not in results]
        if not missing:
            return results, True
        for name, result in self._run(_as_commit(self.root, ref), missing).items():
            results[name] = result
            if result.status in ("passed", "failed"):
                _write(paths[name], result)
        return results, False

    def _inside(self) -> Path:
        """The project's directory relative to the repository's top (``.`` for the top)."""
        return self.root.resolve().relative_to(git.repo_root(self.root).resolve())

    def _run(self, commit: str, names: list[str]) -> dict[str, StageResult]:
        from gatekeeper.gate import GateRequest, run_gate
        from gatekeeper.push import snapshot

        top = git.repo_root(self.root)
        # The same project of a repository holding several: its directory in the snapshot.
        inside = self._inside()
        with snapshot.tree_of(top, commit) as tree:
            project = tree / inside
            if not project.is_dir():
                raise GatekeeperError(f"{inside.as_posix()} does not exist at the base")
            request = GateRequest(
                root=project,
                only=tuple(names),
                trigger="base",
                mode="all",
                use_cache=self.request.use_cache,
                jobs=self.request.jobs,
                state=self.state,
                record=False,
                use_baseline=False,
                env=_import_first(project),
            )
            run = run_gate(request, self.plugins)
        return {s.name: s for s in run.stages if s.name in names}


def _import_first(tree: Path) -> dict[str, str]:
    """``PYTHONPATH`` that makes the snapshot's code win over an editable install."""
    places = [str(tree / "src")] if (tree / "src").is_dir() else []
    places.append(str(tree))
    inherited = os.environ.get("PYTHONPATH")
    if inherited:
        places.append(inherited)
    return {"PYTHONPATH": os.pathsep.join(places)}


def _as_commit(root: Path, ref: str) -> str:
    """A commit for ``ref``; a bare tree (the loop's starting tree) gets a parentless one."""
    kind = git.git(root, "cat-file", "-t", ref).strip()
    if kind == "commit":
        return git.git(root, "rev-parse", f"{ref}^{{commit}}").strip()
    # Fixed identity and date: the same tree always gives the same commit.
    env = {
        "GIT_AUTHOR_NAME": "gatekeeper",
        "GIT_AUTHOR_EMAIL": "gatekeeper@localhost",
        "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+0000",
        "GIT_COMMITTER_NAME": "gatekeeper",
        "GIT_COMMITTER_EMAIL": "gatekeeper@localhost",
        "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+0000",
    }
    return git.git(
        root, "commit-tree", ref, "-m", "gatekeeper: base of the change", env=env
    ).strip()


def _read(path: Path, name: str) -> StageResult | None:
    """A stored result, or None when absent, unreadable or not signed by this user's gate
    (then the base runs again).

    Entries are signed like the result cache's (:mod:`gatekeeper.userstate`): a base result
    decides which findings are ``existing`` and so do not block, and ``.gatekeeper/`` is
    writable by the change under check. A forged entry (a new finding planted at the base)
    does not verify, and neither does a genuine entry copied under another key.
    """
    try:
        data: Any = unseal(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        if data.get("key") != path.stem:
            return None
        result = StageResult.from_json(data["stage"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return result if result.name == name else None


def _write(path: Path, result: StageResult) -> None:
    """Store atomically (temp file + rename); a failure to store only costs a re-run."""
    data = {"format": FORMAT, "key": path.stem, "stage": result.to_json()}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(seal(data))
        os.replace(tmp, path)
    except OSError:
        return
