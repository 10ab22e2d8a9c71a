"""Fill a snapshot's submodules from the objects already on this machine, never the network.

``git worktree add`` leaves each submodule of the commit as an empty directory, so a stage
would check the commit without the code it pins (and blame correct code for missing imports).
Each submodule is cloned from the repository's own copy of it — the checkout in the main
worktree, or git's ``modules/`` store — sharing its objects, and its pinned commit is checked
out, recursively. A pinned commit that is not available locally stops the check naming the
submodule: the push is blocked rather than checked without it.
"""

from __future__ import annotations

from pathlib import Path

from gatekeeper import git
from gatekeeper.errors import GatekeeperError

#: Submodules of submodules are followed this deep.
MAX_DEPTH = 8
_NO_HOOKS = ("-c", "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false")


def gitlinks(tree: Path) -> list[tuple[str, str]]:
    """``(path, commit)`` of each submodule recorded in ``tree``'s index."""
    out = git.git(tree, "ls-files", "--stage", "-z")
    links = []
    for entry in filter(None, out.split("\0")):
        meta, _, path = entry.partition("\t")
        mode, sha, _stage = meta.split(" ")
        if mode == "160000":
            links.append((path, sha))
    return links


def _names(tree: Path) -> dict[str, str]:
    """Submodule path -> name, from the snapshot's ``.gitmodules``."""
    if not (tree / ".gitmodules").is_file():
        return {}
    out = git.git(
        tree, "config", "-f", ".gitmodules", "--get-regexp", r"^submodule\..*\.path$", check=False
    )
    names = {}
    for line in out.splitlines():
        key, _, path = line.partition(" ")
        names[path] = key[len("submodule.") : -len(".path")]
    return names


def _has(source: Path, sha: str) -> bool:
    # A checkout (``.git`` in it) or git's store of the module (a bare layout, HEAD in it);
    # an empty directory would make git answer for the superproject instead.
    if not ((source / ".git").exists() or (source / "HEAD").is_file()):
        return False
    found = git.git(source, "rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}", check=False)
    return found.strip() == sha


def _sources(source_root: Path, path: str, name: str | None) -> list[Path]:
    """Where this machine may hold the submodule's objects: its checkout, then git's store."""
    found = [source_root / path]
    common = git.git(
        source_root, "rev-parse", "--path-format=absolute", "--git-common-dir", check=False
    ).strip()
    if common:
        found += [Path(common) / "modules" / (name or path), Path(common) / "modules" / path]
    return found


def populate(tree: Path, source_root: Path, depth: int = 0) -> None:
    """Check out every submodule of ``tree`` at its pinned commit, from ``source_root``'s copy.

    :raises GatekeeperError: a pinned commit is not available locally, or nesting is deeper
        than :data:`MAX_DEPTH`.
    """
    links = gitlinks(tree)
    if not links:
        return
    if depth >= MAX_DEPTH:
        raise GatekeeperError(
            f"submodules nested more than {MAX_DEPTH} deep in {tree}",
            "flatten the submodules, or push with --no-verify at your own risk",
        )
    names = _names(tree)
    for path, sha in links:
        places = _sources(source_root, path, names.get(path))
        source = next((s for s in places if _has(s, sha)), None)
        if source is None:
            raise GatekeeperError(
                f"submodule {path} is pinned at {sha[:12]}, which is not available locally: "
                "the commit cannot be checked without it",
                "run `git submodule update --init --recursive` (or fetch that commit in the "
                "submodule) and push again",
            )
        target = tree / path
        clone = ("clone", "--quiet", "--no-checkout", "--shared", str(source), str(target))
        git.git(tree, *_NO_HOOKS, *clone)
        git.git(target, *_NO_HOOKS, "checkout", "--quiet", "--detach", sha)
        populate(target, source, depth + 1)
